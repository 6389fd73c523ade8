"""Pages of the stock ledger: on-hand, move history, receipts by hand, adjustments, lots, valuation.
They call the same services as the API (without /api/v1 in the path)."""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import table_response
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render

from . import service as inv
from .schemas import dec, money

router = APIRouter(prefix="/inventory", include_in_schema=False)
READ = Depends(page_permission("inventory.read"))
WRITE = Depends(page_permission("inventory.write"))
ADJUST = Depends(page_permission("inventory.adjust"))
PAGE_SIZE = 50
EXPORT_LIMIT = 200000


def _keep(request: Request, drop: tuple[str, ...] = ("offset",)) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in drop and v})


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _export(fmt: str, name: str, header: list[str], rows: list[list]) -> Response:
    return table_response(header, rows, fmt, name)

def _warehouses(uow: UnitOfWork) -> list[md.Warehouse]:
    from sqlalchemy import select

    return list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id,
                                                               md.Warehouse.active.is_(True))
                                    .order_by(md.Warehouse.code)))


def _bins(uow: UnitOfWork) -> list[md.Location]:
    from sqlalchemy import select

    return list(uow.session.scalars(select(md.Location).where(
        md.Location.company_id == uow.company_id, md.Location.usage == "internal",
        md.Location.active.is_(True)).order_by(md.Location.full_code).limit(2000)))


# ------------------------------------------------------------------ on-hand
ON_HAND_FILTERS = ("q", "warehouse", "location", "product", "lot")


def _on_hand_query(request: Request) -> dict:
    return {k: (request.query_params.get(k) or None) for k in ON_HAND_FILTERS}


@router.get("/on-hand")
def on_hand_page(request: Request, offset: int = 0, p: Page = READ):
    filters = _on_hand_query(request)
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = inv.on_hand_rows(uow, **filters, limit=PAGE_SIZE, offset=max(0, offset))
        except DomainError as exc:
            rows, total, error = [], 0, exc.message
        warehouses = _warehouses(uow)
    return render(p, "inventory/on_hand.html", title=_("库存查询"), rows=rows, total=total, offset=max(0, offset),
                  limit=PAGE_SIZE, filters=filters, warehouses=warehouses, error=error, keep=_keep(request),
                  base="/inventory/on-hand")


@router.get("/on-hand/export")
def on_hand_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = inv.on_hand_rows(uow, **_on_hand_query(request), limit=EXPORT_LIMIT)
    header = [_("商品编码"), _("商品名称"), _("仓库"), _("库位"), _("批次/序列号"), _("单位"), _("现有"), _("已预留"),
              _("可用")]
    data = [[r["sku"], r["product_name"], r["warehouse"], r["location"], r["lot"], r["uom"], dec(r["on_hand"]),
             dec(r["reserved"]), dec(r["available"])] for r in rows]
    return _export(format, "on-hand", header, data)


# -------------------------------------------------------------------- moves
MOVE_FILTERS = ("q", "product", "location", "reference", "state")


def _move_query(request: Request) -> dict:
    f = {k: (request.query_params.get(k) or None) for k in MOVE_FILTERS}
    f["date_from"] = _date(request.query_params.get("date_from"))
    f["date_to"] = _date(request.query_params.get("date_to"))
    return f


@router.get("/moves")
def moves_page(request: Request, offset: int = 0, p: Page = READ):
    filters = _move_query(request)
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = inv.move_rows(uow, **filters, limit=PAGE_SIZE, offset=max(0, offset))
        except DomainError as exc:
            rows, total, error = [], 0, exc.message
    for r in rows:
        r["state_label"] = inv.move_state_label(r["state"])
    return render(p, "inventory/moves.html", title=_("库存流水"), rows=rows, total=total, offset=max(0, offset),
                  limit=PAGE_SIZE, filters=filters, error=error, keep=_keep(request), base="/inventory/moves",
                  states=[(k, inv.move_state_label(k)) for k in inv.MOVE_STATE_LABELS])


@router.get("/moves/export")
def moves_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = inv.move_rows(uow, **_move_query(request), limit=EXPORT_LIMIT)
    header = [_("编号"), _("完成时间"), _("商品编码"), _("商品名称"), _("数量"), _("来源库位"), _("目标库位"),
              _("批次/序列号"), _("状态"), _("单据"), _("单位成本"), _("金额")]
    data = [[r["id"], r["date_done"].isoformat() if r["date_done"] else "", r["sku"], r["product_name"],
             dec(r["quantity"]), r["source"], r["destination"], r["lot"], inv.move_state_label(r["state"]),
             r["reference"], dec(r["unit_cost"]), money(r["value"])] for r in rows]
    return _export(format, "stock-moves", header, data)


# ----------------------------------------------------------------- receipts
LINE_FIELDS = ("product", "location", "quantity", "lot", "unit_cost")
LINE_NAME = re.compile(r"^lines-(\d+)-(product|location|quantity|lot|unit_cost)$")


def form_lines(form) -> list[dict]:
    """The receipt form's lines: the plain names (product, location, quantity, lot, unit_cost) are
    the first line; more lines use lines-N-<name>. Blank lines are skipped."""
    lines: dict[int, dict] = {}
    if any(form.get(k) for k in LINE_FIELDS):
        lines[-1] = {k: (form.get(k) or "").strip() for k in LINE_FIELDS}
    for key in form.keys():
        m = LINE_NAME.match(key)
        if m:
            lines.setdefault(int(m.group(1)), {k: "" for k in LINE_FIELDS})[m.group(2)] = (form.get(key) or "").strip()
    return [ln for _i, ln in sorted(lines.items()) if ln["product"] or ln["quantity"]]


def _receipt_form(p: Page, values: dict, lines: list[dict], error: str | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        bins = _bins(uow)
    while len(lines) < 3:
        lines.append({k: "" for k in LINE_FIELDS})
    return render(p, "inventory/receipt_new.html", status_code=status, title=_("入库"), values=values,
                  lines=lines, error=error, bins=bins)


@router.get("/receipts/new")
def receipt_new(request: Request, p: Page = WRITE):
    values = {"location": request.query_params.get("location", ""), "reference": ""}
    return _receipt_form(p, values, [])


@router.post("/receipts/new")
@router.post("/receipts")
async def receipt_submit(request: Request, p: Page = WRITE):
    form = await request.form()
    lines = form_lines(form)
    values = {"location": (form.get("location") or "").strip(), "reference": (form.get("reference") or "").strip()}
    first_line = lines[0] if lines else {}

    def post():
        with UnitOfWork(p.actor) as uow:
            stock_lines = [inv.StockLine(product=ln["product"], quantity=ln["quantity"], lot=ln["lot"] or None,
                                         unit_cost=ln["unit_cost"] or None,
                                         location=ln["location"] or values["location"] or None) for ln in lines]
            inv.receive(uow, stock_lines, values["location"] or None, reference=values["reference"] or None)
            return inv.resolve_product(uow, first_line["product"]).sku

    try:
        sku = await run_in_threadpool(post) if lines else None
        if sku is None:
            raise ValidationFailed(_("请至少填写一行"), field="lines")
    except DomainError as exc:
        # the first line's plain fields already carry their values (form re-shows them)
        shown = {**values, **{k: v for k, v in first_line.items() if v}}
        return _receipt_form(p, shown, lines[1:], exc.message, status=422)
    n = len(lines)
    return redirect("/inventory/on-hand?" + urllib.parse.urlencode({"product": sku}),
                    _("已入库 {n} 行", n=n))


# -------------------------------------------------------------- adjustments
@router.get("/adjustments")
def adjustments_page(request: Request, q: str | None = None, state: str | None = None, offset: int = 0,
                     p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = inv.adjustment_rows(uow, q=q, state=state or None, limit=PAGE_SIZE, offset=max(0, offset))
        items = [inv.adjustment_dict(uow, a) for a in rows]
    return render(p, "inventory/adjustments.html", title=_("盘点调整"), rows=items, total=total,
                  offset=max(0, offset), limit=PAGE_SIZE, filters={"q": q, "state": state}, keep=_keep(request),
                  base="/inventory/adjustments", can_adjust=p.actor.can("inventory.adjust"),
                  states=[(k, inv.adjustment_state_label(k)) for k in inv.ADJUSTMENT_STATE_LABELS])


@router.get("/adjustments/new")
def adjustment_new(p: Page = ADJUST):
    return _adjustment_form(p, {"reason": ""}, [])


def _adjustment_form(p: Page, values: dict, lines: list[dict], error: str | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        bins = _bins(uow)
    while len(lines) < 5:
        lines.append({"product": "", "location": "", "lot": "", "counted_quantity": ""})
    return render(p, "inventory/adjustment_new.html", status_code=status, title=_("新建盘点单"), values=values,
                  lines=lines, error=error, bins=bins)


@router.post("/adjustments/new")
async def adjustment_submit(request: Request, p: Page = ADJUST):
    form = await request.form()
    lines: dict[int, dict] = {}
    for key in form.keys():
        m = re.match(r"^lines-(\d+)-(product|location|lot|counted_quantity)$", key)
        if m:
            lines.setdefault(int(m.group(1)), {})[m.group(2)] = (form.get(key) or "").strip()
    rows = [ln for _i, ln in sorted(lines.items()) if ln.get("product")]
    reason = (form.get("reason") or "").strip()

    def create():
        with UnitOfWork(p.actor) as uow:
            adj = inv.create_adjustment(uow, reason, [inv.AdjustmentLineIn(
                ln["product"], ln.get("location", ""), ln.get("counted_quantity", ""), ln.get("lot") or None)
                for ln in rows])
            return adj.id

    try:
        adj_id = await run_in_threadpool(create)
    except DomainError as exc:
        return _adjustment_form(p, {"reason": reason}, rows, exc.message, status=422)
    return redirect(f"/inventory/adjustments/{adj_id}", _("盘点单已保存，请核对后确认"))


@router.get("/adjustments/{adjustment_id}")
def adjustment_detail(adjustment_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        adj = inv.adjustment_dict(uow, uow.get(inv.InventoryAdjustment, adjustment_id))
        if adj["state"] == "draft":  # show what validation would post now
            for ln in adj["lines"]:
                cur = inv.on_hand(uow, ln["product_id"], ln["location_id"],
                                  _lot_id(uow, ln["product_id"], ln["lot"]))
                ln["theoretical_quantity"], ln["difference"] = cur, ln["counted_quantity"] - cur
    return render(p, "inventory/adjustment_detail.html", title=adj["number"], adj=adj,
                  can_adjust=p.actor.can("inventory.adjust"))


def _lot_id(uow: UnitOfWork, product_id: int, name: str | None) -> int | None:
    if not name:
        return None
    return inv.lots_by_name(uow, [(product_id, name)])[(product_id, name)]


@router.post("/adjustments/{adjustment_id}/done")
def adjustment_done(adjustment_id: int, p: Page = ADJUST):
    try:
        with UnitOfWork(p.actor) as uow:
            adj = inv.validate_adjustment(uow, adjustment_id)
            number = adj.number
    except DomainError as exc:
        return redirect(f"/inventory/adjustments/{adjustment_id}", exc.message, kind="error")
    return redirect(f"/inventory/adjustments/{adjustment_id}", _("盘点单 {number} 已确认，差异已过账", number=number))


@router.post("/adjustments/{adjustment_id}/cancel")
def adjustment_cancel(adjustment_id: int, p: Page = ADJUST):
    try:
        with UnitOfWork(p.actor) as uow:
            inv.cancel_adjustment(uow, adjustment_id)
    except DomainError as exc:
        return redirect(f"/inventory/adjustments/{adjustment_id}", exc.message, kind="error")
    return redirect(f"/inventory/adjustments/{adjustment_id}", _("盘点单已取消"))


# --------------------------------------------------------------------- lots
@router.get("/lots")
def lots_page(request: Request, q: str | None = None, product: str | None = None, offset: int = 0, p: Page = READ):
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = inv.lot_rows(uow, q=q, product=product, limit=PAGE_SIZE, offset=max(0, offset))
        except DomainError as exc:
            rows, total, error = [], 0, exc.message
    return render(p, "inventory/lots.html", title=_("批次/序列号"), rows=rows, total=total, offset=max(0, offset),
                  limit=PAGE_SIZE, filters={"q": q, "product": product}, keep=_keep(request), base="/inventory/lots",
                  error=error, can_write=p.actor.can("inventory.write"), values={})


@router.post("/lots")
async def lot_create(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in ("product", "name", "expiry_date")}

    def create():
        with UnitOfWork(p.actor) as uow:
            prod = inv.resolve_product(uow, values["product"])
            expiry = _date(values["expiry_date"])
            if values["expiry_date"] and expiry is None:
                raise ValidationFailed(_("日期格式不正确：{v}", v=values["expiry_date"]), field="expiry_date")
            return inv.create_lot(uow, prod.id, values["name"], expiry).name

    try:
        name = await run_in_threadpool(create)
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            rows, total = inv.lot_rows(uow, limit=PAGE_SIZE)
        return render(p, "inventory/lots.html", status_code=422, title=_("批次/序列号"), rows=rows, total=total,
                      offset=0, limit=PAGE_SIZE, filters={}, keep="", base="/inventory/lots", error=exc.message,
                      can_write=True, values=values)
    return redirect("/inventory/lots?" + urllib.parse.urlencode({"q": name}), _("批次 {name} 已创建", name=name))


# ---------------------------------------------------------------- valuation
@router.get("/valuation")
def valuation_page(p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        v = inv.valuation(uow)
    return render(p, "inventory/valuation.html", title=_("库存估值"), v=v, has_gl=True)
