"""CRM rows as plain dicts for the API (and exports): amounts as decimal strings, dates as
ISO text, codes with their translated labels beside them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from opensupply.core.uow import UnitOfWork

from . import rfm
from . import service as crm
from .models import Activity, Campaign, Contact, Lead, Opportunity, Ticket


def dec(value: Decimal | None) -> str | None:
    if value is None:
        return None
    value = Decimal(value)
    return format(value.quantize(Decimal("0.01")), "f")


def iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


class Names:
    """Looks up partner and user names for a batch of rows with two queries."""

    def __init__(self, uow: UnitOfWork, rows: list, partner_attr: str = "partner_id", owner_attr: str = "owner_id"):
        self.partners = crm.partner_names(uow, [getattr(r, partner_attr, None) for r in rows])
        self.users = crm.user_names(uow, [getattr(r, owner_attr, None) for r in rows])

    def partner(self, pid):
        p = self.partners.get(pid)
        return {"partner_code": p.code if p else None, "partner_name": p.name if p else None}

    def owner(self, uid) -> str | None:
        return self.users.get(uid)


def lead_out(lead: Lead, names: Names) -> dict:
    return {"id": lead.id, "number": lead.number, "name": lead.name, "company_name": lead.company_name,
            "title": lead.title, "phone": lead.phone, "phone_normalized": lead.phone_key, "email": lead.email,
            "wechat": lead.wechat, "source": lead.source, "source_label": crm.label(crm.SOURCE_LABELS, lead.source),
            "state": lead.state, "state_label": crm.label(crm.LEAD_STATE_LABELS, lead.state),
            "owner_id": lead.owner_id, "owner": names.owner(lead.owner_id), "expected_value": dec(lead.expected_value),
            "notes": lead.notes, "duplicate_count": lead.duplicate_count or 0,
            "last_duplicate_at": iso(lead.last_duplicate_at), "partner_id": lead.partner_id,
            "contact_id": lead.contact_id, "opportunity_id": lead.opportunity_id,
            "converted_at": iso(lead.converted_at), "lost_reason": lead.lost_reason, "created_at": iso(lead.created_at)}


def contact_out(c: Contact, names: Names) -> dict:
    return {"id": c.id, "name": c.name, "title": c.title, "phone": c.phone, "email": c.email, "wechat": c.wechat,
            "partner_id": c.partner_id, **names.partner(c.partner_id), "owner_id": c.owner_id,
            "owner": names.owner(c.owner_id), "is_primary": c.is_primary, "notes": c.notes, "active": c.active}


def opportunity_out(o: Opportunity, names: Names, day: dt.date | None = None) -> dict:
    return {"id": o.id, "number": o.number, "name": o.name, "partner_id": o.partner_id, **names.partner(o.partner_id),
            "contact_id": o.contact_id, "lead_id": o.lead_id, "owner_id": o.owner_id, "owner": names.owner(o.owner_id),
            "stage": o.stage, "stage_label": crm.label(crm.STAGE_LABELS, o.stage),
            "expected_value": dec(o.expected_value), "probability": o.probability,
            "weighted_value": dec(o.expected_value * o.probability / 100),
            "expected_close_date": iso(o.expected_close_date), "source": o.source, "notes": o.notes,
            "lost_reason": o.lost_reason, "closed_at": iso(o.closed_at), "quote_id": o.quote_id,
            "quote_number": o.quote_number, "sales_order_id": o.sales_order_id,
            "sales_order_number": o.sales_order_number,
            "overdue": bool(day and o.stage in ("initial", "qualified", "proposal", "negotiation")
                            and o.expected_close_date and o.expected_close_date < day)}


def activity_out(a: Activity, names: Names, day: dt.date | None = None) -> dict:
    return {"id": a.id, "kind": a.kind, "kind_label": crm.label(crm.KIND_LABELS, a.kind), "subject": a.subject,
            "notes": a.notes, "owner_id": a.owner_id, "owner": names.owner(a.owner_id), "due_date": iso(a.due_date),
            "remind_at": iso(a.remind_at), "state": a.state,
            "state_label": crm.label(crm.ACTIVITY_STATE_LABELS, a.state), "done_at": iso(a.done_at),
            "result": a.result, "partner_id": a.partner_id, **names.partner(a.partner_id), "contact_id": a.contact_id,
            "lead_id": a.lead_id, "opportunity_id": a.opportunity_id, "ticket_id": a.ticket_id,
            "campaign_id": a.campaign_id, "origin": a.origin,
            "overdue": bool(day and a.state == "open" and a.due_date and a.due_date < day)}


def ticket_out(t: Ticket, names: Names, day: dt.date) -> dict:
    return {"id": t.id, "number": t.number, "subject": t.subject, "kind": t.kind,
            "kind_label": crm.label(crm.TICKET_KIND_LABELS, t.kind), "priority": t.priority,
            "priority_label": crm.label(crm.PRIORITY_LABELS, t.priority), "partner_id": t.partner_id,
            **names.partner(t.partner_id), "contact_id": t.contact_id, "sales_order_id": t.sales_order_id,
            "sales_order_number": t.sales_order_number, "owner_id": t.owner_id, "owner": names.owner(t.owner_id),
            "due_date": iso(t.due_date), "state": t.state, "state_label": crm.label(crm.TICKET_STATE_LABELS, t.state),
            "description": t.description, "resolution": t.resolution, "resolved_at": iso(t.resolved_at),
            "closed_at": iso(t.closed_at), "overdue": crm.ticket_overdue(t, day), "created_at": iso(t.created_at)}


def stats_out(st: rfm.CustomerStats) -> dict:
    return {"lifetime_value": dec(st.revenue), "order_count": st.order_count, "first_order_date": iso(st.first_order),
            "last_order_date": iso(st.last_order), "recency_days": st.recency_days,
            "average_order_interval_days": str(st.avg_interval_days) if st.avg_interval_days is not None else None,
            "median_order_interval_days": str(st.median_interval_days)
            if st.median_interval_days is not None else None,
            "expected_next_purchase_date": iso(st.next_purchase), "r_score": st.r, "f_score": st.f, "m_score": st.m,
            "rfm": st.rfm, "segment": st.segment, "segment_label": rfm.segment_label(st.segment)}


def collection_out(c: dict) -> dict:
    return {"invoiced": dec(c["invoiced"]), "received": dec(c["received"]), "balance": dec(c["balance"]),
            "overdue": dec(c["overdue"]), "oldest_overdue_date": iso(c["oldest_overdue_date"]),
            "received_pct": str(c["received_pct"]) if c["received_pct"] is not None else None}


def customer_row_out(row: dict, names: dict[int, str]) -> dict:
    p = row["partner"]
    return {"id": p.id, "code": p.code, "name": p.name, "owner_id": row["owner_id"],
            "owner": names.get(row["owner_id"]), **stats_out(row["stats"])}


def campaign_out(c: Campaign) -> dict:
    return {"id": c.id, "number": c.number, "name": c.name, "segment": c.segment,
            "segment_label": rfm.segment_label(c.segment), "activity_kind": c.activity_kind, "message": c.message,
            "start_date": iso(c.start_date), "window_days": c.window_days, "member_count": c.member_count,
            "created_at": iso(c.created_at)}


def campaign_results_out(r: dict) -> dict:
    return {"members": r["members"], "window_end": iso(r["window_end"]), "order_count": r["order_count"],
            "customers_ordered": r["customers_ordered"], "revenue": dec(r["revenue"]),
            "conversion_pct": str(r["conversion_pct"]) if r["conversion_pct"] is not None else None,
            "orders": [{"order_id": f.order_id, "number": f.number, "partner_id": f.partner_id,
                        "date": iso(f.date), "amount": dec(f.amount)} for f in r["orders"]]}
