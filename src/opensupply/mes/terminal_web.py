"""The operator scan terminal (报工终端) under /mes/terminal: a tablet page where the operator scans the
traveller's operation barcode (keyboard-wedge scanner: code + Enter) and taps 开工 / 暂停 / 恢复 / 报数 /
完工 with good and scrapped quantities; the last operation offers 完工入库. Every form carries a fresh
`client_scan_id`, so a double tap or a resent form is recorded once. Thin: `mes.terminal`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import terminal
from . import work_orders as wos
from .models import WorkCenter, WorkOrderOperation

router = APIRouter(prefix="/mes", include_in_schema=False)
REPORT = Depends(page_permission("mes.report"))


def _work_centers(uow: UnitOfWork) -> list:
    return list(uow.session.execute(select(WorkCenter.id, WorkCenter.code, WorkCenter.name).where(
        WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code)).all())


def _active(uow: UnitOfWork, wc: int | None) -> list[dict]:
    out = []
    for op in terminal.active_operations(uow, wc):
        wo = wos.get_work_order(uow, op.work_order_id)
        out.append({"id": op.id, "barcode": f"{wo.number}/{op.sequence}", "name": op.name, "state": op.state,
                    "state_label": terminal.op_state_label(op.state), "sku": wo.product.sku,
                    "product": wo.product.name, "work_center": op.work_center.code, "qty_good": wos._fmt(op.qty_good),
                    "quantity": wos._fmt(wo.quantity)})
    return out


@router.get("/terminal")
def terminal_home(request: Request, p: Page = REPORT):
    wc = request.query_params.get("wc")
    wc_id = int(wc) if (wc or "").isdigit() else None
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "mes/terminal_home.html", title=_("报工终端"), active=_active(uow, wc_id),
                      work_centers=_work_centers(uow), wc=wc_id)


@router.post("/terminal/scan")
async def terminal_scan(request: Request, p: Page = REPORT):
    form = await request.form()
    code = (form.get("code") or "").strip()
    try:
        with UnitOfWork(p.actor, readonly=True) as uow:
            wo, op = terminal.resolve_scan(uow, code)
            if op is None:
                return redirect(f"/mes/terminal?wc={form.get('wc') or ''}",
                                _("工单 {n} 没有待报工的工序", n=wo.number), kind="error")
            op_id = op.id
    except DomainError as exc:
        return redirect(f"/mes/terminal?wc={form.get('wc') or ''}", exc.message, kind="error")
    return redirect(f"/mes/terminal/op/{op_id}")


def _card(uow: UnitOfWork, op_id: int) -> dict:
    op = uow.get(WorkOrderOperation, op_id)
    wo = wos.get_work_order(uow, op.work_order_id)
    d = wos.work_order_to_dict(uow, wo)
    for o in d["operations"]:
        o["state_label"] = terminal.op_state_label(o["state"])
    card = next(o for o in d["operations"] if o["id"] == op.id)
    last = max(d["operations"], key=lambda o: o["sequence"])
    mine = uow.actor.user_id in terminal._open_intervals(uow, op.id)
    return {"wo": d, "op": card, "is_last": last["id"] == op.id, "mine": mine}


@router.get("/terminal/op/{op_id}")
def terminal_operation(op_id: int, p: Page = REPORT):
    with UnitOfWork(p.actor, readonly=True) as uow:
        ctx = _card(uow, op_id)
        from .models import Equipment

        machines = list(uow.session.execute(select(Equipment.id, Equipment.code, Equipment.name, Equipment.status)
                                            .where(Equipment.company_id == uow.company_id,
                                                   Equipment.work_center_id == ctx["op"]["work_center_id"],
                                                   Equipment.active.is_(True)).order_by(Equipment.code)).all())
    done_qty = ctx["wo"]["qty_done"]
    return render(p, "mes/terminal_operation.html", title=_("报工终端"), scan_id=uuid.uuid4().hex,
                  reasons=terminal.pause_reasons(), machines=machines, can_complete=p.actor.can("mes.write"),
                  done_qty=done_qty, **ctx)


EVENTS = {"start", "pause", "resume", "report", "finish"}
DONE = {"start": "已开工", "pause": "已暂停", "resume": "已恢复", "report": "已报数", "finish": "工序已完工"}


@router.post("/terminal/op/{op_id}/complete")
async def terminal_complete(op_id: int, request: Request, p: Page = REPORT):
    p.require("mes.write")
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            op = uow.get(WorkOrderOperation, op_id)
            c = wos.complete_work_order(uow, op.work_order_id, (form.get("qty_good") or "").strip() or None,
                                        qty_scrap=(form.get("qty_scrap") or "").strip() or 0,
                                        close=True if form.get("close") else None,
                                        client_key=(form.get("client_scan_id") or "").strip() or None)
            message = _("完工入库 {n}：合格 {q}", n=c.number, q=wos._fmt(c.qty_good))
    except DomainError as exc:
        return redirect(f"/mes/terminal/op/{op_id}", exc.message, kind="error")
    return redirect(f"/mes/terminal/op/{op_id}", message)


@router.post("/terminal/op/{op_id}/{event}")
async def terminal_event(op_id: int, event: str, request: Request, p: Page = REPORT):
    if event not in EVENTS:
        return redirect(f"/mes/terminal/op/{op_id}", _("未知操作"), kind="error")
    form = await request.form()
    scan_id = (form.get("client_scan_id") or "").strip() or None
    kwargs: dict = {"client_scan_id": scan_id}
    if event == "start" and (form.get("equipment_id") or "").isdigit():
        kwargs["equipment_id"] = int(form.get("equipment_id"))
    if event == "pause":
        kwargs["reason"] = (form.get("reason") or "").strip()
    if event in ("report", "finish"):
        kwargs.update(qty_good=(form.get("qty_good") or "").strip() or 0,
                      qty_scrap=(form.get("qty_scrap") or "").strip() or 0,
                      reason=(form.get("reason") or "").strip() or None)
    fn = {"start": terminal.start_operation, "pause": terminal.pause_operation, "resume": terminal.resume_operation,
          "report": terminal.report_quantity, "finish": terminal.finish_operation}[event]
    try:
        with UnitOfWork(p.actor) as uow:
            if event == "pause":
                fn(uow, op_id, kwargs.pop("reason"), **kwargs)
            elif event in ("report", "finish"):
                fn(uow, op_id, kwargs.pop("qty_good"), kwargs.pop("qty_scrap"), **kwargs)
            else:
                fn(uow, op_id, **kwargs)
    except DomainError as exc:
        return redirect(f"/mes/terminal/op/{op_id}", exc.message, kind="error")
    return redirect(f"/mes/terminal/op/{op_id}", _(DONE[event]))
