"""BOM pages: /boms list, detail (lines, where-used, explosion, history), create/edit form
with any number of lines (htmx adds rows), release / copy / obsolete / delete buttons."""

from __future__ import annotations

import urllib.parse
from decimal import Decimal

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from opensupply.core import audit
from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _, format_datetime
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import boms
from . import models as m

router = APIRouter(prefix="/boms", include_in_schema=False)
read = Depends(page_permission(boms.READ_PERMISSION))
write = Depends(page_permission(boms.WRITE_PERMISSION))
PAGE_SIZE = 50
BLANK_LINES = 3


def _num(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _choices(uow: UnitOfWork) -> dict:
    products = uow.session.execute(select(m.Product.sku, m.Product.name).where(
        m.Product.company_id == uow.company_id, m.Product.active.is_(True)).order_by(m.Product.sku).limit(5000)).all()
    uoms = uow.session.scalars(select(m.Uom).where(m.Uom.active.is_(True)).order_by(m.Uom.category_id, m.Uom.id))
    return {"product_options": [(sku, name) for sku, name in products],
            "uom_options": [(u.code, u.name) for u in uoms]}


def _blank_line() -> dict:
    return {"component": "", "quantity": "", "uom": "", "scrap_pct": ""}


def _form_values(form) -> tuple[dict, list[dict]]:
    header = {k: (form.get(k) or "").strip() for k in ("product", "version", "quantity", "effective_from",
                                                       "effective_to", "notes")}
    cols = [form.getlist(k) for k in ("component", "line_quantity", "line_uom", "line_scrap_pct")]
    lines = []
    for component, qty, uom, scrap in zip(*cols, strict=False):
        if not (component or "").strip() and not (qty or "").strip():
            continue  # an empty row of the form
        lines.append({"component": component.strip(), "quantity": qty.strip(), "uom": (uom or "").strip(),
                      "scrap_pct": (scrap or "").strip()})
    return header, lines


def _error_line(error: DomainError | None) -> tuple[int | None, str | None]:
    """`lines.2.quantity` → (2, "quantity") so the form marks the right cell."""
    if error and error.field and error.field.startswith("lines."):
        parts = error.field.split(".")
        if len(parts) == 3 and parts[1].isdigit():
            return int(parts[1]), parts[2]
    return None, None


def _form(p: Page, uow: UnitOfWork, header: dict, lines: list[dict], *, bom_id: int | None = None,
          error: DomainError | None = None):
    err_line, err_col = _error_line(error)
    rows = lines + [_blank_line() for _i in range(max(1, BLANK_LINES - len(lines)))]
    return render(p, "masterdata/bom_form.html", status_code=422 if error else 200, header=header, lines=rows,
                  bom_id=bom_id, error=error.message if error else None,
                  error_field=error.field if error else None, err_line=err_line, err_col=err_col, **_choices(uow))


@router.get("")
def list_page(request: Request, q: str | None = None, state: str | None = None, product: str | None = None,
              offset: int = 0, p: Page = read):
    offset = max(0, offset)
    with UnitOfWork(p.actor, readonly=True) as uow:
        product_id = (boms.product_id_by_sku(uow, product) or -1) if product else None
        try:
            items, total = boms.list_boms(uow, q=q, product_id=product_id, state=state or None, limit=PAGE_SIZE,
                                          offset=offset)
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
        rows = [boms.bom_to_dict(b, with_lines=False) for b in items]
    params = {k: v for k, v in request.query_params.items() if k != "offset" and v}
    return render(p, "masterdata/boms.html", rows=rows, total=total, q=q or "", state=state or "",
                  product=product or "", offset=offset, limit=PAGE_SIZE, states=[(s, boms.state_label(s))
                                                                                  for s in m.BOM_STATES],
                  page_query=urllib.parse.urlencode(params), can_write=p.actor.can(boms.WRITE_PERMISSION))


@router.get("/new")
def new_page(product: str | None = None, p: Page = write):
    with UnitOfWork(p.actor, readonly=True) as uow:
        header = {"product": product or "", "version": "V1.0", "quantity": "1"}
        return _form(p, uow, header, [])


@router.post("/new")
async def create(request: Request, p: Page = write):
    header, lines = _form_values(await request.form())
    try:
        with UnitOfWork(p.actor) as uow:
            bom = boms.create_bom(uow, product=header["product"], lines=lines, version=header["version"] or "V1.0",
                                  quantity=header["quantity"] or "1", effective_from=header["effective_from"],
                                  effective_to=header["effective_to"], notes=header["notes"])
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return _form(p, uow, header, lines, error=exc)
    return redirect(f"/boms/{bom.id}", _("已保存"))


@router.get("/line-row")
def line_row(p: Page = write):
    """One empty line for the form (htmx "add line")."""
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "masterdata/bom_line_row.html", line=_blank_line(), index=None, **_choices(uow))


@router.get("/{bom_id}")
def detail(bom_id: int, quantity: str | None = None, p: Page = read):
    with UnitOfWork(p.actor, readonly=True) as uow:
        bom = boms.get_bom(uow, bom_id)
        data = boms.bom_to_dict(bom)
        used = [u.as_dict() for u in boms.where_used(uow, bom.product_id)]
        explosion, explode_error = None, None
        qty = quantity or _num(bom.quantity)
        try:
            explosion = boms.explode(uow, bom.product_id, qty, bom_id=bom.id).as_dict()
        except DomainError as exc:
            explode_error = exc.message
        versions = [dict(boms.bom_to_dict(b, with_lines=False), updated=format_datetime(b.updated_at))
                    for b in boms.list_boms(uow, product_id=bom.product_id, limit=100)[0]]
        can_write = p.actor.can(boms.WRITE_PERMISSION)
        history = audit.history(uow.session, "bom", bom.id, uow.company_id) if can_write or p.actor.can(
            "admin.audit") else []
    return render(p, "masterdata/bom_detail.html", bom=data, used=used, explosion=explosion,
                  explode_error=explode_error, explode_qty=qty, versions=versions, can_write=can_write,
                  audit_rows=history, audit_dumps=audit.dumps)


@router.get("/{bom_id}/edit")
def edit_page(bom_id: int, p: Page = write):
    with UnitOfWork(p.actor, readonly=True) as uow:
        bom = boms.get_bom(uow, bom_id)
        if bom.state != "draft":
            return redirect(f"/boms/{bom_id}", _("只能修改草稿状态的物料清单；请复制为新版本后修改"), kind="error")
        header = {"product": bom.product.sku, "version": bom.version, "quantity": _num(bom.quantity),
                  "effective_from": bom.effective_from.isoformat() if bom.effective_from else "",
                  "effective_to": bom.effective_to.isoformat() if bom.effective_to else "", "notes": bom.notes or ""}
        lines = [{"component": ln.component.sku, "quantity": _num(ln.quantity), "uom": ln.uom.code,
                  "scrap_pct": _num(ln.scrap_pct) if ln.scrap_pct else ""} for ln in bom.lines]
        return _form(p, uow, header, lines, bom_id=bom_id)


@router.post("/{bom_id}/edit")
async def update(bom_id: int, request: Request, p: Page = write):
    header, lines = _form_values(await request.form())
    changes = {k: header[k] for k in ("version", "quantity", "effective_from", "effective_to", "notes")}
    changes["lines"] = lines
    try:
        with UnitOfWork(p.actor) as uow:
            boms.update_bom(uow, bom_id, changes)
    except DomainError as exc:
        if exc.status == 404:
            raise
        with UnitOfWork(p.actor, readonly=True) as uow:
            header["product"] = boms.get_bom(uow, bom_id).product.sku
            return _form(p, uow, header, lines, bom_id=bom_id, error=exc)
    return redirect(f"/boms/{bom_id}", _("已保存"))


def _action(bom_id: int, p: Page, fn, message: str, *, go_to_result: bool = False):
    try:
        with UnitOfWork(p.actor) as uow:
            result = fn(uow, bom_id)
            target = result.id if go_to_result and result is not None else bom_id
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/boms/{bom_id}", exc.message, kind="error")
    return redirect(f"/boms/{target}", message)


@router.post("/{bom_id}/release")
def release(bom_id: int, p: Page = write):
    return _action(bom_id, p, boms.release_bom, _("已发布，原发布版本已作废"))


@router.post("/{bom_id}/obsolete")
def obsolete(bom_id: int, p: Page = write):
    return _action(bom_id, p, boms.obsolete_bom, _("已作废"))


@router.post("/{bom_id}/copy")
def copy(bom_id: int, p: Page = write):
    return _action(bom_id, p, lambda uow, i: boms.copy_bom(uow, i), _("已复制为新版本"), go_to_result=True)


@router.post("/{bom_id}/delete")
def delete(bom_id: int, p: Page = write):
    try:
        with UnitOfWork(p.actor) as uow:
            boms.delete_bom(uow, bom_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/boms/{bom_id}", exc.message, kind="error")
    return redirect("/boms", _("已删除"))
