"""Platform settlement reconciliation (对账): import a platform bill, match every line to its
channel order, list what does not add up, and post the money to the general ledger.

Use cases (each takes the caller's unit of work first and never commits):

* ``import_settlement(uow, shop_id, file_bytes, filename, *, fmt=None) -> OmsSettlement`` — reads a
  支付宝账务明细 / 京东结算单 / 拼多多货款账单 / generic CSV (see ``settlement_formats``), stores one line per
  money row, classified income / fee / refund / other and matched to the shop's order by its
  platform order number, then reconciles. The same file twice (same bytes, same shop) is the
  same settlement. A file with unreadable rows is refused as a whole (``SettlementRejected``
  names every bad line): a bill with holes would report payments as missing.
* ``reconcile(uow, settlement_id) -> dict`` — matches lines again (orders imported since are found)
  and returns the exceptions, also marking each line (``order_id``, ``match``, ``expected_amount``;
  derived data, written one statement per batch and not audited row by row — the lines themselves
  are bulk-inserted with one audit row listing them).
* ``reconciliation(uow, settlement_id) -> dict`` — the same result read-only (pages).
* ``post_settlement(uow, settlement_id) -> OmsSettlement`` — books the bill (once).

Exceptions (``kind``), one per order and kind:

* ``unknown_order`` — the bill names an order number this shop does not have.
* ``amount_diff`` — for an order with income/refund lines: income + refunds in the bill ≠ the order's
  实付款 less what the OMS knows was refunded (a refunded or cancelled order: everything; else the
  returns' refund amounts) less what the shop's other bills already brought for it, beyond 0.01.
* ``fee_diff`` — the fees of an order differ from what the shop expects, beyond ``fee_tolerance``
  (default 0.01). Expectations live in the shop's settings: ``{"fee_rate": "0.05"}`` — all fee lines
  of an order together are expected to be 5 % of the order's net income in the bill (its 实付款 when
  the bill has no income for it); or per fee item ``{"fee_rates": {"技术服务费": "0.05", "花呗服务费":
  "0.006"}}`` — each listed item is checked on its own, unlisted items are not checked. A shop with
  neither is not fee-checked. Fee lines without an order (annual software fees …) are never flagged.
* ``paid_not_shipped`` — the platform paid (net income > 0) for an order the OMS has not shipped
  (pending … picking).
* ``shipped_not_paid`` — an order of the shop shipped (or delivered) in the bill's period (支付宝: the
  export's 起始日期–终止日期; other formats: the first to the last line's date), not
  refunded, with 实付款 > 0, and no income for it in this or any other settlement of the shop.
  ``{"settle_days": 10}`` in the shop's settings leaves orders shipped in the period's last 10 days
  out (the platform pays after the buyer confirms receipt).

Posting (all dated the bill's last day): the customer money (income + refunds) is a receipt of
the shop's customer partner through ``erp.sales.service.register_receipt`` into 1012 其他货币资金
(``platform_cash``), allocated to the open invoices of the bill's orders (their ERP sales orders:
the fulfilment lines' sales orders and the sales orders whose source_ref is the platform order
number); what settles no invoice stays the customer's credit (2203) by ERP's rules. A negative
customer money (more refunded than paid) is Dr 2203 / Cr 1012. Fees: Dr 660101 销售费用-平台服务费 /
Cr 1012 (the sub-account is created in the chart when missing and the actor may edit the chart;
otherwise 6601 销售费用). Other lines: 提现 Dr 1002 银行存款 / Cr 1012, anything else (保证金 …)
against 1221 其他应收款. So 1012 moves by exactly the bill's net.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from opensupply.accounting import service as gl
from opensupply.accounting.service import EntryLine
from opensupply.core.audit import record_many
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork

from . import settlement_formats as sf
from .models import OmsFulfilment, OmsFulfilmentLine, OmsOrder, OmsReturn, OmsSettlement, OmsSettlementLine, OmsShop

register_sequence("OMS_ST", "ST{year}-", 6)

CENT = Decimal("0.01")
EXCEPTION_KINDS = {
    "unknown_order": _l("未知订单"),
    "amount_diff": _l("金额不符"),
    "fee_diff": _l("费用不符"),
    "paid_not_shipped": _l("已收款未发货"),
    "shipped_not_paid": _l("已发货未收款"),
}
KIND_LABELS = {"income": _l("收入"), "fee": _l("费用"), "refund": _l("退款"), "other": _l("其他")}
MATCH_LABELS = {"matched": _l("已匹配"), "amount_diff": _l("金额不符"), "unknown_order": _l("未知订单"),
                "paid_not_shipped": _l("已收款未发货"), "fee": _l("费用"), "fee_diff": _l("费用不符"),
                "refund": _l("退款"), "other": _l("其他")}
STATE_LABELS = {"draft": _l("待过账"), "posted": _l("已过账")}
SHIPPED = ("shipped", "delivered")
NOT_SHIPPED = ("pending", "approved", "allocated", "picking")
REF_TYPE = "oms_settlement"
FEE_ACCOUNT = ("660101", "销售费用-平台服务费")


def m(value) -> Decimal:
    """An amount to the cent (the database keeps more places)."""
    return to_decimal(value or 0).quantize(CENT)


class SettlementRejected(ValidationFailed):
    code = "settlement_rejected"

    def __init__(self, errors: list[dict]):
        super().__init__(_("对账单有 {n} 行无法读取，未导入：{first}", n=len(errors),
                           first="；".join(_("第 {line} 行：{reason}", line=e["line"], reason=e["reason"])
                                          for e in errors[:5])), field="file")
        self.errors = errors

    def as_dict(self) -> dict:
        d = super().as_dict()
        d["error"]["rows"] = self.errors
        return d


# ------------------------------------------------------------------ import
def _tz(uow: UnitOfWork) -> ZoneInfo:
    company_today(uow)  # caches the company's zone on the session
    return uow.session.info.get("company_tz") or ZoneInfo("Asia/Shanghai")


def _shop(uow: UnitOfWork, shop_id: int) -> OmsShop:
    try:
        return uow.get(OmsShop, int(shop_id))
    except (TypeError, ValueError):
        raise NotFound(_("店铺不存在：{id}", id=shop_id), field="shop_id") from None


def import_settlement(uow: UnitOfWork, shop_id: int, file_bytes: bytes, filename: str | None, *,
                      fmt: str | None = None) -> OmsSettlement:
    """Import a platform bill for `shop_id` (idempotent on the file's bytes) and reconcile it."""
    shop = _shop(uow, shop_id)
    digest = hashlib.sha256(file_bytes or b"").hexdigest()
    found = uow.session.scalar(select(OmsSettlement).where(OmsSettlement.company_id == uow.company_id,
                                                           OmsSettlement.shop_id == shop.id,
                                                           OmsSettlement.file_hash == digest))
    if found is not None:
        return found
    bill = sf.parse_bill(file_bytes, filename, fmt=fmt)
    if bill.errors:
        raise SettlementRejected([e.as_dict() for e in bill.errors])
    if not bill.lines:
        raise ValidationFailed(_("对账单没有明细行"), field="file")
    tz = _tz(uow)
    day = bill.period_to or company_today(uow)
    st = OmsSettlement(number=next_number(uow, "OMS_ST", on=day), shop_id=shop.id,
                       file_name=(filename or "")[:200] or None, file_hash=digest, period_from=bill.period_from,
                       period_to=bill.period_to, state="draft")
    by_kind: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for ln in bill.lines:
        by_kind[ln.kind] += ln.amount
    st.total_income, st.total_fees, st.total_refunds = by_kind["income"], by_kind["fee"], by_kind["refund"]
    try:
        with uow.session.begin_nested():  # the same file uploaded twice at once: the other one wins
            uow.add(st)
            uow.flush()
    except IntegrityError:
        found = uow.session.scalar(select(OmsSettlement).where(OmsSettlement.company_id == uow.company_id,
                                                               OmsSettlement.shop_id == shop.id,
                                                               OmsSettlement.file_hash == digest))
        if found is None:
            raise
        return found
    # the lines in one statement per batch; one audit row lists them (as a voucher's lines are)
    now, user = utcnow(), uow.actor.user_id
    rows = [{"settlement_id": st.id, "line_no": ln.line, "channel_order_id": ln.channel_order_id or None,
             "kind": ln.kind, "description": ln.item or None, "amount": ln.amount,
             "occurred_at": ln.occurred_at.replace(tzinfo=tz).astimezone(dt.UTC) if ln.occurred_at else None,
             "note": ln.note or None, "created_at": now, "updated_at": now, "created_by_id": user,
             "updated_by_id": user} for ln in bill.lines]
    for i in range(0, len(rows), 2000):
        uow.session.execute(insert(OmsSettlementLine), rows[i:i + 2000])
    record_many(uow.session, [dict(action="lines", entity="oms_settlement", entity_id=st.id, after={"lines": [
        [r["line_no"], r["channel_order_id"], r["kind"], r["description"], str(r["amount"])] for r in rows]})])
    uow.session.expire(st, ["lines"])
    reconcile(uow, st.id)
    uow.emit("oms.settlement_imported", settlement_id=st.id, number=st.number, shop_id=shop.id,
             lines=len(bill.lines))
    return st


# ------------------------------------------------------------------ reconciliation
def _settings(shop: OmsShop) -> dict:
    return shop.settings if isinstance(shop.settings, dict) else {}


def _dec(value, default: Decimal | None = None) -> Decimal | None:
    if value in (None, ""):
        return default
    try:
        return to_decimal(value)
    except Exception:
        return default


def _chunks(values, size: int = 500):
    items = sorted(set(values))
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _orders_by_id(uow: UnitOfWork, ids) -> dict[int, OmsOrder]:
    out: dict[int, OmsOrder] = {}
    for chunk in _chunks(ids):
        for o in uow.session.scalars(select(OmsOrder).where(OmsOrder.company_id == uow.company_id,
                                                            OmsOrder.id.in_(chunk))):
            out[o.id] = o
    return out


def _match_orders(uow: UnitOfWork, st: OmsSettlement) -> None:
    """Point every line at its order (by platform order number within the shop). The link is
    derived data: written with one statement per batch, not audited row by row."""
    orders: dict[str, int] = {}
    for chunk in _chunks(ln.channel_order_id for ln in st.lines if ln.channel_order_id):
        orders.update((coid, oid) for coid, oid in uow.session.execute(
            select(OmsOrder.channel_order_id, OmsOrder.id).where(
                OmsOrder.company_id == uow.company_id, OmsOrder.shop_id == st.shop_id,
                OmsOrder.channel_order_id.in_(chunk))))
    changed = []
    for ln in st.lines:
        oid = orders.get(ln.channel_order_id) if ln.channel_order_id else None
        if oid != ln.order_id:
            set_committed_value(ln, "order_id", oid)
            changed.append({"_id": ln.id, "order_id": oid})
    _update_lines(uow, changed, order_id=bindparam("order_id"))


def _update_lines(uow: UnitOfWork, rows: list[dict], **values) -> None:
    if not rows:
        return
    t = OmsSettlementLine.__table__
    stmt = update(t).where(t.c.id == bindparam("_id")).values(**values)
    conn = uow.session.connection()
    for i in range(0, len(rows), 2000):
        conn.execute(stmt, rows[i:i + 2000])


def _known_refunds(uow: UnitOfWork, orders: dict[int, OmsOrder]) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for chunk in _chunks(orders):
        rows = uow.session.execute(select(OmsReturn.order_id, func.sum(OmsReturn.refund_amount)).where(
            OmsReturn.company_id == uow.company_id, OmsReturn.order_id.in_(chunk),
            OmsReturn.status != "cancelled").group_by(OmsReturn.order_id))
        out.update({oid: to_decimal(total or 0) for oid, total in rows})
    return out


def _other_bills(uow: UnitOfWork, st: OmsSettlement, order_ids: list[int]) -> dict[int, Decimal]:
    """Income + refunds per order in the shop's other settlements (a refund often comes a bill later)."""
    out: dict[int, Decimal] = {}
    for chunk in _chunks(order_ids):
        rows = uow.session.execute(
            select(OmsSettlementLine.order_id, func.sum(OmsSettlementLine.amount))
            .join(OmsSettlement, OmsSettlement.id == OmsSettlementLine.settlement_id)
            .where(OmsSettlement.company_id == uow.company_id, OmsSettlement.shop_id == st.shop_id,
                   OmsSettlement.id != st.id, OmsSettlementLine.order_id.in_(chunk),
                   OmsSettlementLine.kind.in_(("income", "refund")))
            .group_by(OmsSettlementLine.order_id))
        out.update({oid: to_decimal(total or 0) for oid, total in rows})
    return out


def _other_shops(uow: UnitOfWork, shop_id: int, channel_order_ids: list[str]) -> dict[str, str]:
    """Platform order number → name of the company's other shop that has it (a bill filed under the wrong shop)."""
    out: dict[str, str] = {}
    for chunk in _chunks(channel_order_ids):
        out.update((coid, name) for coid, name in uow.session.execute(
            select(OmsOrder.channel_order_id, OmsShop.name).join(OmsShop, OmsShop.id == OmsOrder.shop_id)
            .where(OmsOrder.company_id == uow.company_id, OmsOrder.shop_id != shop_id,
                   OmsOrder.channel_order_id.in_(chunk))))
    return out


def _effective_status(uow: UnitOfWork, order: OmsOrder) -> str:
    if order.merged_into_id:
        target = uow.session.get(OmsOrder, order.merged_into_id)
        if target is not None:
            return target.status
    return order.status


def _expected_net(order: OmsOrder, refunds: Decimal) -> Decimal:
    paid = to_decimal(order.paid_amount)
    if order.refund_status == "refunded" or order.status == "cancelled":
        return ZERO if refunds == 0 else max(paid - refunds, ZERO)
    return paid - refunds


def _exception(kind: str, *, order: OmsOrder | None = None, channel_order_id: str | None = None,
               amount: Decimal | None = None, expected: Decimal | None = None, lines: list | None = None,
               message: str = "", item: str | None = None) -> dict:
    return {"kind": kind, "label": str(EXCEPTION_KINDS[kind]),
            "channel_order_id": order.channel_order_id if order else channel_order_id,
            "order_id": order.id if order else None, "order_number": order.number if order else None,
            "order_status": order.status if order else None, "item": item,
            "amount": str(m(amount)) if amount is not None else None,
            "expected": str(m(expected)) if expected is not None else None,
            "difference": str(m(amount - expected)) if amount is not None and expected is not None else None,
            "lines": [ln.line_no for ln in lines or []], "message": message}


def _compute(uow: UnitOfWork, st: OmsSettlement) -> tuple[list[dict], dict[int, tuple[str, Decimal | None, str]]]:
    """Exceptions, and per line id (match, expected amount, note). Needs lines matched to orders."""
    shop = uow.get(OmsShop, st.shop_id)
    settings = _settings(shop)
    orders = _orders_by_id(uow, (ln.order_id for ln in st.lines if ln.order_id))
    refunds_known = _known_refunds(uow, orders)
    earlier = _other_bills(uow, st, list(orders))
    tolerance = _dec(settings.get("fee_tolerance"), CENT)
    fee_rate = _dec(settings.get("fee_rate"))
    item_rates = {str(k): _dec(v) for k, v in (settings.get("fee_rates") or {}).items()
                  if _dec(v) is not None} if isinstance(settings.get("fee_rates"), dict) else {}
    exceptions: list[dict] = []
    marks: dict[int, tuple[str, Decimal | None, str]] = {}

    unknown: dict[str, list[OmsSettlementLine]] = defaultdict(list)
    by_order: dict[int, list[OmsSettlementLine]] = defaultdict(list)
    for ln in st.lines:
        if ln.order_id:
            by_order[ln.order_id].append(ln)
        elif ln.channel_order_id and ln.kind in ("income", "refund", "fee"):
            unknown[ln.channel_order_id].append(ln)
        else:
            marks[ln.id] = ("fee" if ln.kind == "fee" else "other", None, "")
    elsewhere = _other_shops(uow, st.shop_id, list(unknown))
    for coid, lines in unknown.items():
        total = sum((to_decimal(ln.amount) for ln in lines), ZERO)
        msg = _("对账单上的订单 {o} 在本店铺不存在", o=coid)
        if coid in elsewhere:
            msg += _("（属于店铺 {s}，是否选错了店铺？）", s=elsewhere[coid])
        exceptions.append(_exception("unknown_order", channel_order_id=coid, amount=total, lines=lines, message=msg))
        for ln in lines:
            marks[ln.id] = ("unknown_order", None, msg)

    for oid, lines in by_order.items():
        order = orders[oid]
        money = [ln for ln in lines if ln.kind in ("income", "refund")]
        fees = [ln for ln in lines if ln.kind == "fee"]
        net = sum((to_decimal(ln.amount) for ln in money), ZERO)
        for ln in lines:
            marks[ln.id] = ({"income": "matched", "refund": "refund", "fee": "fee"}.get(ln.kind, "other"), None, "")
        if money:
            expected = _expected_net(order, refunds_known.get(oid, ZERO)) - earlier.get(oid, ZERO)
            status = _effective_status(uow, order)
            if abs(net - expected) > CENT:
                msg = _("订单 {o} 实收 {a}，应收 {e}（实付款 {p}）", o=order.channel_order_id, a=m(net), e=m(expected),
                        p=m(order.paid_amount))
                exceptions.append(_exception("amount_diff", order=order, amount=net, expected=expected, lines=money,
                                             message=msg))
                for ln in money:
                    marks[ln.id] = ("amount_diff", expected, msg)
            elif net > CENT and status in NOT_SHIPPED:
                msg = _("订单 {o} 已收款 {a}，但尚未发货", o=order.channel_order_id, a=m(net))
                exceptions.append(_exception("paid_not_shipped", order=order, amount=net, lines=money, message=msg))
                for ln in money:
                    marks[ln.id] = ("paid_not_shipped", None, msg)
        if fees and (fee_rate is not None or item_rates):
            base = max(net, ZERO) if money else to_decimal(order.paid_amount)
            groups: list[tuple[str | None, list, Decimal]] = []
            if item_rates:
                for item, rate in item_rates.items():
                    its = [ln for ln in fees if (ln.description or "") == item]
                    if its:
                        groups.append((item, its, rate))
            else:
                groups.append((None, fees, fee_rate))
            for item, its, rate in groups:
                actual = -sum((to_decimal(ln.amount) for ln in its), ZERO)  # fees are money out: shown positive
                expected = (base * rate).quantize(CENT)
                if abs(actual - expected) > tolerance:
                    msg = _("订单 {o} {item}扣 {a}，按费率 {r} 应为 {e}", o=order.channel_order_id,
                            item=item or _("平台费用"), a=m(actual), r=rate, e=expected)
                    exceptions.append(_exception("fee_diff", order=order, amount=actual, expected=expected,
                                                 lines=its, message=msg, item=item))
                    for ln in its:
                        marks[ln.id] = ("fee_diff", -expected, msg)

    exceptions += _shipped_not_paid(uow, st, shop, settings)
    order_key = list(EXCEPTION_KINDS)
    exceptions.sort(key=lambda e: (order_key.index(e["kind"]), e["channel_order_id"] or ""))
    return exceptions, marks


def _shipped_not_paid(uow: UnitOfWork, st: OmsSettlement, shop: OmsShop, settings: dict) -> list[dict]:
    if st.period_from is None or st.period_to is None:
        return []
    tz = _tz(uow)
    try:
        settle_days = max(0, int(settings.get("settle_days") or 0))
    except (TypeError, ValueError):
        settle_days = 0
    last = st.period_to - dt.timedelta(days=settle_days)
    if last < st.period_from:
        return []
    start = dt.datetime.combine(st.period_from, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(dt.UTC)
    shipped_at = (select(OmsFulfilmentLine.order_id, func.min(OmsFulfilment.shipped_at).label("at"))
                  .join(OmsFulfilment, OmsFulfilment.id == OmsFulfilmentLine.fulfilment_id)
                  .where(OmsFulfilment.company_id == uow.company_id, OmsFulfilment.shipped_at.is_not(None))
                  .group_by(OmsFulfilmentLine.order_id).subquery())
    when = func.coalesce(shipped_at.c.at, OmsOrder.paid_at, OmsOrder.ordered_at)
    paid_somewhere = (select(OmsSettlementLine.order_id)
                      .join(OmsSettlement, OmsSettlement.id == OmsSettlementLine.settlement_id)
                      .where(OmsSettlement.company_id == uow.company_id, OmsSettlement.shop_id == shop.id,
                             OmsSettlementLine.kind == "income", OmsSettlementLine.order_id.is_not(None)))
    stmt = (select(OmsOrder, when.label("at")).outerjoin(shipped_at, shipped_at.c.order_id == OmsOrder.id)
            .where(OmsOrder.company_id == uow.company_id, OmsOrder.shop_id == shop.id,
                   OmsOrder.status.in_(SHIPPED), OmsOrder.refund_status != "refunded", OmsOrder.paid_amount > 0,
                   when >= start, when < end, OmsOrder.id.not_in(paid_somewhere))
            .order_by(OmsOrder.channel_order_id))
    out = []
    for order, _at in uow.session.execute(stmt):
        msg = _("订单 {o} 已发货，实付款 {p}，对账单中没有这笔收入", o=order.channel_order_id, p=m(order.paid_amount))
        out.append(_exception("shipped_not_paid", order=order, amount=ZERO, expected=to_decimal(order.paid_amount),
                              message=msg))
    return out


def _result(st: OmsSettlement, exceptions: list[dict]) -> dict:
    counts = {k: 0 for k in EXCEPTION_KINDS}
    for e in exceptions:
        counts[e["kind"]] += 1
    return {"settlement_id": st.id, "number": st.number, "state": st.state,
            "lines": len(st.lines), "matched_lines": sum(1 for ln in st.lines if ln.order_id),
            "total_income": str(m(st.total_income)), "total_fees": str(m(st.total_fees)),
            "total_refunds": str(m(st.total_refunds)),
            "net": str(m(sum((to_decimal(ln.amount) for ln in st.lines), ZERO))),
            "counts": counts, "exceptions": exceptions}


def _get(uow: UnitOfWork, settlement_id: int, *, for_update: bool = False) -> OmsSettlement:
    return uow.get(OmsSettlement, int(settlement_id), for_update=for_update)


def reconcile(uow: UnitOfWork, settlement_id: int) -> dict:
    """Match the lines to orders again, mark each line, and return the exceptions."""
    st = _get(uow, settlement_id, for_update=True)
    _match_orders(uow, st)
    exceptions, marks = _compute(uow, st)
    changed = []
    for ln in st.lines:
        match, expected, _note = marks.get(ln.id, ("other", None, ""))
        if (match, expected) != (ln.match, None if ln.expected_amount is None else to_decimal(ln.expected_amount)):
            set_committed_value(ln, "match", match)
            set_committed_value(ln, "expected_amount", expected)
            changed.append({"_id": ln.id, "match": match, "expected_amount": expected})
    _update_lines(uow, changed, match=bindparam("match"), expected_amount=bindparam("expected_amount"))
    return _result(st, exceptions)


def reconciliation(uow: UnitOfWork, settlement_id: int) -> dict:
    """The reconciliation as it stands, without writing (lines keep their stored matches)."""
    st = _get(uow, settlement_id)
    exceptions, _marks = _compute(uow, st)
    return _result(st, exceptions)


# ------------------------------------------------------------------ posting
def _fee_account(uow: UnitOfWork) -> str:
    code, name = FEE_ACCOUNT
    try:
        gl.accounts_by_code(uow, {code})
        return code
    except ValidationFailed:
        pass
    if uow.actor.can("accounting.write"):
        from opensupply.accounting.resources import accounts
        from opensupply.core import resource as rs

        rs.create_record(uow, accounts, {"code": code, "name": name, "account_type": "expense",
                                         "balance_side": "debit"})
        return code
    return "selling_expense"


def _sales_orders_of(uow: UnitOfWork, shop: OmsShop, orders: list[OmsOrder]) -> dict[int, set[int]]:
    """OMS order id → ids of the ERP sales orders behind it."""
    from opensupply.erp.sales.models import SalesOrder

    out: dict[int, set[int]] = defaultdict(set)
    if not orders:
        return out
    for chunk in _chunks(o.id for o in orders):
        for oid, so in uow.session.execute(select(OmsFulfilmentLine.order_id, OmsFulfilmentLine.sales_order_id)
                                           .where(OmsFulfilmentLine.order_id.in_(chunk),
                                                  OmsFulfilmentLine.sales_order_id.is_not(None))):
            out[oid].add(so)
    by_ref = {o.channel_order_id: o.id for o in orders}
    for chunk in _chunks(by_ref):
        for so_id, ref in uow.session.execute(select(SalesOrder.id, SalesOrder.source_ref).where(
                SalesOrder.company_id == uow.company_id, SalesOrder.source_ref.in_(chunk),
                SalesOrder.state != "cancelled",
                or_(SalesOrder.channel == shop.channel, SalesOrder.created_by_module == "oms"))):
            out[by_ref[ref]].add(so_id)
    return out


def _allocations(uow: UnitOfWork, shop: OmsShop, st: OmsSettlement, budget: Decimal) -> list[tuple[int, Decimal]]:
    """(invoice id, amount) for the open invoices of the bill's orders, up to what each order brought in
    and, all together, up to the money received (`budget`: refunds of other orders come off it)."""
    from opensupply.erp.sales import service as sales

    net_by_order: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for ln in st.lines:
        if ln.order_id and ln.kind in ("income", "refund"):
            net_by_order[ln.order_id] += to_decimal(ln.amount)
    orders = list(_orders_by_id(uow, net_by_order).values())
    sos = _sales_orders_of(uow, shop, orders)
    out: list[tuple[int, Decimal]] = []
    for o in sorted(orders, key=lambda x: x.id):
        left = net_by_order[o.id]
        for so_id in sorted(sos.get(o.id, ())):
            for invoice in sales.invoices_of(uow, so_id):
                if left <= 0 or budget <= 0:
                    break
                if invoice.customer_id != shop.customer_id:
                    continue
                take = min(left, budget, sales.open_amount(invoice))
                if take > 0:
                    out.append((invoice.id, take))
                    left -= take
                    budget -= take
    return out


def post_settlement(uow: UnitOfWork, settlement_id: int) -> OmsSettlement:
    """Book the bill: receipt of the customer money, fees and other movements (see the module docstring)."""
    from opensupply.erp.sales import service as sales

    st = _get(uow, settlement_id, for_update=True)
    if st.state == "posted":
        raise Conflict(_("结算单 {n} 已过账，不能重复过账", n=st.number), code="already_posted")
    shop = uow.get(OmsShop, st.shop_id)
    if not shop.customer_id:
        raise ValidationFailed(_("店铺 {s} 没有设置平台客户，无法登记收款", s=shop.name), field="customer_id")
    _match_orders(uow, st)
    day = st.period_to or company_today(uow)
    customer_money = sum((to_decimal(ln.amount) for ln in st.lines if ln.kind in ("income", "refund")), ZERO)
    fees = sum((to_decimal(ln.amount) for ln in st.lines if ln.kind == "fee"), ZERO)
    memo = _("平台结算 {n} {shop}", n=st.number, shop=shop.name)
    lines: list[EntryLine] = []
    if customer_money > 0:
        customer_money = m(customer_money)
        receipt = sales.register_receipt(uow, shop.customer_id, customer_money,
                                         _allocations(uow, shop, st, customer_money),
                                         receipt_date=day, account="platform_cash", method=shop.channel,
                                         reference=st.number, notes=memo)
        st.receipt_id = receipt.id
    elif customer_money < 0:
        lines += [EntryLine("customer_advance", debit=-customer_money, partner_id=shop.customer_id,
                            memo=_("退款超过收入")),
                  EntryLine("platform_cash", credit=-customer_money, memo=_("退款超过收入"))]
    if fees:
        fee_acct = _fee_account(uow)
        lines += [EntryLine(fee_acct, debit=-fees, memo=_("平台服务费")),
                  EntryLine("platform_cash", credit=-fees, memo=_("平台服务费"))]
    for ln in st.lines:
        if ln.kind != "other" or not to_decimal(ln.amount):
            continue
        amt = to_decimal(ln.amount)
        text = f"{ln.description or ''} {ln.note or ''}"
        other = "bank" if "提现" in text else "1221"
        lines += [EntryLine("platform_cash", debit=amt, memo=(ln.description or "")[:200]),
                  EntryLine(other, credit=amt, memo=(ln.description or "")[:200])]
    if lines:
        entry = gl.post_entry(uow, journal="BNK", date=day, lines=lines, memo=memo, reference=st.number,
                              ref_type=REF_TYPE, ref_id=st.id)
        st.journal_entry_id = entry.id
    st.state = "posted"
    uow.flush()
    uow.emit("oms.settlement_posted", settlement_id=st.id, number=st.number, shop_id=shop.id,
             receipt_id=st.receipt_id, journal_entry_id=st.journal_entry_id)
    return st


# ------------------------------------------------------------------ listings
def list_settlements(uow: UnitOfWork, *, q: str | None = None, shop_id: int | None = None, state: str | None = None,
                     date_from: dt.date | None = None, date_to: dt.date | None = None, limit: int = 50,
                     offset: int = 0) -> tuple[list[OmsSettlement], int]:
    stmt = select(OmsSettlement).where(OmsSettlement.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(OmsSettlement.number.ilike(like), OmsSettlement.file_name.ilike(like)))
    if shop_id:
        stmt = stmt.where(OmsSettlement.shop_id == shop_id)
    if state:
        stmt = stmt.where(OmsSettlement.state == state)
    if date_from:
        stmt = stmt.where(or_(OmsSettlement.period_to.is_(None), OmsSettlement.period_to >= date_from))
    if date_to:
        stmt = stmt.where(or_(OmsSettlement.period_from.is_(None), OmsSettlement.period_from <= date_to))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(OmsSettlement.id.desc()).limit(limit).offset(offset)))
    return rows, total


FLAGGED = ("unknown_order", "amount_diff", "fee_diff", "paid_not_shipped")


def flagged_lines(uow: UnitOfWork, settlement_ids: list[int]) -> dict[int, int]:
    """Lines marked with an exception at the last reconciliation, per settlement (one query)."""
    if not settlement_ids:
        return {}
    rows = uow.session.execute(select(OmsSettlementLine.settlement_id, func.count()).where(
        OmsSettlementLine.settlement_id.in_(settlement_ids), OmsSettlementLine.match.in_(FLAGGED))
        .group_by(OmsSettlementLine.settlement_id))
    return {sid: n for sid, n in rows}


def shops(uow: UnitOfWork) -> list[OmsShop]:
    return list(uow.session.scalars(select(OmsShop).where(OmsShop.company_id == uow.company_id)
                                    .order_by(OmsShop.code)))


def expectations(shop: OmsShop) -> list[str]:
    """The shop's fee expectations in words (shown next to the exceptions)."""
    settings = _settings(shop)
    out = []
    if _dec(settings.get("fee_rate")) is not None:
        out.append(_("平台费用合计按订单收入的 {r} 核对", r=settings["fee_rate"]))
    rates = settings.get("fee_rates")
    if isinstance(rates, dict):
        out += [_("{item} 按 {r} 核对", item=k, r=v) for k, v in rates.items() if _dec(v) is not None]
    if not out:
        out.append(_("店铺未设置费率（fee_rate / fee_rates），不核对平台费用"))
    if settings.get("settle_days"):
        out.append(_("期末 {n} 天内发货的订单不计入已发货未收款", n=settings["settle_days"]))
    return out


def settlement_out(st: OmsSettlement, *, shop: OmsShop | None = None, lines: bool = False) -> dict:
    d = {"id": st.id, "number": st.number, "shop_id": st.shop_id, "shop": shop.name if shop else None,
         "file_name": st.file_name, "period_from": st.period_from.isoformat() if st.period_from else None,
         "period_to": st.period_to.isoformat() if st.period_to else None, "state": st.state,
         "total_income": str(m(st.total_income)), "total_fees": str(m(st.total_fees)),
         "total_refunds": str(m(st.total_refunds)),
         "journal_entry_id": st.journal_entry_id, "receipt_id": st.receipt_id}
    if lines:
        d["lines"] = [{"id": ln.id, "line_no": ln.line_no, "channel_order_id": ln.channel_order_id,
                       "order_id": ln.order_id, "kind": ln.kind, "description": ln.description,
                       "amount": str(m(ln.amount)),
                       "occurred_at": ln.occurred_at.isoformat() if ln.occurred_at else None, "match": ln.match,
                       "expected_amount": str(m(ln.expected_amount)) if ln.expected_amount is not None
                       else None, "note": ln.note} for ln in st.lines]
    return d
