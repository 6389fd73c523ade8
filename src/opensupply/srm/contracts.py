"""Contracts and price agreements (采购合同 / 价格协议): per supplier and item, price breaks (from a quantity
on, a unit price excluding tax), currency, validity and payment terms; draft → active → expired (or
cancelled). ERP purchasing calls `check_order_prices` (lazily, while SRM is on) after creating an order:
a line priced above the agreed price for its quantity on the order date is recorded as a warning on the
order (`srm_price_warning`), not refused — buyers sometimes must pay more, and the warning makes it visible.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, or_, select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv

from . import suppliers
from .models import Contract, PriceBreak, PriceWarning, Supplier

register_sequence("SRMC", "HT{year}-", 5)

CONTRACT_LABELS = {"draft": _l("草稿"), "active": _l("生效"), "expired": _l("已过期"), "cancelled": _l("已取消")}


def _money(value) -> str:
    d = to_decimal(value)
    return str(d.quantize(Decimal("0.01")) if d == d.quantize(Decimal("0.01")) else d.normalize())


def state_label(state: str) -> str:
    return str(CONTRACT_LABELS.get(state, state))


def _date(value, field: str, label, *, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed(_("请填写{label}", label=label), field=field)
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10].replace("/", "-"))
    except ValueError:
        raise ValidationFailed(_("{label}格式不正确：{value}", label=label, value=value), field=field) from None


def _dec(value, field: str, label, *, positive: bool = False) -> Decimal:
    try:
        d = to_decimal(value)
        if not d.is_finite():
            raise ValueError
    except Exception:
        raise ValidationFailed(_("{label}格式不正确：{value}", label=label, value=value), field=field) from None
    if d < 0 or (positive and d == 0):
        raise ValidationFailed(_("{label}必须大于 0", label=label) if positive else
                               _("{label}不能为负数", label=label), field=field)
    return d


def _price_rows(uow: UnitOfWork, prices: list[dict]) -> list[PriceBreak]:
    if not prices:
        raise ValidationFailed(_("请至少填写一行价格"), field="prices")
    rows, seen = [], set()
    for i, p in enumerate(prices, 1):
        try:
            product = inv.resolve_product(uow, p.get("product"))
        except Exception as exc:
            msg = getattr(exc, "message", str(exc))
            raise ValidationFailed(_("第 {n} 行：{msg}", n=i, msg=msg), field="prices") from None
        qty = _dec(p.get("min_quantity") if p.get("min_quantity") not in (None, "") else 0, "prices", _("起订量"))
        price = _dec(p.get("unit_price"), "prices", _("协议单价"), positive=True)
        if (product.id, qty) in seen:
            raise ValidationFailed(_("第 {n} 行：{sku} 起订量 {q} 重复", n=i, sku=product.sku, q=qty), field="prices")
        seen.add((product.id, qty))
        rows.append(PriceBreak(company_id=uow.company_id, product_id=product.id, min_quantity=qty, unit_price=price))
    return rows


def _header(uow: UnitOfWork, c: Contract, data: dict) -> None:
    title = str(data.get("title") or "").strip()
    if not title:
        raise ValidationFailed(_("请填写合同名称"), field="title")
    if len(title) > 200:
        raise ValidationFailed(_("合同名称最多 200 个字符"), field="title")
    c.title = title
    c.valid_from = _date(data.get("valid_from"), "valid_from", _("生效日期"))
    c.valid_to = _date(data.get("valid_to"), "valid_to", _("截止日期"))
    if c.valid_to < c.valid_from:
        raise ValidationFailed(_("截止日期不能早于生效日期"), field="valid_to")
    c.currency_code = (str(data.get("currency_code") or "CNY")).strip().upper()[:3]
    try:
        c.payment_terms_days = int(data.get("payment_terms_days") or 0)
    except (TypeError, ValueError):
        raise ValidationFailed(_("账期(天)格式不正确"), field="payment_terms_days") from None
    if not 0 <= c.payment_terms_days <= 365:
        raise ValidationFailed(_("账期应在 0 到 365 天之间"), field="payment_terms_days")
    c.payment_terms = (str(data.get("payment_terms") or "").strip() or None)
    c.notes = (str(data.get("notes") or "").strip() or None)


def create_contract(uow: UnitOfWork, data: dict) -> Contract:
    uow.actor.require("srm.write")
    partner_id = suppliers.resolve_partner(uow, data.get("partner") or data.get("partner_id"))
    sup = suppliers.profile_of(uow, partner_id)
    if sup is None:
        raise ValidationFailed(_("供应商尚未在供应商管理中建档"), field="partner")
    c = Contract(supplier_id=sup.id, partner_id=partner_id, state="draft")
    _header(uow, c, data)
    c.prices = _price_rows(uow, data.get("prices") or [])
    c.number = next_number(uow, "SRMC", on=c.valid_from)
    uow.add(c)
    uow.flush()
    return c


def update_contract(uow: UnitOfWork, contract_id: int, data: dict) -> Contract:
    uow.actor.require("srm.write")
    c = uow.get(Contract, contract_id, for_update=True)
    if c.state != "draft":
        raise Conflict(_("只有草稿合同可以修改：{n}", n=c.number), field="state")
    merged = {"title": c.title, "valid_from": c.valid_from, "valid_to": c.valid_to, "currency_code": c.currency_code,
              "payment_terms_days": c.payment_terms_days, "payment_terms": c.payment_terms, "notes": c.notes}
    merged.update({k: v for k, v in data.items() if k != "prices"})
    _header(uow, c, merged)
    if "prices" in data:
        c.prices = _price_rows(uow, data["prices"] or [])
    uow.flush()
    return c


def activate_contract(uow: UnitOfWork, contract_id: int) -> Contract:
    """Put a draft agreement in force; refused for a supplier SRM does not allow buying from, or when another
    active agreement of the supplier already prices one of its items for an overlapping period."""
    uow.actor.require("srm.approve")
    c = uow.get(Contract, contract_id, for_update=True)
    if c.state != "draft":
        raise Conflict(_("只有草稿合同可以生效：{n}", n=c.number), field="state")
    if c.valid_to < company_today(uow):
        raise Conflict(_("合同截止日期已过，不能生效：{n}", n=c.number), field="valid_to")
    suppliers.require_can_order(uow, c.partner_id)
    products = {p.product_id for p in c.prices}
    clash = uow.session.scalar(
        select(Contract.number).join(PriceBreak, PriceBreak.contract_id == Contract.id)
        .where(Contract.company_id == uow.company_id, Contract.partner_id == c.partner_id, Contract.id != c.id,
               Contract.state == "active", Contract.valid_from <= c.valid_to, Contract.valid_to >= c.valid_from,
               PriceBreak.product_id.in_(products)).limit(1))
    if clash:
        raise Conflict(_("与生效中的合同 {n} 的商品和有效期重叠", n=clash), field="valid_from")
    c.state = "active"
    uow.flush()
    return c


def cancel_contract(uow: UnitOfWork, contract_id: int) -> Contract:
    uow.actor.require("srm.approve")
    c = uow.get(Contract, contract_id, for_update=True)
    if c.state in ("cancelled", "expired"):
        raise Conflict(_("合同已{state}：{n}", state=state_label(c.state), n=c.number), field="state")
    c.state = "cancelled"
    uow.flush()
    return c


def expire_contracts(uow: UnitOfWork, *, today: dt.date | None = None) -> int:
    """Active agreements past their end date become 已过期 (run daily with the reminders)."""
    today = today or company_today(uow)
    rows = list(uow.session.scalars(select(Contract).where(Contract.company_id == uow.company_id,
                                                           Contract.state == "active", Contract.valid_to < today)))
    for c in rows:
        c.state = "expired"
    uow.flush()
    return len(rows)


def agreed_price(uow: UnitOfWork, partner_id: int, product_id: int, quantity, day: dt.date,
                 currency_code: str | None = None) -> tuple[Decimal, Contract] | None:
    """The agreed unit price for buying `quantity` of a product from a supplier on `day`: the break with the
    largest minimum quantity not above it, in an active agreement valid that day (the lowest if several)."""
    qty = to_decimal(quantity)
    stmt = (select(PriceBreak.unit_price, Contract)
            .join(Contract, Contract.id == PriceBreak.contract_id)
            .where(Contract.company_id == uow.company_id, Contract.partner_id == partner_id,
                   Contract.state == "active", Contract.valid_from <= day, Contract.valid_to >= day,
                   PriceBreak.product_id == product_id, PriceBreak.min_quantity <= qty)
            .order_by(PriceBreak.min_quantity.desc()))
    if currency_code:
        stmt = stmt.where(Contract.currency_code == currency_code)
    best: dict[int, tuple[Decimal, Contract]] = {}
    for price, c in uow.session.execute(stmt):
        best.setdefault(c.id, (price, c))  # first row per contract = its highest applicable break
    if not best:
        return None
    return min(best.values(), key=lambda pc: pc[0])


def check_order_prices(uow: UnitOfWork, po) -> list[PriceWarning]:
    """Record a warning for each line of a purchase order priced above its agreement (same currency)."""
    has_contract = uow.session.scalar(select(Contract.id).where(
        Contract.company_id == uow.company_id, Contract.partner_id == po.supplier_id,
        Contract.state == "active").limit(1))
    if not has_contract:
        return []
    out = []
    for ln in po.lines:
        found = agreed_price(uow, po.supplier_id, ln.product_id, ln.quantity, po.order_date, po.currency_code)
        if found is None or to_decimal(ln.unit_price) <= found[0]:
            continue
        w = uow.session.scalar(select(PriceWarning).where(PriceWarning.order_line_id == ln.id))
        if w is None:
            w = uow.add(PriceWarning(order_id=po.id, order_number=po.number, order_line_id=ln.id,
                                     partner_id=po.supplier_id, product_id=ln.product_id, contract_id=found[1].id,
                                     quantity=ln.quantity,
                                     unit_price=ln.unit_price, agreed_price=found[0]))
        out.append(w)
    uow.flush()
    return out


def price_warnings(uow: UnitOfWork, *, order_id: int | None = None, partner_id: int | None = None,
                   limit: int = 500) -> list[dict]:
    stmt = select(PriceWarning).where(PriceWarning.company_id == uow.company_id)
    if order_id:
        stmt = stmt.where(PriceWarning.order_id == order_id)
    if partner_id:
        stmt = stmt.where(PriceWarning.partner_id == partner_id)
    rows = list(uow.session.scalars(stmt.order_by(PriceWarning.id.desc()).limit(limit)))
    contracts = {c.id: c for c in uow.session.scalars(select(Contract).where(
        Contract.id.in_({w.contract_id for w in rows})))} if rows else {}
    names = dict(uow.session.execute(select(Supplier.partner_id, Supplier.partner_name).where(
        Supplier.company_id == uow.company_id, Supplier.partner_id.in_({w.partner_id for w in rows}))).all())
    skus = {pid: inv.resolve_product(uow, pid).sku for pid in {w.product_id for w in rows}}
    out = []
    for w in rows:
        over = (to_decimal(w.unit_price) - to_decimal(w.agreed_price)) / to_decimal(w.agreed_price) * 100
        out.append({"id": w.id, "order_id": w.order_id, "order_number": w.order_number,
                    "order_line_id": w.order_line_id, "partner_id": w.partner_id,
                    "supplier": names.get(w.partner_id, ""), "product_id": w.product_id, "sku": skus[w.product_id],
                    "contract": contracts[w.contract_id].number,
                    "quantity": w.quantity, "unit_price": w.unit_price, "agreed_price": w.agreed_price,
                    "over_pct": over.quantize(Decimal("0.1")),
                    "message": _("单价 {p} 高于合同 {n} 的协议价 {a}", p=_money(w.unit_price),
                                 n=contracts[w.contract_id].number, a=_money(w.agreed_price))})
    return out


def contract_rows(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, partner_id: int | None = None,
                  limit: int = 50, offset: int = 0) -> tuple[list[tuple[Contract, Supplier]], int]:
    stmt = (select(Contract, Supplier).join(Supplier, Supplier.id == Contract.supplier_id)
            .where(Contract.company_id == uow.company_id))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Contract.number.ilike(like), Contract.title.ilike(like),
                              Supplier.partner_name.ilike(like), Supplier.partner_code.ilike(like)))
    if state:
        if state not in CONTRACT_LABELS:
            raise ValidationFailed(_("合同状态无效：{value}", value=state), field="state")
        stmt = stmt.where(Contract.state == state)
    if partner_id:
        stmt = stmt.where(Contract.partner_id == partner_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list(uow.session.execute(stmt.order_by(Contract.valid_from.desc(), Contract.id.desc())
                                    .limit(max(1, min(limit, 100000))).offset(max(0, offset))).all())
    return rows, total


def contract_dict(uow: UnitOfWork, c: Contract) -> dict:
    from opensupply.masterdata.models import Product

    skus = dict(uow.session.execute(select(Product.id, Product.sku).where(
        Product.id.in_({p.product_id for p in c.prices}))).all()) if c.prices else {}
    return {"id": c.id, "number": c.number, "partner_id": c.partner_id, "supplier_id": c.supplier_id,
            "title": c.title, "currency_code": c.currency_code, "valid_from": c.valid_from.isoformat(),
            "valid_to": c.valid_to.isoformat(), "payment_terms_days": c.payment_terms_days,
            "payment_terms": c.payment_terms, "state": c.state, "state_label": state_label(c.state), "notes": c.notes,
            "prices": [{"product_id": p.product_id, "sku": skus.get(p.product_id), "min_quantity": str(p.min_quantity),
                        "unit_price": str(p.unit_price)} for p in c.prices]}


def price_comparison(uow: UnitOfWork, product, *, date_from: dt.date | None = None,
                     date_to: dt.date | None = None) -> dict:
    """Side by side across suppliers for one product: what each was paid (from purchasing's orders: last, min,
    average, max, quantity) and what each has agreed today."""
    from opensupply.erp.purchasing import service as purchasing

    prod = inv.resolve_product(uow, product)
    history = purchasing.product_price_history(uow, prod.id, date_from=date_from, date_to=date_to)
    today = company_today(uow)
    partner_ids = {h["supplier_id"] for h in history}
    partner_ids |= set(uow.session.scalars(
        select(Contract.partner_id).join(PriceBreak, PriceBreak.contract_id == Contract.id)
        .where(Contract.company_id == uow.company_id, Contract.state == "active", PriceBreak.product_id == prod.id)))
    names = {s.partner_id: s for s in uow.session.scalars(select(Supplier).where(
        Supplier.company_id == uow.company_id, Supplier.partner_id.in_(partner_ids)))} if partner_ids else {}
    from opensupply.masterdata.models import Partner

    partners = {p.id: p for p in uow.session.scalars(select(Partner).where(Partner.id.in_(partner_ids)))} \
        if partner_ids else {}
    rows = []
    for pid in sorted(partner_ids, key=lambda i: partners[i].code if i in partners else ""):
        mine = [h for h in history if h["supplier_id"] == pid]
        qty = sum((to_decimal(h["quantity"]) for h in mine), Decimal(0))
        value = sum((to_decimal(h["quantity"]) * to_decimal(h["unit_price"]) for h in mine), Decimal(0))
        agreed = agreed_price(uow, pid, prod.id, Decimal(1) if not mine else mine[0]["quantity"], today)
        rows.append({
            "partner_id": pid, "code": partners[pid].code if pid in partners else "",
            "name": partners[pid].name if pid in partners else "",
            "status": names[pid].status if pid in names else suppliers.UNREGISTERED,
            "orders": len(mine), "quantity": qty,
            "last_price": mine[0]["unit_price"] if mine else None,
            "last_date": mine[0]["order_date"] if mine else None,
            "min_price": min((h["unit_price"] for h in mine), default=None),
            "max_price": max((h["unit_price"] for h in mine), default=None),
            "avg_price": (value / qty).quantize(Decimal("0.0001")) if qty else None,
            "agreed_price": agreed[0] if agreed else None,
            "currency": mine[0]["currency_code"] if mine else (agreed[1].currency_code if agreed else ""),
        })
    return {"product": {"id": prod.id, "sku": prod.sku, "name": prod.name}, "suppliers": rows, "history": [
        {**h, "supplier": partners[h["supplier_id"]].name if h["supplier_id"] in partners else ""} for h in history]}
