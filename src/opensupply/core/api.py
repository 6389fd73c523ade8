"""Core endpoints: health, tokens, the current user, jobs, audit."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from . import audit, jobs
from .auth import login
from .errors import NotAuthenticated
from .http import api_actor, client_ip, require
from .i18n import _
from .uow import Actor, UnitOfWork

public_router = APIRouter()
router = APIRouter()


@public_router.get("/health", tags=["core"])
def health() -> dict:
    return {"status": "ok"}


class TokenIn(BaseModel):
    username: str = Field(max_length=80)
    password: str = Field(max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: str


@public_router.post("/api/v1/auth/token", response_model=TokenOut, tags=["core"])
def issue_token(body: TokenIn, request: Request):
    with UnitOfWork(Actor.system()) as uow:
        result = login(uow, body.username, body.password, kind="api", ip=client_ip(request))
        out = None if result is None else {"access_token": result.token, "token_type": "bearer",
                                           "expires_at": result.session.expires_at.isoformat()}
    if out is None:  # the failed attempt is committed above, so it counts towards the lockout
        raise NotAuthenticated(_("用户名或密码错误"), code="bad_credentials")
    return out


@router.get("/me", tags=["core"])
def me(actor: Actor = Depends(api_actor)) -> dict:
    return {"id": actor.user_id, "username": actor.username, "company_id": actor.company_id,
            "company_ids": sorted(actor.company_ids), "permissions": sorted(actor.permissions),
            "is_superuser": actor.is_superuser, "locale": actor.locale}


def job_dict(j: jobs.Job) -> dict:
    return {"id": j.id, "kind": j.kind, "status": j.status, "progress": j.progress, "message": j.message,
            "result": j.result, "error": j.error if j.status == jobs.FAILED else None,
            "created_at": j.created_at.isoformat() if j.created_at else None,
            "started_at": j.started_at.isoformat() if j.started_at else None,
            "finished_at": j.finished_at.isoformat() if j.finished_at else None}


@router.get("/jobs", tags=["core"])
def list_jobs(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
              actor: Actor = Depends(require("core.jobs"))) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        base = select(jobs.Job).where(jobs.Job.company_id == uow.company_id)
        total = uow.session.scalar(select(func.count()).select_from(base.subquery()))
        rows = uow.session.scalars(base.order_by(jobs.Job.id.desc()).limit(limit).offset(offset))
        return {"items": [job_dict(j) for j in rows], "total": total}


@router.get("/jobs/{job_id}", tags=["core"])
def get_job(job_id: int, actor: Actor = Depends(require("core.jobs"))) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return job_dict(uow.get(jobs.Job, job_id))


@router.post("/jobs/{job_id}/cancel", tags=["core"])
def cancel_job(job_id: int, actor: Actor = Depends(require("core.jobs"))) -> dict:
    with UnitOfWork(actor) as uow:
        return job_dict(jobs.cancel(uow, job_id))


@router.get("/audit", tags=["core"])
def list_audit(entity: str | None = None, entity_id: str | None = None, username: str | None = None,
               limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
               actor: Actor = Depends(require("admin.audit"))) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        stmt = select(audit.AuditLog).where(audit.AuditLog.company_id == uow.company_id)
        if entity:
            stmt = stmt.where(audit.AuditLog.entity == entity)
        if entity_id:
            stmt = stmt.where(audit.AuditLog.entity_id == entity_id)
        if username:
            stmt = stmt.where(audit.AuditLog.username == username)
        total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = uow.session.scalars(stmt.order_by(audit.AuditLog.id.desc()).limit(limit).offset(offset))
        return {"items": [{"id": a.id, "at": a.at.isoformat(), "username": a.username, "ip": a.ip,
                           "action": a.action, "entity": a.entity, "entity_id": a.entity_id,
                           "before": a.before, "after": a.after} for a in rows], "total": total}
