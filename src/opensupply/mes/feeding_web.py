"""Feeding pages under /mes/feeding: the line board (per work center its running operations, staged material,
minutes left in colour and open tasks; refreshes itself), the warehouse's list of open tasks (from bin → to
line, quantity, run-out time, a big 完成上料 button — made for a phone) and the history with filters and
export. Read with mes.read; completing, cancelling and checking need mes.feed. Thin: `mes.feeding`."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import feeding
from .models import WorkCenter

router = APIRouter(prefix="/mes", include_in_schema=False)
READ = Depends(page_permission("mes.read"))
FEED = Depends(page_permission(feeding.FEED_PERMISSION))
PAGE_SIZE = 50
VIEWS = ("line", "warehouse")


def _int(value) -> int | None:
    return int(value) if str(value or "").strip().isdigit() else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _work_centers(uow: UnitOfWork) -> list[tuple[int, str]]:
    return [(i, f"{code} {name}") for i, code, name in uow.session.execute(
        select(WorkCenter.id, WorkCenter.code, WorkCenter.name).where(
            WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code))]


def _default_view(p: Page) -> str:
    # the warehouse opens on its task list; the shop floor on the line board
    return "warehouse" if p.actor.can(feeding.FEED_PERMISSION) and not p.actor.can("mes.report") else "line"


@router.get("/feeding")
def feeding_page(request: Request, p: Page = READ):
    qp = request.query_params
    view = qp.get("view") if qp.get("view") in VIEWS else _default_view(p)
    wc = _int(qp.get("work_center_id"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        board = feeding.feeding_board(uow, [wc] if wc else None) if view == "line" else []
        tasks, total = feeding.list_tasks(uow, state="open", work_center_id=wc, limit=200) \
            if view == "warehouse" else ([], 0)
        tasks = feeding.tasks_to_dicts(uow, tasks)
        centers = _work_centers(uow)
    return render(p, "mes/feeding_board.html", title=_("上料提醒"), view=view, board=board, tasks=tasks,
                  total=total, work_center_id=wc, centers=centers, can_feed=p.actor.can(feeding.FEED_PERMISSION),
                  back=urllib.parse.urlencode({k: v for k, v in {"view": view, "work_center_id": wc or ""}.items()
                                               if v}))


def _back(form) -> str:
    back = str(form.get("back") or "")
    return "/mes/feeding" + (f"?{back}" if back and all(c.isalnum() or c in "=&_" for c in back) else "")


@router.post("/feeding/check")
async def check_now(request: Request, p: Page = FEED):
    form = await request.form()
    wc = _int(form.get("work_center_id"))
    try:
        with UnitOfWork(p.actor) as uow:
            created = len(feeding.check_feeding(uow, [wc] if wc else None))
    except DomainError as exc:
        return redirect(_back(form), exc.message, "error")
    message = _("已检查：新开 {n} 个上料任务", n=created) if created else _("已检查：线边物料充足，没有新任务")
    return redirect(_back(form), message)


@router.post("/feeding/tasks/{task_id}/complete")
async def complete(task_id: int, request: Request, p: Page = FEED):
    form = await request.form()
    qty = str(form.get("quantity") or "").strip() or None
    try:
        with UnitOfWork(p.actor) as uow:
            task = feeding.complete_feeding_task(uow, task_id, qty)
            number, shown = task.number, feeding.tasks_to_dicts(uow, [task])[0]
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(_back(form), exc.message, "error")
    return redirect(_back(form), _("{n} 已上料：{q} {u} {sku} → {dest}", n=number, q=shown["quantity"],
                                   u=shown["uom"] or "", sku=shown["sku"], dest=shown["dest"] or ""))


@router.post("/feeding/tasks/{task_id}/cancel")
async def cancel(task_id: int, request: Request, p: Page = FEED):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            number = feeding.cancel_feeding_task(uow, task_id, str(form.get("reason") or "")).number
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(_back(form), exc.message, "error")
    return redirect(_back(form), _("上料任务 {n} 已取消", n=number))


def _history_filters(qp) -> dict:
    return {k: (qp.get(k) or "").strip() for k in ("q", "state", "work_center_id", "date_from", "date_to")}


def _service_filters(f: dict) -> dict:
    return dict(q=f["q"] or None, state=f["state"] or None, work_center_id=_int(f["work_center_id"]),
                date_from=_date(f["date_from"]), date_to=_date(f["date_to"]))


@router.get("/feeding/history")
def history_page(request: Request, p: Page = READ):
    qp = request.query_params
    offset = _int(qp.get("offset")) or 0
    filters = _history_filters(qp)
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = feeding.list_tasks(uow, limit=PAGE_SIZE, offset=offset, **_service_filters(filters))
        except DomainError as exc:
            rows, total, error = [], 0, exc.message
        items = feeding.tasks_to_dicts(uow, rows)
        centers = _work_centers(uow)
    keep = urllib.parse.urlencode({k: v for k, v in filters.items() if v})
    return render(p, "mes/feeding_history.html", status_code=422 if error else 200, title=_("上料记录"), items=items,
                  total=total, offset=offset, limit=PAGE_SIZE, filters=filters, keep=keep, error=error,
                  centers=centers, states=[(k, _(v)) for k, v in feeding.STATE_LABELS.items()])


@router.get("/feeding/history/export")
def history_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = feeding.export_rows(uow, **_service_filters(_history_filters(request.query_params)))
    if format == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="feeding-tasks.csv"'})
    return Response(write_xlsx(header, rows, "feeding-tasks"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="feeding-tasks.xlsx"'})
