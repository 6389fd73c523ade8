"""Freight bill reconciliation (运费对账): a carrier's monthly bill matched waybill by waybill to our quotes.

1. `import_bill` — CSV/XLSX with columns 运单号, 运费金额 (also accepted: 金额 / 应付金额 / 费用合计) and optionally
   计费重量 / 备注; each line is matched to the shipment with that waybill and compared with the chosen quote:
   variance % = (billed − expected) ÷ expected × 100; status ``matched`` within ± tolerance, ``over`` / ``under``
   outside it, ``unknown`` when no shipment (or no quote) matches. A file is taken once per carrier (hash).
2. `approve_line` — approved amount = billed or expected (or a typed amount); `approve_bill` approves the
   matched lines at their billed amount and needs every over / under / unknown line decided first.
3. `post_bill` — one voucher through `accounting.service.post_entry`: Dr 660102 销售费用-运费 / Cr 2202 应付账款
   (partner = the carrier); the approved amount of each line becomes its shipment's ``actual_cost``.
   (A journal entry, not an ERP vendor bill: freight has no goods, no receipt and no 3-way match.)
4. `freight_cost_report` — freight per order by customer / channel from the shipments' actual (else quoted) cost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select

from opensupply.accounting import service as acc
from opensupply.core import tabular
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from .models import TmsFreightBill, TmsFreightBillLine, TmsShipment
from .rates import ImportRejected

ZERO = Decimal(0)
CENT = Decimal("0.01")
FREIGHT_ACCOUNT = ("660102", "销售费用-运费")
register_sequence("TMS_FB", "YF{year}-", 5)

STATUS_LABELS = {"matched": _l("相符"), "over": _l("多收"), "under": _l("少收"), "unknown": _l("未匹配"),
                 "approved": _l("已核准")}
STATE_LABELS = {"draft": _l("待核对"), "approved": _l("已核准"), "posted": _l("已入账")}
AMOUNT_COLUMNS = ("运费金额", "应付金额", "费用合计", "金额", "运费")
WEIGHT_COLUMNS = ("计费重量", "计费重量(kg)", "重量")


def _m(v) -> str:
    return str(Decimal(v).quantize(CENT))


def _money(v: Decimal) -> Decimal:
    return Decimal(v).quantize(CENT, rounding=ROUND_HALF_UP)


def _num(text: str, what: str) -> Decimal:
    try:
        d = Decimal(text.replace(",", "").replace("¥", "").strip())
    except InvalidOperation as exc:
        raise ValidationFailed(_("{f}不是数字：{v}", f=what, v=text)) from exc
    if not d.is_finite() or d < 0:
        raise ValidationFailed(_("{f}不能为负：{v}", f=what, v=text))
    return d


def classify(billed: Decimal, expected: Decimal | None, tolerance_pct: Decimal) -> tuple[str, Decimal | None]:
    """(status, variance %) of a billed amount against the expected one."""
    if expected is None or expected == 0:
        return "unknown", None
    variance = ((billed - expected) / expected * 100).quantize(CENT, rounding=ROUND_HALF_UP)
    if variance > tolerance_pct:
        return "over", variance
    if variance < -tolerance_pct:
        return "under", variance
    return "matched", variance


# ------------------------------------------------------------------ import
def import_bill(uow: UnitOfWork, carrier_id: int, filename: str, data: bytes, *,
                tolerance_pct: Decimal | str = Decimal(5)) -> TmsFreightBill:
    carrier = uow.get(md.Partner, carrier_id)
    if not carrier.is_carrier:
        raise ValidationFailed(_("{name} 不是承运商", name=carrier.name), field="carrier_id")
    tol = _num(str(tolerance_pct), _("容差"))
    digest = hashlib.sha256(data).hexdigest()
    dup = uow.session.scalars(select(TmsFreightBill).where(TmsFreightBill.company_id == uow.company_id,
                                                           TmsFreightBill.carrier_id == carrier_id,
                                                           TmsFreightBill.file_hash == digest)).first()
    if dup is not None:
        raise Conflict(_("该账单文件已导入过：{n}", n=dup.number), field="file", code="duplicate_file")
    table = tabular.read_table(filename, data)
    amount_col = next((c for c in AMOUNT_COLUMNS if c in table.header), None)
    weight_col = next((c for c in WEIGHT_COLUMNS if c in table.header), None)
    if "运单号" not in table.header or amount_col is None:
        raise ValidationFailed(_("缺少列：运单号、运费金额"), field="file")
    parsed, rejected = [], []
    for line_no, rec in table.records():
        try:
            tn = (rec.get("运单号") or "").strip()
            if not tn:
                raise ValidationFailed(_("运单号为空"))
            amount = _num(rec.get(amount_col) or "", amount_col)
            weight = _num(rec[weight_col], weight_col) if weight_col and rec.get(weight_col) else None
            parsed.append((line_no, tn, amount, weight, (rec.get("备注") or "")[:300] or None))
        except ValidationFailed as exc:
            rejected.append({"line": line_no, "reason": exc.message})
    if rejected:
        raise ImportRejected(_("{n} 行有误，未导入：{rows}", n=len(rejected), rows="；".join(
            _("第 {line} 行：{reason}", line=r["line"], reason=r["reason"]) for r in rejected[:20])), rejected)
    if not parsed:
        raise ValidationFailed(_("文件中没有账单行"), field="file")
    ships = {s.tracking_number: s for s in uow.session.scalars(select(TmsShipment).where(
        TmsShipment.company_id == uow.company_id, TmsShipment.tracking_number.in_({p[1] for p in parsed})))}
    bill = TmsFreightBill(number=next_number(uow, "TMS_FB"), carrier_id=carrier_id, file_name=(filename or "")[:200],
                          file_hash=digest, tolerance_pct=tol, state="draft")
    for line_no, tn, amount, weight, note in parsed:
        ship = ships.get(tn)
        if ship is not None and ship.carrier_id not in (None, carrier_id):
            ship = None  # another carrier's waybill
        expected = ship.quoted_cost if ship is not None else None
        status, variance = classify(amount, expected, tol)
        bill.lines.append(TmsFreightBillLine(line_no=line_no, tracking_number=tn[:80],
                                             shipment_id=ship.id if ship else None, billed_weight_kg=weight,
                                             billed_amount=_money(amount), expected_amount=expected,
                                             variance_pct=variance, status=status, note=note))
    bill.total_billed = _money(sum((ln.billed_amount for ln in bill.lines), ZERO))
    uow.add(bill)
    uow.flush()
    return bill


def get_bill(uow: UnitOfWork, bill_id: int, *, for_update: bool = False) -> TmsFreightBill:
    return uow.get(TmsFreightBill, bill_id, for_update=for_update)


def _line(uow: UnitOfWork, line_id: int) -> tuple[TmsFreightBill, TmsFreightBillLine]:
    ln = uow.session.get(TmsFreightBillLine, line_id)
    if ln is None:
        raise NotFound(_("账单行不存在：#{id}", id=line_id))
    bill = get_bill(uow, ln.bill_id, for_update=True)  # another company's line: not found
    return bill, ln


# ------------------------------------------------------------------ approval
def approve_line(uow: UnitOfWork, line_id: int, *, use: str = "billed", amount: Decimal | None = None,
                 note: str | None = None) -> TmsFreightBillLine:
    """Decide one line: pay the billed amount, the expected (quoted) amount, or a typed amount."""
    bill, ln = _line(uow, line_id)
    if bill.state != "draft":
        raise Conflict(_("账单 {n} 已核准，不能修改", n=bill.number), field="state")
    if use == "billed":
        value = ln.billed_amount
    elif use == "expected":
        if ln.expected_amount is None:
            raise ValidationFailed(_("运单 {t} 没有报价，不能按报价核准", t=ln.tracking_number), field="use")
        value = ln.expected_amount
    elif use == "amount":
        if amount is None:
            raise ValidationFailed(_("请填写核准金额"), field="amount")
        value = _num(str(amount), _("核准金额"))
    else:
        raise ValidationFailed(_("核准方式不正确：{u}", u=use), field="use")
    ln.approved_amount = _money(value)
    if note:
        ln.note = note[:300]
    uow.flush()
    return ln


def approve_bill(uow: UnitOfWork, bill_id: int) -> TmsFreightBill:
    """Approve the whole bill: matched lines at their billed amount; the others must be decided already."""
    bill = get_bill(uow, bill_id, for_update=True)
    if bill.state != "draft":
        raise Conflict(_("账单 {n} 已核准", n=bill.number), field="state")
    open_ = [ln for ln in bill.lines if ln.approved_amount is None and ln.status != "matched"]
    if open_:
        raise Conflict(_("还有 {n} 行差异未处理：{t}", n=len(open_), t="、".join(ln.tracking_number
                                                                            for ln in open_[:10])), field="lines")
    for ln in bill.lines:
        if ln.approved_amount is None:
            ln.approved_amount = ln.billed_amount
    bill.total_approved = _money(sum((ln.approved_amount for ln in bill.lines), ZERO))
    bill.state = "approved"
    uow.flush()
    return bill


def ensure_freight_account(uow: UnitOfWork) -> str:
    """660102 销售费用-运费 (in the preset chart); for older charts it is added through the accounts resource
    when missing (by a user allowed to edit the chart), otherwise the freight goes to 6601 销售费用 itself."""
    from opensupply.accounting.models import Account
    from opensupply.accounting.resources import accounts
    from opensupply.core import resource as rs

    code, name = FREIGHT_ACCOUNT
    acc.ensure_books(uow)
    if uow.session.scalars(select(Account.id).where(Account.company_id == uow.company_id,
                                                    Account.code == code)).first() is None:
        if not uow.actor.can(accounts.write_permission):
            return acc.account_code("selling_expense")
        rs.create_record(uow, accounts, {"code": code, "name": name, "account_type": "expense",
                                         "balance_side": "debit"})
    return code


def post_bill(uow: UnitOfWork, bill_id: int, *, date: dt.date | None = None) -> TmsFreightBill:
    """Book the approved bill (Dr 销售费用-运费 / Cr 应付账款 carrier) and set the shipments' actual cost."""
    bill = get_bill(uow, bill_id, for_update=True)
    if bill.state == "posted":
        raise Conflict(_("账单 {n} 已入账", n=bill.number), field="state")
    if bill.state != "approved":
        raise Conflict(_("账单 {n} 还未核准", n=bill.number), field="state")
    date = date or company_today(uow)
    code = ensure_freight_account(uow)
    carrier = uow.get(md.Partner, bill.carrier_id)
    memo = _("运费账单 {n}（{c}）", n=bill.number, c=carrier.name)
    entry = acc.post_entry(uow, journal="GEN", date=date, memo=memo, reference=bill.number,
                           ref_type="tms_freight_bill", ref_id=bill.id, lines=[
                               acc.EntryLine(code, debit=bill.total_approved, memo=memo),
                               acc.EntryLine(acc.account_code("payable"), credit=bill.total_approved,
                                             partner_id=bill.carrier_id, memo=memo)])
    bill.journal_entry_id = entry.id
    bill.state = "posted"
    per_ship: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for ln in bill.lines:
        if ln.shipment_id:
            per_ship[ln.shipment_id] += ln.approved_amount or ZERO
    if per_ship:
        for ship in uow.session.scalars(select(TmsShipment).where(TmsShipment.id.in_(per_ship))):
            ship.actual_cost = _money((ship.actual_cost or ZERO) + per_ship[ship.id])
    uow.flush()
    uow.emit("tms.freight_bill_posted", bill_id=bill.id, number=bill.number, carrier_id=bill.carrier_id,
             amount=_m(bill.total_approved), journal_entry_id=entry.id)
    return bill


# ------------------------------------------------------------------ lists and reports
def list_bills(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, carrier_id: int | None = None,
               limit: int = 50, offset: int = 0) -> tuple[list[TmsFreightBill], int]:
    b = TmsFreightBill
    stmt = select(b).where(b.company_id == uow.company_id)
    if q:
        stmt = stmt.where(b.number.ilike(f"%{q}%") | b.file_name.ilike(f"%{q}%"))
    if state:
        stmt = stmt.where(b.state == state)
    if carrier_id:
        stmt = stmt.where(b.carrier_id == carrier_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(uow.session.scalars(stmt.order_by(b.id.desc()).limit(limit).offset(offset))), total


def bill_dict(uow: UnitOfWork, bill: TmsFreightBill, *, lines: bool = False) -> dict:
    carrier = uow.session.get(md.Partner, bill.carrier_id)
    counts = defaultdict(int)
    for ln in bill.lines:
        counts[ln.status] += 1
    d = {"id": bill.id, "number": bill.number, "carrier_id": bill.carrier_id,
         "carrier": carrier.name if carrier else None, "file_name": bill.file_name,
         "tolerance_pct": f"{bill.tolerance_pct.normalize():f}", "state": bill.state,
         "state_label": str(STATE_LABELS.get(bill.state, bill.state)), "total_billed": _m(bill.total_billed),
         "total_approved": _m(bill.total_approved), "journal_entry_id": bill.journal_entry_id,
         "lines_count": len(bill.lines), "counts": dict(counts)}
    if lines:
        d["lines"] = [{"id": ln.id, "line_no": ln.line_no, "tracking_number": ln.tracking_number,
                       "shipment_id": ln.shipment_id,
                       "billed_weight_kg": (f"{ln.billed_weight_kg.normalize():f}"
                                            if ln.billed_weight_kg is not None else None),
                       "billed_amount": _m(ln.billed_amount),
                       "expected_amount": _m(ln.expected_amount) if ln.expected_amount is not None else None,
                       "variance_pct": _m(ln.variance_pct) if ln.variance_pct is not None else None,
                       "status": ln.status, "status_label": str(STATUS_LABELS.get(ln.status, ln.status)),
                       "approved_amount": _m(ln.approved_amount) if ln.approved_amount is not None else None,
                       "note": ln.note} for ln in bill.lines]
    return d


def freight_cost_report(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None
                        ) -> list[dict]:
    """Freight per order by customer and channel: each shipment's actual cost (else its quote) split evenly
    over the orders it shipped."""
    from opensupply.oms.models import OmsFulfilmentLine, OmsOrder, OmsShop

    s = TmsShipment
    stmt = select(s.id, s.fulfilment_id, func.coalesce(s.actual_cost, s.quoted_cost)).where(
        s.company_id == uow.company_id, s.fulfilment_id.is_not(None), s.status != "cancelled")
    if date_from:
        stmt = stmt.where(s.created_at >= dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC))
    if date_to:
        stmt = stmt.where(s.created_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min,
                                                             tzinfo=dt.UTC))
    ships = uow.session.execute(stmt).all()
    if not ships:
        return []
    fids = {f for _i, f, _c in ships}
    orders_of: dict[int, set[int]] = defaultdict(set)
    for fid, oid in uow.session.execute(select(OmsFulfilmentLine.fulfilment_id, OmsFulfilmentLine.order_id).where(
            OmsFulfilmentLine.fulfilment_id.in_(fids), OmsFulfilmentLine.order_id.is_not(None))):
        orders_of[fid].add(oid)
    oids = {o for v in orders_of.values() for o in v}
    info = {oid: (cust, name, channel) for oid, cust, name, channel in uow.session.execute(
        select(OmsOrder.id, OmsShop.customer_id, md.Partner.name, OmsOrder.channel)
        .join(OmsShop, OmsShop.id == OmsOrder.shop_id).outerjoin(md.Partner, md.Partner.id == OmsShop.customer_id)
        .where(OmsOrder.id.in_(oids)))} if oids else {}
    groups: dict[tuple, dict] = {}
    for _sid, fid, cost in ships:
        oset = orders_of.get(fid) or set()
        if not oset or cost is None:
            continue
        share = Decimal(cost) / len(oset)
        for oid in oset:
            cust, name, channel = info.get(oid, (None, None, None))
            g = groups.setdefault((cust, channel), {"customer_id": cust, "customer": name, "channel": channel,
                                                    "orders": set(), "shipments": set(), "freight": ZERO})
            g["orders"].add(oid)
            g["shipments"].add(_sid)
            g["freight"] += share
    out = []
    for g in groups.values():
        n = len(g["orders"])
        out.append({"customer_id": g["customer_id"], "customer": g["customer"], "channel": g["channel"],
                    "orders": n, "shipments": len(g["shipments"]), "freight": str(_money(g["freight"])),
                    "per_order": str(_money(g["freight"] / n)) if n else "0.00"})
    return sorted(out, key=lambda r: (-Decimal(r["freight"]), r["customer"] or ""))
