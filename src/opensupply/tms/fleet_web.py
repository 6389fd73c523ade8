"""Fleet pages under /tms/fleet: depots, vehicles and drivers (tabs) — search, pagination, XLSX/CSV export,
a new-record form and one record's edit form. Thin: the `tms.fleet` service."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import fleet

router = APIRouter(prefix="/tms", include_in_schema=False)
ADMIN = Depends(page_permission("tms.admin"))
PAGE_SIZE = 50
TABS = (("depots", "站点"), ("vehicles", "车辆"), ("drivers", "司机"))


def _kind(value: str | None) -> str:
    return value if value in fleet.KINDS else "vehicles"


def _fields(kind: str) -> list[dict]:
    return [{"name": s.name, "label": str(s.label), "kind": s.kind, "required": s.required}
            for s in fleet.KINDS[kind][2]]


def _context(uow: UnitOfWork) -> dict:
    from sqlalchemy import select

    from opensupply.core.auth import User

    return {"depots": fleet.depots(uow),
            "users": list(uow.session.execute(select(User.id, User.username).order_by(User.username)).all())}


@router.get("/fleet")
def fleet_page(request: Request, kind: str | None = None, q: str | None = None, offset: int = 0, p: Page = ADMIN,
               error: str | None = None, values: dict | None = None, status: int = 200):
    kind = _kind(kind)
    offset = max(0, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = fleet.search(uow, kind, q=q, limit=PAGE_SIZE, offset=offset)
        items = [fleet.as_dict(uow, kind, r) for r in rows]
        ctx = _context(uow)
    keep = urllib.parse.urlencode({k: v for k, v in {"kind": kind, "q": q or ""}.items() if v})
    return render(p, "tms/fleet.html", status_code=status, title=_("车辆与司机"), kind=kind,
                  tabs=[(k, _(label)) for k, label in TABS], items=items, total=total, offset=offset, limit=PAGE_SIZE,
                  q=q or "", keep=keep, fields=_fields(kind), values=values or {}, error=error, **ctx)


@router.get("/fleet/export")
def fleet_export(kind: str | None = None, q: str | None = None, format: str = "xlsx", p: Page = ADMIN):
    kind = _kind(kind)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows = fleet.export_rows(uow, kind, q=q)
    if format == "csv":
        return Response(write_csv(fleet.header(kind), rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
    return Response(write_xlsx(fleet.header(kind), rows, kind),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{kind}.xlsx"'})


def _form_values(kind: str, form) -> dict:
    values = {}
    for f in _fields(kind):
        if f["kind"] == "bool":
            values[f["name"]] = bool(form.get(f["name"]))
        else:
            values[f["name"]] = (form.get(f["name"]) or "").strip()
    return values


@router.post("/fleet/{kind}/new")
async def fleet_create(kind: str, request: Request, p: Page = ADMIN):
    kind = _kind(kind)
    form = await request.form()
    values = _form_values(kind, form)
    if kind in ("vehicles", "drivers") and "active" not in form:
        values["active"] = True

    def run():
        with UnitOfWork(p.actor) as uow:
            return fleet.save(uow, kind, values).code

    try:
        code = await run_in_threadpool(run)
    except DomainError as exc:
        return await run_in_threadpool(fleet_page, request, kind, None, 0, p, exc.message, values, 422)
    return redirect(f"/tms/fleet?kind={kind}", _("已保存 {c}", c=code))


@router.get("/fleet/{kind}/{record_id}")
def fleet_record(kind: str, record_id: int, p: Page = ADMIN, error: str | None = None, values: dict | None = None,
                 status: int = 200):
    kind = _kind(kind)
    with UnitOfWork(p.actor, readonly=True) as uow:
        obj = uow.get(fleet.KINDS[kind][0], record_id)
        data = fleet.as_dict(uow, kind, obj)
        ctx = _context(uow)
    return render(p, "tms/fleet_form.html", status_code=status, title=f"{_(dict(TABS)[kind])} {data['code']}",
                  kind=kind, record=data, values=values or data, fields=_fields(kind), error=error, **ctx)


@router.post("/fleet/{kind}/{record_id}")
async def fleet_update(kind: str, record_id: int, request: Request, p: Page = ADMIN):
    kind = _kind(kind)
    form = await request.form()
    values = _form_values(kind, form)

    def run():
        with UnitOfWork(p.actor) as uow:
            if form.get("action") == "delete":
                fleet.delete(uow, kind, record_id)
                return None
            return fleet.save(uow, kind, values, record_id).code

    try:
        code = await run_in_threadpool(run)
    except DomainError as exc:
        return await run_in_threadpool(fleet_record, kind, record_id, p, exc.message, values, 422)
    if code is None:
        return redirect(f"/tms/fleet?kind={kind}", _("已删除或停用"))
    return redirect(f"/tms/fleet?kind={kind}", _("已保存 {c}", c=code))
