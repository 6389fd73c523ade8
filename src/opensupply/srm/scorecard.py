"""Supplier scorecards per month (`2026-11`) or quarter (`2026-Q4`), recomputed for the whole period (so the
ranking stays right) when a receipt is done or cancelled, when an incoming inspection is recorded, or on demand.

Measures of one supplier in a period [start, end] (dates where the company is):

* **on-time delivery %** = receipt lines received on or before their due date ÷ receipt lines with a due date
  × 100; the due date is the date the supplier promised when confirming the order in the portal, else the
  order's expected date (the date the RFQ asked for); lines of orders with neither are not counted.
* **defect rate (ppm)** = defective units ÷ inspected (sampled) units × 1,000,000, over the incoming inspections of
  receipts dated in the period (`inspections.record_inspection`).
* **price variance %** = Σ (paid − reference) × qty ÷ Σ reference × qty × 100 over receipt lines; the reference is
  the agreed contract price (SRM price agreements) when one applies, else the quantity-weighted average price
  all suppliers were paid for that product in the period. Positive = dearer than the reference.
* **response time (hours)** = average of invitation → first bid over RFQ invitations sent in the period that
  were answered.
* **complaints** = supplier complaints reported in the period.

Each measure becomes a 0–100 score: delivery = on-time %; quality = 100 − ppm ÷ 1,000; price = 100 − 5 ×
variance %; response = 100 − 10 × hours ÷ 24; complaints = 100 − 20 × count (each clamped to 0–100). The total
is the weighted mean (weights in `ScorecardSettings`) of the scores a supplier has data for (complaints always
count); measures are rounded to 2 places before scoring, the total to 2 places. Rank 1 is the best total; equal
totals share a rank.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select

from opensupply.core.errors import NotFound, ValidationFailed
from opensupply.core.events import Event, subscribe
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.masterdata import models as md

from .tender_models import Bid, InspectionDefect, ReceiptInspection, Rfq, RfqInvite, Scorecard, ScorecardSettings

READ = "srm.read"
WRITE = "srm.write"
HUNDRED = Decimal(100)
Q2 = Decimal("0.01")
METRICS = ("delivery", "quality", "price", "response", "complaints")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def r2(x: Decimal) -> Decimal:
    return x.quantize(Q2, rounding=ROUND_HALF_UP)


def _clamp(x: Decimal) -> Decimal:
    return max(ZERO, min(HUNDRED, x))


# ------------------------------------------------------------------ periods
def parse_period(period: str) -> tuple[str, dt.date, dt.date]:
    text = (period or "").strip().upper()
    m = _MONTH.match(text)
    if m and 1 <= int(m.group(2)) <= 12:
        y, mo = int(m.group(1)), int(m.group(2))
        return "month", dt.date(y, mo, 1), dt.date(y, mo, calendar.monthrange(y, mo)[1])
    m = _QUARTER.match(text)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        first = 3 * (q - 1) + 1
        return "quarter", dt.date(y, first, 1), dt.date(y, first + 2, calendar.monthrange(y, first + 2)[1])
    raise ValidationFailed(_("期间格式应为 2026-11（月）或 2026-Q4（季度）：{p}", p=period), field="period")


def period_of(day: dt.date, kind: str = "month") -> str:
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def recent_periods(day: dt.date, kind: str, n: int) -> list[str]:
    out, y, m = [], day.year, day.month
    step = 3 if kind == "quarter" else 1
    for _i in range(n):
        out.append(period_of(dt.date(y, m, 1), kind))
        m -= step
        while m < 1:
            m += 12
            y -= 1
    return list(reversed(out))


# ------------------------------------------------------------------ settings
def settings(uow: UnitOfWork) -> ScorecardSettings:
    row = uow.session.scalar(select(ScorecardSettings).where(ScorecardSettings.company_id == uow.company_id))
    if row is None:
        row = ScorecardSettings(company_id=uow.company_id, w_delivery=Decimal(35), w_quality=Decimal(30),
                                w_price=Decimal(15), w_response=Decimal(10), w_complaints=Decimal(10))
        if not uow.readonly:
            uow.add(row)
            uow.flush()
    return row


def weights(uow: UnitOfWork) -> dict[str, Decimal]:
    s = settings(uow)
    return {m: to_decimal(getattr(s, f"w_{m}")) for m in METRICS}


def update_weights(uow: UnitOfWork, data: dict) -> ScorecardSettings:
    uow.actor.require(WRITE)
    s = settings(uow)
    new = {}
    for m in METRICS:
        raw = data.get(m, data.get(f"w_{m}"))
        if raw in (None, ""):
            continue
        try:
            v = to_decimal(raw)
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationFailed(_("权重必须是数字：{v}", v=raw), field=m) from None
        if not v.is_finite() or v < 0 or v > 1000:
            raise ValidationFailed(_("权重应在 0 到 1000 之间"), field=m)
        new[m] = v
    merged = {m: new.get(m, to_decimal(getattr(s, f"w_{m}"))) for m in METRICS}
    if sum(merged.values()) <= 0:
        raise ValidationFailed(_("权重不能全部为 0"), field="delivery")
    for m, v in new.items():
        setattr(s, f"w_{m}", v)
    uow.flush()
    return s


# ------------------------------------------------------------------ computing
def _company_tz(uow: UnitOfWork) -> ZoneInfo:
    company_today(uow)
    return uow.session.info["company_tz"]


def _agreed_price(uow: UnitOfWork, partner_id: int, product_id: int, qty, day: dt.date) -> Decimal | None:
    from opensupply.srm import contracts

    found = contracts.agreed_price(uow, partner_id, product_id, qty, day)
    return to_decimal(found[0]) if found else None


def _complaints(uow: UnitOfWork, ids, start: dt.date, end: dt.date) -> dict[int, int]:
    from opensupply.srm import complaints

    return {pid: int(c["total"]) for pid, c in complaints.complaint_counts(uow, ids, start, end).items()}


def measure(uow: UnitOfWork, start: dt.date, end: dt.date) -> dict[int, dict]:
    """The raw measures of every supplier with activity in [start, end] (see the module docstring)."""
    from opensupply.srm import portal

    lines = purchasing.received_lines(uow, start, end)
    promised = portal.promised_dates(uow, {ln["order_id"] for ln in lines})
    acc: dict[int, dict] = defaultdict(lambda: {"lines_received": 0, "lines_on_time": 0, "sample": ZERO,
                                                "defective": ZERO, "pv_num": ZERO, "pv_den": ZERO, "invites": 0,
                                                "responses": 0, "hours": ZERO, "complaints": 0})
    qty_by_product: dict[int, Decimal] = defaultdict(lambda: ZERO)
    value_by_product: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for ln in lines:
        qty_by_product[ln["product_id"]] += ln["quantity"]
        value_by_product[ln["product_id"]] += ln["quantity"] * ln["unit_price"]
    for ln in lines:
        a = acc[ln["supplier_id"]]
        due = promised.get(ln["order_id"]) or ln["expected_date"]
        if due is not None:
            a["lines_received"] += 1
            if ln["receipt_date"] <= due:
                a["lines_on_time"] += 1
        ref = _agreed_price(uow, ln["supplier_id"], ln["product_id"], ln["quantity"], ln["receipt_date"])
        if ref is None:
            ref = value_by_product[ln["product_id"]] / qty_by_product[ln["product_id"]]
        a["pv_num"] += (ln["unit_price"] - ref) * ln["quantity"]
        a["pv_den"] += ref * ln["quantity"]
    for ins in uow.session.scalars(select(ReceiptInspection).where(
            ReceiptInspection.company_id == uow.company_id, ReceiptInspection.receipt_date >= start,
            ReceiptInspection.receipt_date <= end)):
        a = acc[ins.partner_id]
        a["sample"] += to_decimal(ins.sample_size)
        a["defective"] += to_decimal(ins.defective_qty)
    tz = _company_tz(uow)
    lo = dt.datetime.combine(start, dt.time(0), tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    rows = uow.session.execute(select(RfqInvite.partner_id, RfqInvite.invited_at, Bid.first_submitted_at)
                               .join(Rfq, Rfq.id == RfqInvite.rfq_id)
                               .outerjoin(Bid, (Bid.rfq_id == RfqInvite.rfq_id) & (Bid.partner_id ==
                                                                                  RfqInvite.partner_id))
                               .where(RfqInvite.company_id == uow.company_id, RfqInvite.invited_at >= lo,
                                      RfqInvite.invited_at < hi))
    for pid, invited_at, first_bid in rows:
        a = acc[pid]
        a["invites"] += 1
        if first_bid is not None:
            a["responses"] += 1
            a["hours"] += Decimal(str((first_bid - invited_at).total_seconds())) / Decimal(3600)
    suppliers = set(uow.session.scalars(select(md.Partner.id).where(md.Partner.company_id == uow.company_id,
                                                                    md.Partner.is_supplier.is_(True))))
    for pid, n in _complaints(uow, suppliers | set(acc), start, end).items():
        if n or pid in acc:
            acc[pid]["complaints"] = n
    return dict(acc)


def score_of(m: dict, w: dict[str, Decimal]) -> dict:
    """Rounded measures, the per-measure scores and the weighted total of one supplier's raw measures."""
    out = {"lines_received": m["lines_received"], "lines_on_time": m["lines_on_time"], "sample_qty": m["sample"],
           "defective_qty": m["defective"], "invites": m["invites"], "responses": m["responses"],
           "complaints": m["complaints"]}
    out["on_time_pct"] = r2(Decimal(m["lines_on_time"]) * HUNDRED / m["lines_received"]) if m["lines_received"] \
        else None
    out["defect_ppm"] = r2(m["defective"] * Decimal(1000000) / m["sample"]) if m["sample"] > 0 else None
    out["price_variance_pct"] = r2(m["pv_num"] * HUNDRED / m["pv_den"]) if m["pv_den"] > 0 else None
    out["response_hours"] = r2(m["hours"] / m["responses"]) if m["responses"] else None
    scores = {"complaints": _clamp(HUNDRED - 20 * Decimal(m["complaints"]))}
    if out["on_time_pct"] is not None:
        scores["delivery"] = _clamp(out["on_time_pct"])
    if out["defect_ppm"] is not None:
        scores["quality"] = _clamp(HUNDRED - out["defect_ppm"] / Decimal(1000))
    if out["price_variance_pct"] is not None:
        scores["price"] = _clamp(HUNDRED - 5 * out["price_variance_pct"])
    if out["response_hours"] is not None:
        scores["response"] = _clamp(HUNDRED - out["response_hours"] * 10 / 24)
    den = sum((w[k] for k in scores), ZERO)
    out["scores"] = {k: r2(v) for k, v in scores.items()}
    out["score"] = r2(sum((w[k] * v for k, v in scores.items()), ZERO) / den) if den > 0 else None
    return out


def compute_period(uow: UnitOfWork, period: str) -> list[Scorecard]:
    """(Re)compute every supplier's scorecard of one period and rank them; suppliers without activity any more
    lose their row for that period."""
    kind, start, end = parse_period(period)
    period = period_of(start, kind)
    w = weights(uow)
    raw = measure(uow, start, end)
    existing = {sc.partner_id: sc for sc in uow.session.scalars(select(Scorecard).where(
        Scorecard.company_id == uow.company_id, Scorecard.period == period).with_for_update())}
    gone = set(existing) - set(raw)
    if gone:
        uow.session.execute(delete(Scorecard).where(Scorecard.company_id == uow.company_id,
                                                    Scorecard.period == period, Scorecard.partner_id.in_(gone)))
    now = utcnow()
    rows = []
    for pid, m in raw.items():
        s = score_of(m, w)
        sc = existing.get(pid) or uow.add(Scorecard(partner_id=pid, period=period))
        sc.period_kind, sc.start, sc.end, sc.computed_at = kind, start, end, now
        for key in ("lines_received", "lines_on_time", "on_time_pct", "sample_qty", "defective_qty", "defect_ppm",
                    "price_variance_pct", "invites", "responses", "response_hours", "complaints", "score"):
            setattr(sc, key, s[key])
        rows.append(sc)
    ranked = sorted((sc for sc in rows if sc.score is not None), key=lambda sc: -sc.score)
    for i, sc in enumerate(ranked):
        sc.rank = ranked[i - 1].rank if i and ranked[i - 1].score == sc.score else i + 1
    uow.flush()
    return rows


def recompute(uow: UnitOfWork, period: str) -> list[Scorecard]:
    uow.actor.require(WRITE)
    return compute_period(uow, period)


def recompute_for_day(uow: UnitOfWork, day: dt.date) -> None:
    for kind in ("month", "quarter"):
        compute_period(uow, period_of(day, kind))


@subscribe("erp.receipt_done", "srm.scorecard.on_receipt_done")
def _on_receipt_done(uow: UnitOfWork, event: Event) -> None:
    day = event.payload.get("date")
    if day:
        recompute_for_day(uow, dt.date.fromisoformat(str(day)[:10]))


@subscribe("erp.receipt_cancelled", "srm.scorecard.on_receipt_cancelled")
def _on_receipt_cancelled(uow: UnitOfWork, event: Event) -> None:
    info = purchasing.receipt_summaries(uow, [event.payload["receipt_id"]]).get(int(event.payload["receipt_id"]))
    if info:
        recompute_for_day(uow, info["date"])


# ------------------------------------------------------------------ reading
def _sc_dict(sc: Scorecard, partner: md.Partner | None) -> dict:
    def s(v):
        return None if v is None else str(v)

    return {"partner_id": sc.partner_id, "code": partner.code if partner else "", "name": partner.name if partner
            else "", "period": sc.period, "period_kind": sc.period_kind, "start": sc.start.isoformat(),
            "end": sc.end.isoformat(), "lines_received": sc.lines_received, "lines_on_time": sc.lines_on_time,
            "on_time_pct": s(sc.on_time_pct), "sample_qty": s(sc.sample_qty), "defective_qty": s(sc.defective_qty),
            "defect_ppm": s(sc.defect_ppm), "price_variance_pct": s(sc.price_variance_pct), "invites": sc.invites,
            "responses": sc.responses, "response_hours": s(sc.response_hours), "complaints": sc.complaints,
            "score": s(sc.score), "rank": sc.rank,
            "computed_at": sc.computed_at.isoformat() if sc.computed_at else None}


def _partners(uow: UnitOfWork, ids) -> dict[int, md.Partner]:
    ids = set(ids)
    if not ids:
        return {}
    return {p.id: p for p in uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == uow.company_id, md.Partner.id.in_(ids)))}


def ranking(uow: UnitOfWork, period: str, *, q: str | None = None) -> list[dict]:
    """A period's scorecards, best first (unscored last)."""
    uow.actor.require(READ)
    kind, start, _end = parse_period(period)
    rows = list(uow.session.scalars(select(Scorecard).where(Scorecard.company_id == uow.company_id,
                                                            Scorecard.period == period_of(start, kind))))
    partners = _partners(uow, [sc.partner_id for sc in rows])
    out = [_sc_dict(sc, partners.get(sc.partner_id)) for sc in rows]
    if q and q.strip():
        t = q.strip().lower()
        out = [d for d in out if t in d["code"].lower() or t in d["name"].lower()]
    return sorted(out, key=lambda d: (d["rank"] is None, d["rank"] or 0, d["code"]))


def export_rows(uow: UnitOfWork, period: str, q: str | None = None) -> tuple[list[str], list[list]]:
    header = [_("排名"), _("供应商编码"), _("供应商"), _("准时交货率%"), _("收货行"), _("不良率 ppm"), _("抽检数"),
              _("价格偏差%"), _("响应时间(小时)"), _("投诉数"), _("综合得分")]
    return header, [[d["rank"], d["code"], d["name"], d["on_time_pct"], d["lines_received"], d["defect_ppm"],
                     d["sample_qty"], d["price_variance_pct"], d["response_hours"], d["complaints"], d["score"]]
                    for d in ranking(uow, period, q=q)]


def trend(uow: UnitOfWork, partner_id: int, kind: str = "month", n: int = 12, *, check: bool = True) -> dict:
    """One supplier's scorecards over the last `n` periods (None where it had no activity)."""
    if check:
        uow.actor.require(READ)
    kind = "quarter" if kind == "quarter" else "month"
    periods = recent_periods(company_today(uow), kind, n)
    rows = {sc.period: sc for sc in uow.session.scalars(select(Scorecard).where(
        Scorecard.company_id == uow.company_id, Scorecard.partner_id == int(partner_id),
        Scorecard.period.in_(periods)))}
    partner = _partners(uow, [int(partner_id)]).get(int(partner_id))
    items = [_sc_dict(rows[p], partner) if p in rows else None for p in periods]

    def series(key):
        return [float(i[key]) if i and i[key] is not None else None for i in items]

    return {"partner_id": int(partner_id), "code": partner.code if partner else "",
            "name": partner.name if partner else "", "kind": kind, "periods": periods,
            "items": [i for i in items if i], "chart": {
                "periods": periods, "score": series("score"), "on_time_pct": series("on_time_pct"),
                "defect_ppm": series("defect_ppm"), "price_variance_pct": series("price_variance_pct")}}


# ------------------------------------------------------------------ incoming inspections of receipts
register_sequence("SRM_IQC", "IQC{year}-", 6)


def _receipt(uow: UnitOfWork, ref: int | str) -> dict:
    text = str(ref or "").strip()
    if not text:
        raise ValidationFailed(_("请输入收货单号"), field="receipt")
    rid = int(text) if text.isdigit() else None
    if rid is None:
        rows, _total = purchasing.receipt_rows(uow, q=text, limit=20)
        rid = next((r.id for r in rows if r.number == text), None)
    info = purchasing.receipt_summaries(uow, [rid]).get(rid) if rid else None
    if info is None:
        raise NotFound(_("收货单不存在：{ref}", ref=text), field="receipt")
    return dict(info, id=rid)


def record_inspection(uow: UnitOfWork, receipt: int | str, *, sample_size, defects: list[tuple[str, object]] = (),
                      defective_qty=None, notes: str | None = None) -> ReceiptInspection:
    """Record the incoming inspection of a goods receipt: units sampled and defects by type. The defective
    units default to the sum of the defects (give them when one unit carries several defects)."""
    uow.actor.require(WRITE)
    info = _receipt(uow, receipt)
    try:
        sample = to_decimal(sample_size)
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationFailed(_("抽检数量格式不正确：{v}", v=sample_size), field="sample_size") from None
    if not sample.is_finite() or sample <= 0:
        raise ValidationFailed(_("抽检数量必须大于 0"), field="sample_size")
    rows = []
    for i, (kind, qty) in enumerate(defects):
        kind = (kind or "").strip()
        if not kind and qty in (None, "", 0):
            continue
        try:
            q = to_decimal(qty)
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationFailed(_("第 {n} 个缺陷：数量格式不正确", n=i + 1), field="defects") from None
        if not kind:
            raise ValidationFailed(_("第 {n} 个缺陷：请输入缺陷类型", n=i + 1), field="defects")
        if not q.is_finite() or q <= 0:
            raise ValidationFailed(_("第 {n} 个缺陷：数量必须大于 0", n=i + 1), field="defects")
        rows.append(InspectionDefect(company_id=uow.company_id, defect_type=kind[:60], quantity=q))
    if defective_qty in (None, ""):
        defective = sum((d.quantity for d in rows), ZERO)
    else:
        try:
            defective = to_decimal(defective_qty)
        except (ArithmeticError, ValueError, TypeError):
            raise ValidationFailed(_("不良数量格式不正确：{v}", v=defective_qty), field="defective_qty") from None
        if not defective.is_finite() or defective < 0:
            raise ValidationFailed(_("不良数量不能为负数"), field="defective_qty")
    if defective > sample:
        raise ValidationFailed(_("不良数量 {d} 不能超过抽检数量 {s}", d=defective.normalize(), s=sample.normalize()),
                               field="defective_qty")
    ins = uow.add(ReceiptInspection(number=next_number(uow, "SRM_IQC"), receipt_id=info["id"],
                                    partner_id=info["supplier_id"], receipt_date=info["date"], sample_size=sample,
                                    defective_qty=defective, inspector=uow.actor.username,
                                    notes=(notes or "").strip()[:500] or None, defects=rows))
    uow.flush()
    uow.emit("srm.receipt_inspected", inspection_id=ins.id, receipt_id=info["id"], partner_id=info["supplier_id"],
             defective=defective)
    recompute_for_day(uow, info["date"])
    return ins


def inspection_rows(uow: UnitOfWork, *, q: str | None = None, partner_id: int | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[list[dict], int]:
    uow.actor.require(READ)
    stmt = select(ReceiptInspection).where(ReceiptInspection.company_id == uow.company_id)
    if partner_id:
        stmt = stmt.where(ReceiptInspection.partner_id == int(partner_id))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(ReceiptInspection.number.ilike(like), ReceiptInspection.partner_id.in_(
            select(md.Partner.id).where(md.Partner.company_id == uow.company_id,
                                        or_(md.Partner.name.ilike(like), md.Partner.code.ilike(like))))))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(ReceiptInspection.id.desc()).limit(limit).offset(offset)))
    receipts = purchasing.receipt_summaries(uow, [r.receipt_id for r in rows])
    partners = _partners(uow, [r.partner_id for r in rows])
    return [{"id": r.id, "number": r.number, "receipt_id": r.receipt_id,
             "receipt": receipts.get(r.receipt_id, {}).get("receipt", ""),
             "order": receipts.get(r.receipt_id, {}).get("order", ""), "receipt_date": r.receipt_date.isoformat(),
             "partner_id": r.partner_id, "supplier": partners[r.partner_id].name if r.partner_id in partners else "",
             "sample_size": str(r.sample_size), "defective_qty": str(r.defective_qty),
             "ppm": str(r2(to_decimal(r.defective_qty) * Decimal(1000000) / to_decimal(r.sample_size))),
             "defects": [{"type": d.defect_type, "quantity": str(d.quantity)} for d in r.defects],
             "inspector": r.inspector, "notes": r.notes} for r in rows], total
