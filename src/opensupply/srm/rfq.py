"""RFQs / tenders: a numbered request (RFQ2026-000001) with lines, invited suppliers, a bid deadline and terms;
draft → open (sent to the invited suppliers' portal) → closed (deadline passed, or closed by hand) → awarded,
or cancelled.

Bids are SEALED: until the deadline passes (or the RFQ is closed) nobody on the buying side can read a price —
`bid_status` gives only who has bid and when; `comparison` and everything built on it (pages, API, export)
refuse with 409 `sealed`. A supplier revises its own bid until the deadline (through `portal.submit_bid`).

An RFQ can be started from an MRP planned purchase (`create_rfq_from_planned_order`, 发起询价 on the planning
page): its line asks for the planned product, quantity and due date, the planned order is firmed, the award gives
it the purchase order, a cancellation puts it back in the plan.

After closing, `comparison` shows per line every bid's price, lead time, terms and line total, with the lowest
price per line marked, and the supplier's latest scorecard score. `award` gives each line (or parts of its
quantity) to bidders: one draft purchase order per awarded supplier through ERP purchasing at the bid prices,
linked back to the RFQ; every invited supplier is told the result in the portal.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md

from .tender_models import Bid, PortalNotice, Rfq, RfqAward, RfqInvite, RfqLine, Scorecard

register_sequence("SRM_RFQ", "RFQ{year}-", 6)

READ = "srm.read"
WRITE = "srm.write"
STATES = {"draft": _l("草稿"), "open": _l("投标中"), "closed": _l("已截标"), "awarded": _l("已授标"),
          "cancelled": _l("已取消")}


class Sealed(Conflict):
    code = "sealed"


def state_label(state: str) -> str:
    return str(STATES.get(state, state))


def effective_state(rfq: Rfq, now: dt.datetime | None = None) -> str:
    """An open RFQ whose deadline has passed is closed, whether or not anyone closed it."""
    now = now or utcnow()
    if rfq.state == "open" and rfq.deadline <= now:
        return "closed"
    return rfq.state


def is_sealed(rfq: Rfq, now: dt.datetime | None = None) -> bool:
    return effective_state(rfq, now) in ("draft", "open")


def require_unsealed(rfq: Rfq) -> None:
    if is_sealed(rfq):
        raise Sealed(_("询价单 {n} 尚未截标，报价密封，截止后才能查看价格", n=rfq.number), field="deadline")


def require_can_order(uow: UnitOfWork, partner_id: int) -> None:
    """SRM supplier status (suspended / eliminated / not yet approved may not be bought from or invited)."""
    from opensupply.srm import suppliers

    suppliers.require_can_order(uow, partner_id)


def _partners(uow: UnitOfWork, ids) -> dict[int, md.Partner]:
    ids = {int(i) for i in ids}
    if not ids:
        return {}
    return {p.id: p for p in uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == uow.company_id, md.Partner.id.in_(ids)))}


def _products(uow: UnitOfWork, ids) -> dict[int, md.Product]:
    ids = {int(i) for i in ids}
    if not ids:
        return {}
    return {p.id: p for p in uow.session.scalars(select(md.Product).where(
        md.Product.company_id == uow.company_id, md.Product.id.in_(ids)))}


def _dec(value, field: str, *, positive: bool = True) -> Decimal:
    try:
        d = to_decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationFailed(_("数字格式不正确：{v}", v=value), field=field) from None
    if not d.is_finite() or (positive and d <= 0) or d < 0:
        raise ValidationFailed(_("必须是大于 0 的数字：{v}", v=value) if positive else _("不能为负数：{v}", v=value),
                               field=field)
    return d


# ------------------------------------------------------------------ create / open / close / cancel
@dataclass
class RfqLineIn:
    product: int | str
    quantity: Decimal | str | int
    unit: str | None = None
    required_date: dt.date | None = None


def _check_supplier(uow: UnitOfWork, partner_id) -> md.Partner:
    p = purchasing.resolve_supplier(uow, partner_id)
    require_can_order(uow, p.id)
    return p


def create_rfq(uow: UnitOfWork, *, title: str, lines: list[RfqLineIn], suppliers: list[int | str],
               deadline: dt.datetime, terms: str | None = None, currency_code: str | None = None) -> Rfq:
    """A draft RFQ. Only suppliers that may be bought from can be invited."""
    uow.actor.require(WRITE)
    title = (title or "").strip()
    if not title:
        raise ValidationFailed(_("请输入询价标题"), field="title")
    if deadline is None or deadline.tzinfo is None:
        raise ValidationFailed(_("请输入投标截止时间"), field="deadline")
    if deadline <= utcnow():
        raise ValidationFailed(_("投标截止时间必须晚于现在"), field="deadline")
    if not lines:
        raise ValidationFailed(_("请至少填写一行"), field="lines")
    if not suppliers:
        raise ValidationFailed(_("请至少邀请一家供应商"), field="suppliers")
    rows = []
    for i, ln in enumerate(lines):
        try:
            prod = purchasing.purchasable_product(uow, ln.product)
            qty = _dec(ln.quantity, "quantity")
        except (ValidationFailed, NotFound) as exc:
            raise inv._at_line(exc, i, len(lines)) from None
        rows.append(RfqLine(company_id=uow.company_id, product_id=prod.id, quantity=qty,
                            unit=(ln.unit or prod.uom.code or "").strip()[:20], required_date=ln.required_date))
    invited: dict[int, md.Partner] = {}
    for ref in suppliers:
        p = _check_supplier(uow, ref)
        invited[p.id] = p
    rfq = Rfq(number=next_number(uow, "SRM_RFQ"), title=title[:200], state="draft", deadline=deadline,
              terms=(terms or "").strip() or None, currency_code=(currency_code or "CNY").upper()[:3],
              buyer=uow.actor.username, lines=rows,
              invites=[RfqInvite(company_id=uow.company_id, partner_id=pid) for pid in invited])
    uow.add(rfq)
    uow.flush()
    return rfq


def planned_purchase(uow: UnitOfWork, planned_order_id: int) -> dict:
    """What an RFQ started from an MRP planned purchase asks for: its product, quantity, unit and need date."""
    from opensupply.erp.planning import service as planning

    po = planning.get_planned_order(uow, planned_order_id)
    prod = _products(uow, [po.product_id])[po.product_id]
    return {"id": po.id, "kind": po.kind, "state": po.state, "product_id": prod.id, "sku": prod.sku,
            "product_name": prod.name, "quantity": po.quantity, "unit": prod.uom.code, "due_date": po.due_date,
            "title": _("计划采购 #{id}：{sku} {name}", id=po.id, sku=prod.sku, name=prod.name)}


def create_rfq_from_planned_order(uow: UnitOfWork, planned_order_id: int, *, suppliers: list[int | str],
                                  deadline: dt.datetime, title: str | None = None,
                                  terms: str | None = None) -> Rfq:
    """发起询价 from an MRP planned purchase: a draft RFQ for its product and quantity, needed on its due date,
    to the invited suppliers. The planned order is firmed (it leaves the plan) and linked to the RFQ line; the
    award gives it its purchase order."""
    from opensupply.erp.planning import service as planning

    uow.actor.require(WRITE)
    plan = planned_purchase(uow, planned_order_id)
    if plan["kind"] != "purchase":
        raise Conflict(_("只有计划采购可以发起询价"), field="kind")
    rfq = create_rfq(uow, title=(title or "").strip() or plan["title"], suppliers=suppliers, deadline=deadline,
                     terms=terms, lines=[RfqLineIn(plan["product_id"], plan["quantity"], plan["unit"] or None,
                                                   plan["due_date"])])
    rfq.lines[0].planned_order_id = plan["id"]
    planning.firm_for_sourcing(uow, plan["id"])
    uow.flush()
    return rfq


def rfqs_for_planned_orders(uow: UnitOfWork, planned_order_ids) -> dict[int, dict]:
    """{planned order id: the RFQ started from it (id, number, state)} — what the planning page links to."""
    ids = {int(i) for i in planned_order_ids}
    if not ids:
        return {}
    rows = uow.session.execute(select(RfqLine.planned_order_id, Rfq).join(Rfq, Rfq.id == RfqLine.rfq_id).where(
        RfqLine.company_id == uow.company_id, RfqLine.planned_order_id.in_(ids)).order_by(Rfq.id))
    out = {}
    for pid, r in rows:
        st = effective_state(r)
        out[pid] = {"id": r.id, "number": r.number, "state": st, "state_label": state_label(st)}
    return out


def get_rfq(uow: UnitOfWork, rfq_id: int, *, for_update: bool = False) -> Rfq:
    return uow.get(Rfq, rfq_id, for_update=for_update)


def open_rfq(uow: UnitOfWork, rfq_id: int) -> Rfq:
    """Send a draft RFQ: the invited suppliers see it in the portal and may bid until the deadline."""
    uow.actor.require(WRITE)
    rfq = get_rfq(uow, rfq_id, for_update=True)
    if rfq.state != "draft":
        raise Conflict(_("只有草稿询价单可以发布：{n}", n=rfq.number), field="state")
    now = utcnow()
    if rfq.deadline <= now:
        raise ValidationFailed(_("投标截止时间已过，请修改后再发布"), field="deadline")
    for inv_ in rfq.invites:
        require_can_order(uow, inv_.partner_id)
        inv_.invited_at = now
        _notify(uow, inv_.partner_id, rfq.id, "invited", _("邀请您参加询价 {n}：{t}", n=rfq.number, t=rfq.title))
    rfq.state = "open"
    rfq.opened_at = now
    uow.flush()
    uow.emit("srm.rfq_opened", rfq_id=rfq.id, partner_ids=[i.partner_id for i in rfq.invites])
    return rfq


def close_rfq(uow: UnitOfWork, rfq_id: int) -> Rfq:
    """Close bidding now (before the deadline, by hand); the bids unseal."""
    uow.actor.require(WRITE)
    rfq = get_rfq(uow, rfq_id, for_update=True)
    state = effective_state(rfq)
    if state not in ("open", "closed") or rfq.state != "open":
        raise Conflict(_("询价单 {n} 状态为 {s}，不能截标", n=rfq.number, s=state_label(state)), field="state")
    rfq.state = "closed"
    rfq.closed_at = min(utcnow(), rfq.deadline)
    uow.flush()
    uow.emit("srm.rfq_closed", rfq_id=rfq.id)
    return rfq


def cancel_rfq(uow: UnitOfWork, rfq_id: int, reason: str | None = None) -> Rfq:
    uow.actor.require(WRITE)
    rfq = get_rfq(uow, rfq_id, for_update=True)
    if rfq.state in ("awarded", "cancelled"):
        raise Conflict(_("询价单 {n} 已授标或已取消", n=rfq.number), field="state")
    was_sent = rfq.state != "draft"
    rfq.state = "cancelled"
    planned = [ln.planned_order_id for ln in rfq.lines if ln.planned_order_id]
    if planned:  # the planned purchases it was started from are planned again
        from opensupply.erp.planning import service as planning

        for pid in planned:
            planning.return_to_plan(uow, pid)
    if was_sent:
        for inv_ in rfq.invites:
            _notify(uow, inv_.partner_id, rfq.id, "cancelled",
                    _("询价 {n} 已取消{r}", n=rfq.number, r=f"：{reason.strip()}" if reason and reason.strip() else ""))
    uow.flush()
    return rfq


def _notify(uow: UnitOfWork, partner_id: int, rfq_id: int | None, kind: str, text: str,
            purchase_order_id: int | None = None) -> None:
    uow.add(PortalNotice(partner_id=partner_id, rfq_id=rfq_id, kind=kind, text=text[:500],
                         purchase_order_id=purchase_order_id))


# ------------------------------------------------------------------ reading
def rfq_rows(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, limit: int = 50,
             offset: int = 0) -> tuple[list[Rfq], int]:
    uow.actor.require(READ)
    stmt = select(Rfq).where(Rfq.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        invited = select(RfqInvite.rfq_id).join(md.Partner, md.Partner.id == RfqInvite.partner_id).where(
            RfqInvite.company_id == uow.company_id, or_(md.Partner.name.ilike(like), md.Partner.code.ilike(like)))
        stmt = stmt.where(or_(Rfq.number.ilike(like), Rfq.title.ilike(like), Rfq.id.in_(invited)))
    now = utcnow()
    if state == "open":
        stmt = stmt.where(Rfq.state == "open", Rfq.deadline > now)
    elif state == "closed":
        stmt = stmt.where(or_(Rfq.state == "closed", (Rfq.state == "open") & (Rfq.deadline <= now)))
    elif state:
        stmt = stmt.where(Rfq.state == state)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(Rfq.id.desc()).limit(limit).offset(offset)))
    return rows, total


def rfq_dicts(uow: UnitOfWork, rows: list[Rfq]) -> list[dict]:
    """List rows: no prices here, whatever the state (a list is not the place to unseal)."""
    ids = [r.id for r in rows]
    bids = defaultdict(int)
    if ids:
        for rid, n in uow.session.execute(select(Bid.rfq_id, func.count()).where(
                Bid.company_id == uow.company_id, Bid.rfq_id.in_(ids)).group_by(Bid.rfq_id)):
            bids[rid] = n
    now = utcnow()
    out = []
    for r in rows:
        st = effective_state(r, now)
        out.append({"id": r.id, "number": r.number, "title": r.title, "state": st, "state_label": state_label(st),
                    "deadline": r.deadline.isoformat(), "lines": len(r.lines), "invited": len(r.invites),
                    "bids": bids[r.id], "buyer": r.buyer, "sealed": st in ("draft", "open")})
    return out


def export_rows(uow: UnitOfWork, **filters) -> tuple[list[str], list[list]]:
    rows, _total = rfq_rows(uow, limit=100000, offset=0, **filters)
    header = [_("询价单号"), _("标题"), _("状态"), _("投标截止"), _("行数"), _("邀请供应商"), _("已报价"), _("采购员")]
    return header, [[d["number"], d["title"], d["state_label"], d["deadline"], d["lines"], d["invited"], d["bids"],
                     d["buyer"]] for d in rfq_dicts(uow, rows)]


def rfq_dict(uow: UnitOfWork, rfq: Rfq) -> dict:
    """The RFQ as buyers and invited suppliers see it: header, lines, invited suppliers (no prices)."""
    products = _products(uow, [ln.product_id for ln in rfq.lines])
    partners = _partners(uow, [i.partner_id for i in rfq.invites])
    st = effective_state(rfq)
    return {"id": rfq.id, "number": rfq.number, "title": rfq.title, "state": st, "state_label": state_label(st),
            "deadline": rfq.deadline.isoformat(), "terms": rfq.terms, "currency_code": rfq.currency_code,
            "buyer": rfq.buyer, "sealed": st in ("draft", "open"),
            "opened_at": rfq.opened_at.isoformat() if rfq.opened_at else None,
            "lines": [{"id": ln.id, "product_id": ln.product_id, "sku": products[ln.product_id].sku,
                       "product_name": products[ln.product_id].name, "quantity": str(ln.quantity), "unit": ln.unit,
                       "required_date": ln.required_date.isoformat() if ln.required_date else None}
                      for ln in rfq.lines],
            "invites": [{"partner_id": i.partner_id, "code": partners[i.partner_id].code,
                         "name": partners[i.partner_id].name, "result": i.result} for i in rfq.invites]}


def _bids(uow: UnitOfWork, rfq_id: int) -> list[Bid]:
    return list(uow.session.scalars(select(Bid).where(Bid.company_id == uow.company_id, Bid.rfq_id == rfq_id)
                                    .order_by(Bid.id)))


def bid_status(uow: UnitOfWork, rfq_id: int) -> list[dict]:
    """Who has bid and when — all a buyer may know while bids are sealed; no prices, no totals."""
    uow.actor.require(READ)
    rfq = get_rfq(uow, rfq_id)
    bids = {b.partner_id: b for b in _bids(uow, rfq.id)}
    partners = _partners(uow, [i.partner_id for i in rfq.invites])
    out = []
    for i in rfq.invites:
        b = bids.get(i.partner_id)
        out.append({"partner_id": i.partner_id, "code": partners[i.partner_id].code,
                    "name": partners[i.partner_id].name, "has_bid": b is not None,
                    "submitted_at": b.submitted_at.isoformat() if b else None, "revision": b.revision if b else 0,
                    "result": i.result})
    return out


def latest_scores(uow: UnitOfWork, partner_ids) -> dict[int, Decimal]:
    """Each supplier's score in its most recent computed period (month before quarter on a tie of dates)."""
    ids = {int(i) for i in partner_ids}
    out: dict[int, Decimal] = {}
    if not ids:
        return out
    rows = uow.session.scalars(select(Scorecard).where(
        Scorecard.company_id == uow.company_id, Scorecard.partner_id.in_(ids), Scorecard.score.is_not(None))
        .order_by(Scorecard.end.desc(), Scorecard.start.desc()))
    for sc in rows:
        out.setdefault(sc.partner_id, sc.score)
    return out


def comparison(uow: UnitOfWork, rfq_id: int) -> dict:
    """Bids side by side once unsealed: per line each bidder's unit price, lead time and line total, the lowest
    price per line flagged; per bidder payment terms, validity, note, total and current score."""
    uow.actor.require(READ)
    rfq = get_rfq(uow, rfq_id)
    require_unsealed(rfq)
    head = rfq_dict(uow, rfq)
    bids = _bids(uow, rfq.id)
    partners = _partners(uow, [b.partner_id for b in bids])
    scores = latest_scores(uow, [b.partner_id for b in bids])
    by_line: dict[int, dict[int, object]] = defaultdict(dict)
    for b in bids:
        for bl in b.lines:
            by_line[bl.rfq_line_id][b.partner_id] = bl
    lines = []
    for ln, hd in zip(rfq.lines, head["lines"], strict=True):
        offers = by_line.get(ln.id, {})
        low = min((bl.unit_price for bl in offers.values()), default=None)
        cells = []
        for b in bids:
            bl = offers.get(b.partner_id)
            cells.append(None if bl is None else {
                "partner_id": b.partner_id, "unit_price": str(bl.unit_price), "lead_time_days": bl.lead_time_days,
                "line_total": str(purchasing.money(bl.unit_price * ln.quantity)), "lowest": bl.unit_price == low})
        lines.append(dict(hd, offers=cells, lowest_price=str(low) if low is not None else None))
    bidders = [{"partner_id": b.partner_id, "code": partners[b.partner_id].code, "name": partners[b.partner_id].name,
                "payment_terms": b.payment_terms, "validity_days": b.validity_days, "note": b.note,
                "total": str(b.total), "revision": b.revision, "submitted_at": b.submitted_at.isoformat(),
                "score": str(scores[b.partner_id]) if b.partner_id in scores else None,
                "quoted_lines": sum(1 for bl in b.lines)} for b in bids]
    totals = [Decimal(x["total"]) for x in bidders if x["quoted_lines"] == len(rfq.lines)]
    low_total = min(totals) if totals else None
    for x in bidders:
        x["lowest_total"] = low_total is not None and x["quoted_lines"] == len(rfq.lines) and \
            Decimal(x["total"]) == low_total
    awards = [{"rfq_line_id": a.rfq_line_id, "partner_id": a.partner_id, "quantity": str(a.quantity),
               "unit_price": str(a.unit_price), "purchase_order_id": a.purchase_order_id}
              for a in uow.session.scalars(select(RfqAward).where(RfqAward.company_id == uow.company_id,
                                                                  RfqAward.rfq_id == rfq.id).order_by(RfqAward.id))]
    return dict(head, bidders=bidders, lines=lines, awards=awards)


def comparison_export(uow: UnitOfWork, rfq_id: int) -> tuple[list[str], list[list]]:
    data = comparison(uow, rfq_id)  # sealed → refused here like the page and the API
    header = [_("行"), _("商品编码"), _("商品名称"), _("数量"), _("供应商"), _("单价"), _("交期(天)"), _("行金额"),
              _("付款条件"), _("最低价")]
    rows = []
    names = {b["partner_id"]: b for b in data["bidders"]}
    for n, ln in enumerate(data["lines"], 1):
        for cell in ln["offers"]:
            if cell is None:
                continue
            b = names[cell["partner_id"]]
            rows.append([n, ln["sku"], ln["product_name"], ln["quantity"], f"{b['code']} {b['name']}",
                         cell["unit_price"], cell["lead_time_days"], cell["line_total"], b["payment_terms"],
                         "✓" if cell["lowest"] else ""])
    return header, rows


# ------------------------------------------------------------------ award
@dataclass
class AwardIn:
    rfq_line_id: int
    partner_id: int
    quantity: Decimal | str | int | None = None  # default: the whole line


def award(uow: UnitOfWork, rfq_id: int, allocations: list[AwardIn], *, location: int | str | None = None) -> dict:
    """Award lines (or parts of a line's quantity) to bidders at their bid prices: one draft purchase order per
    supplier, linked back to the RFQ; invited suppliers are told whether they won."""
    uow.actor.require(WRITE)
    uow.actor.require("erp.purchase")
    rfq = get_rfq(uow, rfq_id, for_update=True)
    st = effective_state(rfq)
    if st != "closed":
        if st in ("draft", "open"):
            require_unsealed(rfq)
        raise Conflict(_("询价单 {n} 状态为 {s}，不能授标", n=rfq.number, s=state_label(st)), field="state")
    if not allocations:
        raise ValidationFailed(_("请选择中标供应商"), field="allocations")
    lines = {ln.id: ln for ln in rfq.lines}
    offers = {(b.partner_id, bl.rfq_line_id): bl for b in _bids(uow, rfq.id) for bl in b.lines}
    given: dict[int, Decimal] = defaultdict(lambda: ZERO)
    plan: dict[int, list[tuple[RfqLine, Decimal, Decimal]]] = defaultdict(list)
    for a in allocations:
        ln = lines.get(int(a.rfq_line_id))
        if ln is None:
            raise NotFound(_("询价行不存在：#{id}", id=a.rfq_line_id), field="rfq_line_id")
        bl = offers.get((int(a.partner_id), ln.id))
        n = rfq.lines.index(ln) + 1
        if bl is None:
            raise ValidationFailed(_("第 {n} 行：该供应商没有报价", n=n), field="partner_id")
        qty = ln.quantity if a.quantity in (None, "") else _dec(a.quantity, "quantity")
        given[ln.id] += qty
        if given[ln.id] > ln.quantity:
            raise ValidationFailed(_("第 {n} 行：授标数量合计 {q} 超过询价数量 {max}", n=n,
                                     q=inv.fmt_qty(given[ln.id]), max=inv.fmt_qty(ln.quantity)), field="quantity")
        plan[int(a.partner_id)].append((ln, qty, bl.unit_price))
    orders = []
    sourced: dict[int, tuple[Decimal, int, int]] = {}
    for partner_id, items in plan.items():
        require_can_order(uow, partner_id)
        dates = [ln.required_date for ln, _q, _p in items if ln.required_date]
        po = purchasing.create_order(
            uow, partner_id, [purchasing.OrderLineIn(ln.product_id, qty, price) for ln, qty, price in items],
            expected_date=min(dates) if dates else None, location=location,
            notes=_("来自询价单 {n}：{t}", n=rfq.number, t=rfq.title))
        for ln, qty, price in items:
            uow.add(RfqAward(rfq_id=rfq.id, rfq_line_id=ln.id, partner_id=partner_id, quantity=qty, unit_price=price,
                             purchase_order_id=po.id))
            if ln.planned_order_id and (ln.id not in sourced or qty > sourced[ln.id][0]):
                sourced[ln.id] = (qty, ln.planned_order_id, po.id)
        orders.append(po)
    if sourced:  # a planned purchase gets the order of the supplier given the most of its line
        from opensupply.erp.planning import service as planning

        for _qty, planned_id, po_id in sourced.values():
            planning.link_purchase_order(uow, planned_id, po_id)
    won = set(plan)
    for inv_ in rfq.invites:
        inv_.result = "awarded" if inv_.partner_id in won else "unawarded"
        if inv_.partner_id in won:
            _notify(uow, inv_.partner_id, rfq.id, "awarded", _("恭喜，您在询价 {n} 中标", n=rfq.number))
        else:
            _notify(uow, inv_.partner_id, rfq.id, "unawarded", _("询价 {n} 已定标，感谢参与，本次未中标", n=rfq.number))
    rfq.state = "awarded"
    rfq.awarded_at = utcnow()
    if rfq.closed_at is None:
        rfq.closed_at = rfq.deadline
    uow.flush()
    uow.emit("srm.rfq_awarded", rfq_id=rfq.id, purchase_order_ids=[po.id for po in orders])
    return {"rfq_id": rfq.id, "orders": [{"id": po.id, "number": po.number, "supplier_id": po.supplier_id,
                                          "total": str(po.total)} for po in orders]}


def award_all(uow: UnitOfWork, rfq_id: int, partner_id: int, **kw) -> dict:
    """Everything to one supplier (each line it quoted, at the full quantity)."""
    rfq = get_rfq(uow, rfq_id)
    require_unsealed(rfq)
    bid = uow.session.scalar(select(Bid).where(Bid.company_id == uow.company_id, Bid.rfq_id == rfq.id,
                                               Bid.partner_id == int(partner_id)))
    if bid is None:
        raise ValidationFailed(_("该供应商没有报价"), field="partner_id")
    return award(uow, rfq_id, [AwardIn(bl.rfq_line_id, bid.partner_id) for bl in bid.lines], **kw)


def award_lowest(uow: UnitOfWork, rfq_id: int, **kw) -> dict:
    """Each line to its lowest bidder (split award); a tie goes to the earlier bid."""
    data = comparison(uow, rfq_id)
    allocations = []
    for ln in data["lines"]:
        cells = [c for c in ln["offers"] if c is not None]
        if cells:
            best = min(cells, key=lambda c: Decimal(c["unit_price"]))
            allocations.append(AwardIn(ln["id"], best["partner_id"]))
    return award(uow, rfq_id, allocations, **kw)


def rfq_orders(uow: UnitOfWork, rfq_id: int) -> list[dict]:
    """The purchase orders an RFQ's award made."""
    ids = sorted(set(uow.session.scalars(select(RfqAward.purchase_order_id).where(
        RfqAward.company_id == uow.company_id, RfqAward.rfq_id == rfq_id))) - {None})
    return [dict(o, total=str(o["total"]), state_label=purchasing.state_label("order", o["state"]))
            for o in purchasing.order_summaries(uow, ids).values()]
