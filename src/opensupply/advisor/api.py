"""The advisor under /api/v1/advisor/: recommend from a questionnaire (answers schema of ARCHITECTURE.md §4),
findings from the company's own numbers, apply a recommendation; module switching under
/api/v1/admin/modules."""

from __future__ import annotations

from fastapi import APIRouter, Body, Depends
from pydantic import BaseModel

from opensupply.core import modules
from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import evidence, service

router = APIRouter(tags=["advisor"])
USE = Depends(require("advisor.use"))
ADMIN = Depends(require("admin.modules"))


class SwitchIn(BaseModel):
    enabled: bool


@router.post("/advisor/recommend", summary="Stage, modules with reasons and what comes next, for the answers")
def recommend(answers: dict = Body(...), actor: Actor = USE) -> dict:
    return service.recommend(answers)


@router.get("/advisor/evidence", summary="What the company's own numbers say would pay off next")
def findings(days: int = 90, actor: Actor = USE) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return evidence.findings(uow, max(7, min(days, 365)))


@router.post("/advisor/apply", summary="Switch on exactly the recommended modules")
def apply(answers: dict = Body(...), actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return service.apply_recommendation(uow, answers)


@router.get("/admin/modules", summary="Business modules and whether they are on for this company")
def list_modules(actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = modules.module_states(uow)
        return {"items": items, "total": len(items)}


@router.put("/admin/modules/{name}", summary="Switch one module on or off")
def switch(name: str, body: SwitchIn, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        modules.set_module(uow, name, body.enabled)
        uow.flush()
        return next(m for m in modules.module_states(uow) if m["name"] == name)
