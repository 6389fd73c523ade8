"""Routing pages under /mes/routings: the list (search, product, archived, pagination, XLSX/CSV export), a
routing's detail (operations, conversion cost for a quantity, history), the create / edit form with any number
of operation rows (htmx adds rows), archive and restore. Thin: `mes.routings`."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from opensupply.core import audit
from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from opensupply.masterdata import models as md
from opensupply.web import redirect, render

from . import routings
from .models import QualityChecklist, Routing, WorkCenter
from .routings_api import export_rows, parse_quantity, product_id_for
from .shopfloor_api import export

READ = Depends(page_permission(routings.READ_PERMISSION))
WRITE = Depends(page_permission(routings.WRITE_PERMISSION))
PAGE_SIZE = 50
BLANK_ROWS = 2
OP_FIELDS = ("sequence", "name", "work_center", "setup_minutes", "run_minutes", "checklist", "instructions")

router = APIRouter(prefix="/mes/routings", include_in_schema=False)


def _choices(uow: UnitOfWork) -> dict:
    products = uow.session.execute(select(md.Product.sku, md.Product.name).where(
        md.Product.company_id == uow.company_id, md.Product.active.is_(True),
        md.Product.product_type != "service").order_by(md.Product.sku).limit(5000)).all()
    wcs = uow.session.execute(select(WorkCenter.code, WorkCenter.name).where(
        WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True)).order_by(WorkCenter.code)).all()
    checklists = uow.session.execute(select(QualityChecklist.code, QualityChecklist.name).where(
        QualityChecklist.company_id == uow.company_id, QualityChecklist.active.is_(True))
        .order_by(QualityChecklist.code)).all()
    return {"product_options": list(products), "work_center_options": list(wcs), "checklist_options": list(checklists)}


def _blank() -> dict:
    return dict.fromkeys(OP_FIELDS, "")


def _form_values(form) -> tuple[dict, list[dict]]:
    header = {k: (form.get(k) or "").strip() for k in ("product", "code", "name", "bom_id", "final_checklist",
                                                       "notes")}
    cols = [form.getlist(f"op_{k}") for k in OP_FIELDS]
    ops = []
    for values in zip(*cols, strict=False):
        row = {k: (v or "").strip() for k, v in zip(OP_FIELDS, values, strict=True)}
        if not row["name"] and not row["work_center"] and not row["run_minutes"] and not row["setup_minutes"]:
            continue  # an empty row of the form
        ops.append(row)
    return header, ops


def _error_row(error: DomainError | None) -> tuple[int | None, str | None]:
    """`operations.1.run_minutes` → (1, "run_minutes") so the form marks the right cell."""
    if error and error.field and error.field.startswith("operations."):
        parts = error.field.split(".")
        if len(parts) == 3 and parts[1].isdigit():
            return int(parts[1]), parts[2]
    return None, None


def _boms_of(uow: UnitOfWork, sku: str) -> list[tuple[int, str, str]]:
    pid = boms.product_id_by_sku(uow, sku) if sku else None
    if not pid:
        return []
    return [(b.id, b.version, boms.state_label(b.state)) for b in boms.list_boms(uow, product_id=pid, limit=100)[0]]


def _form(p: Page, uow: UnitOfWork, header: dict, ops: list[dict], *, routing_id: int | None = None,
          error: DomainError | None = None):
    err_row, err_col = _error_row(error)
    rows = ops + [_blank() for _i in range(1 if ops else BLANK_ROWS)]
    return render(p, "mes/routing_form.html", status_code=422 if error else 200, title=_("工艺路线"), header=header,
                  ops=rows, routing_id=routing_id, error=error.message if error else None,
                  error_field=error.field if error else None, err_row=err_row, err_col=err_col,
                  bom_options=_boms_of(uow, header.get("product", "")), **_choices(uow))


def _ops_for_service(ops: list[dict]) -> list[dict]:
    return [{k: v for k, v in op.items() if v != ""} for op in ops]


@router.get("")
def list_page(request: Request, q: str | None = None, product: str | None = None, archived: bool = False,
              offset: int = 0, p: Page = READ):
    offset = max(0, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, total = routings.list_routings(uow, q=q, product_id=product_id_for(uow, product), limit=PAGE_SIZE,
                                              offset=offset, include_archived=archived)
        rows = [routings.routing_to_dict(uow, r) for r in items]
        products = _choices(uow)["product_options"]
    params = {k: v for k, v in request.query_params.items() if k != "offset" and v}
    return render(p, "mes/routing_list.html", title=_("工艺路线"), rows=rows, total=total, q=q or "",
                  product=product or "", archived=archived, offset=offset, limit=PAGE_SIZE,
                  page_query=urllib.parse.urlencode(params), product_options=products,
                  export_query=urllib.parse.urlencode({k: v for k, v in params.items() if k in ("q", "product")}
                                                      | ({"include_archived": "true"} if archived else {})),
                  can_write=p.actor.can(routings.WRITE_PERMISSION))


@router.get("/export")
def export_page(q: str | None = None, product: str | None = None, include_archived: bool = False,
                format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, _total = routings.list_routings(uow, q=q, product_id=product_id_for(uow, product), limit=1000000,
                                               include_archived=include_archived)
        header, rows = export_rows(uow, items)
    return export(header, rows, "routings", "csv" if format == "csv" else "xlsx")


@router.get("/new")
def new_page(product: str | None = None, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return _form(p, uow, {"product": product or ""}, [])


@router.get("/op-row")
def op_row(p: Page = WRITE):
    """One empty operation row for the form (htmx "add operation")."""
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "mes/routing_op_row.html", op=_blank(), index=None, **_choices(uow))


@router.post("/new")
async def create(request: Request, p: Page = WRITE):
    header, ops = _form_values(await request.form())
    try:
        with UnitOfWork(p.actor) as uow:
            routing = routings.create_routing(uow, product=header["product"], code=header["code"] or None,
                                              name=header["name"] or None, bom_id=header["bom_id"] or None,
                                              final_checklist=header["final_checklist"] or None,
                                              notes=header["notes"] or None, operations=_ops_for_service(ops))
            routing_id = routing.id
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return _form(p, uow, header, ops, error=exc)
    return redirect(f"/mes/routings/{routing_id}", _("已保存"))


@router.get("/{routing_id}")
def detail(routing_id: int, quantity: str | None = None, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        routing = uow.get(Routing, routing_id)
        data = routings.routing_to_dict(uow, routing)
        qty_error, cost, qty = None, None, quantity or "1"
        try:
            q = parse_quantity(qty)
            cost = boms._dec_str(routings.routing_cost(uow, routing, q))
            by_id = {o.id: o for o in routing.operations}
            for op in data["operations"]:
                row = by_id[op["id"]]
                minutes = routings.operation_minutes(row, q)
                op["minutes"] = boms._dec_str(minutes)
                op["cost"] = boms._dec_str(minutes / 60 * row.work_center.cost_per_hour)
                op["rate"] = boms._dec_str(row.work_center.cost_per_hour)
        except DomainError as exc:
            qty_error = exc.message
        can_write = p.actor.can(routings.WRITE_PERMISSION)
        history = audit.history(uow.session, "mes_routing", routing.id, uow.company_id) \
            if can_write or p.actor.can("admin.audit") else []
    return render(p, "mes/routing_detail.html", title=_("工艺路线 {code}", code=data["code"]), routing=data,
                  quantity=qty, cost=cost, qty_error=qty_error, can_write=can_write, audit_rows=history,
                  audit_dumps=audit.dumps)


@router.get("/{routing_id}/edit")
def edit_page(routing_id: int, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        d = routings.routing_to_dict(uow, uow.get(Routing, routing_id))
        checklists = dict(uow.session.execute(select(QualityChecklist.id, QualityChecklist.code).where(
            QualityChecklist.company_id == uow.company_id)).all())
        header = {"product": d["sku"], "code": d["code"], "name": d["name"], "bom_id": str(d["bom_id"] or ""),
                  "final_checklist": checklists.get(d["final_checklist_id"], ""), "notes": d["notes"] or ""}
        ops = [{"sequence": str(op["sequence"]), "name": op["name"], "work_center": op["work_center"],
                "setup_minutes": op["setup_minutes"], "run_minutes": op["run_minutes"],
                "checklist": checklists.get(op["checklist_id"], ""), "instructions": op["instructions"] or ""}
               for op in d["operations"]]
        return _form(p, uow, header, ops, routing_id=routing_id)


@router.post("/{routing_id}/edit")
async def update(routing_id: int, request: Request, p: Page = WRITE):
    header, ops = _form_values(await request.form())
    changes = {"name": header["name"], "bom_id": header["bom_id"] or None,
               "final_checklist": header["final_checklist"] or None, "notes": header["notes"],
               "operations": _ops_for_service(ops)}
    try:
        with UnitOfWork(p.actor) as uow:
            routings.update_routing(uow, routing_id, changes)
    except DomainError as exc:
        if exc.status == 404:
            raise
        with UnitOfWork(p.actor, readonly=True) as uow:
            d = routings.routing_to_dict(uow, uow.get(Routing, routing_id))
            header.update(product=d["sku"], code=d["code"])
            return _form(p, uow, header, ops, routing_id=routing_id, error=exc)
    return redirect(f"/mes/routings/{routing_id}", _("已保存"))


@router.post("/{routing_id}/archive")
def archive(routing_id: int, p: Page = WRITE):
    return _action(routing_id, p, routings.archive_routing, _("已归档"))


@router.post("/{routing_id}/restore")
def restore(routing_id: int, p: Page = WRITE):
    return _action(routing_id, p, routings.restore_routing, _("已恢复"))


def _action(routing_id: int, p: Page, fn, message: str):
    try:
        with UnitOfWork(p.actor) as uow:
            fn(uow, routing_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/mes/routings/{routing_id}", exc.message, "error")
    return redirect(f"/mes/routings/{routing_id}", message)
