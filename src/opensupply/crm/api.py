"""REST endpoints of the CRM under /api/v1/crm/: thin — parse, call the service, shape the answer."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.tabular import table_response
from opensupply.core.uow import Actor, UnitOfWork

from . import rfm
from . import schemas as s
from . import service as crm
from . import views as v
from .models import Activity, Campaign, Contact, Lead, Opportunity, Ticket

router = APIRouter(prefix="/crm", tags=["crm"])
READ = Depends(require("crm.read"))
WRITE = Depends(require("crm.write"))
LIMIT = Query(50, ge=1, le=1000)
OFFSET = Query(0, ge=0)


def _listing(uow: UnitOfWork, rows: list, total: int, out, **kw) -> dict:
    names = v.Names(uow, rows)
    return {"items": [out(r, names, **kw) for r in rows], "total": total}


def export_response(fmt: str, name: str, header: list[str], rows: list[list]) -> Response:
    return table_response(header, rows, fmt, name)


# ------------------------------------------------------------------ leads
@router.get("/leads", summary="Leads (?q= matches phones in any format; scope=mine|all)")
def leads(q: str | None = None, state: str | None = None, source: str | None = None, owner_id: int | None = None,
          scope: str | None = None, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = crm.list_leads(uow, q=q, state=state, source=source, owner_id=owner_id, scope=scope,
                                     limit=limit, offset=offset)
        return _listing(uow, rows, total, v.lead_out)


@router.post("/leads", status_code=201,
             summary="Create a lead; a known phone/e-mail answers 200 with the existing lead and duplicate=true")
def create_lead(body: s.LeadIn, actor: Actor = WRITE):
    with UnitOfWork(actor) as uow:
        result = crm.create_lead(uow, body)
        out = {**v.lead_out(result.lead, v.Names(uow, [result.lead])), "duplicate": result.duplicate}
    return JSONResponse(out, status_code=200 if result.duplicate else 201)


@router.get("/leads/{lead_id}", summary="One lead")
def get_lead(lead_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        lead = uow.get(Lead, lead_id)
        return v.lead_out(lead, v.Names(uow, [lead]))


@router.patch("/leads/{lead_id}", summary="Update a lead")
def update_lead(lead_id: int, body: s.LeadUpdate, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        lead = crm.update_lead(uow, lead_id, body)
        return v.lead_out(lead, v.Names(uow, [lead]))


@router.post("/leads/{lead_id}/state", summary="Mark a lead contacted, qualified or lost")
def lead_state(lead_id: int, body: s.LeadStateIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        lead = crm.set_lead_state(uow, lead_id, body.state, body.reason)
        return v.lead_out(lead, v.Names(uow, [lead]))


@router.post("/leads/{lead_id}/convert", summary="Convert a lead into customer + contact + opportunity")
def convert_lead(lead_id: int, body: s.LeadConvertIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        r = crm.convert_lead(uow, lead_id, body)
        names = v.Names(uow, [r["lead"]])
        return {"lead": v.lead_out(r["lead"], names), "partner_id": r["partner"].id,
                "partner_code": r["partner"].code, "contact_id": r["contact"].id,
                "opportunity_id": r["opportunity"].id if r["opportunity"] else None}


# ------------------------------------------------------------------ contacts
@router.get("/contacts", summary="Contacts (people at partner companies)")
def contacts(q: str | None = None, partner_id: int | None = None, scope: str | None = None,
             include_archived: bool = False, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = crm.list_contacts(uow, q=q, partner_id=partner_id, scope=scope,
                                        include_archived=include_archived, limit=limit, offset=offset)
        return _listing(uow, rows, total, v.contact_out)


@router.post("/contacts", status_code=201, summary="Create a contact")
def create_contact(body: s.ContactIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        c = crm.create_contact(uow, body)
        return v.contact_out(c, v.Names(uow, [c]))


@router.get("/contacts/{contact_id}", summary="One contact")
def get_contact(contact_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        c = uow.get(Contact, contact_id)
        return v.contact_out(c, v.Names(uow, [c]))


@router.patch("/contacts/{contact_id}", summary="Update a contact")
def update_contact(contact_id: int, body: s.ContactUpdate, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        c = crm.update_contact(uow, contact_id, body)
        return v.contact_out(c, v.Names(uow, [c]))


@router.delete("/contacts/{contact_id}", summary="Archive a contact")
def archive_contact(contact_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        c = crm.archive_contact(uow, contact_id)
        return {"id": c.id, "archived": True}


# ------------------------------------------------------------------ opportunities
@router.get("/opportunities", summary="Opportunities (filters: stage, owner, partner, expected close dates)")
def opportunities(q: str | None = None, stage: str | None = None, owner_id: int | None = None,
                  partner_id: int | None = None, scope: str | None = None, close_from: dt.date | None = None,
                  close_to: dt.date | None = None, open_only: bool = False, limit: int = LIMIT,
                  offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = crm.list_opportunities(uow, q=q, stage=stage, owner_id=owner_id, partner_id=partner_id,
                                             scope=scope, close_from=close_from, close_to=close_to,
                                             open_only=open_only, limit=limit, offset=offset)
        return _listing(uow, rows, total, v.opportunity_out, day=crm.today(uow))


@router.get("/opportunities/pipeline", summary="Pipeline by stage: count, value and weighted value")
def pipeline(scope: str | None = None, owner_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        stages = crm.pipeline(uow, scope=scope, owner_id=owner_id)
        names = v.Names(uow, [o for st in stages for o in st["items"]])
        day = crm.today(uow)
        return {"stages": [{"stage": st["stage"], "label": st["label"], "count": st["count"],
                            "value": v.dec(st["value"]), "weighted_value": v.dec(st["weighted_value"]),
                            "items": [v.opportunity_out(o, names, day) for o in st["items"]]} for st in stages]}


@router.post("/opportunities", status_code=201, summary="Create an opportunity")
def create_opportunity(body: s.OpportunityIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        o = crm.create_opportunity(uow, body)
        return v.opportunity_out(o, v.Names(uow, [o]))


@router.get("/opportunities/{opp_id}", summary="One opportunity")
def get_opportunity(opp_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        o = uow.get(Opportunity, opp_id)
        return v.opportunity_out(o, v.Names(uow, [o]), crm.today(uow))


@router.patch("/opportunities/{opp_id}", summary="Update an open opportunity")
def update_opportunity(opp_id: int, body: s.OpportunityUpdate, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        o = crm.update_opportunity(uow, opp_id, body)
        return v.opportunity_out(o, v.Names(uow, [o]))


@router.post("/opportunities/{opp_id}/stage", summary="Move an opportunity to another stage")
def opportunity_stage(opp_id: int, body: s.StageIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        o = crm.set_stage(uow, opp_id, body.stage, body.lost_reason)
        return v.opportunity_out(o, v.Names(uow, [o]))


@router.post("/opportunities/{opp_id}/quote", summary="Make an ERP sales quote for the opportunity")
def opportunity_quote(opp_id: int, body: s.QuoteIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        o = crm.create_quote(uow, opp_id, body)
        return v.opportunity_out(o, v.Names(uow, [o]))


@router.post("/opportunities/{opp_id}/order", summary="Win: turn the quote (or lines) into an ERP sales order")
def opportunity_order(opp_id: int, body: s.OrderIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        o = crm.order_from_opportunity(uow, opp_id, body)
        return v.opportunity_out(o, v.Names(uow, [o]))


# ------------------------------------------------------------------ activities
@router.get("/activities", summary="Follow-ups (filters: state, kind, due=overdue|today|upcoming, owner, links)")
def activities(q: str | None = None, state: str | None = None, kind: str | None = None, due: str | None = None,
               owner_id: int | None = None, scope: str | None = None, partner_id: int | None = None,
               lead_id: int | None = None, opportunity_id: int | None = None, ticket_id: int | None = None,
               campaign_id: int | None = None, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = crm.list_activities(uow, q=q, state=state, kind=kind, due=due, owner_id=owner_id, scope=scope,
                                          partner_id=partner_id, lead_id=lead_id, opportunity_id=opportunity_id,
                                          ticket_id=ticket_id, campaign_id=campaign_id, limit=limit, offset=offset)
        return _listing(uow, rows, total, v.activity_out, day=crm.today(uow))


@router.post("/activities", status_code=201, summary="Plan (or log) a call, e-mail, visit or WeChat follow-up")
def create_activity(body: s.ActivityIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        a = crm.create_activity(uow, body)
        return v.activity_out(a, v.Names(uow, [a]), crm.today(uow))


@router.get("/activities/{act_id}", summary="One follow-up")
def get_activity(act_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        a = uow.get(Activity, act_id)
        return v.activity_out(a, v.Names(uow, [a]), crm.today(uow))


@router.patch("/activities/{act_id}", summary="Reschedule or reassign an open follow-up")
def update_activity(act_id: int, body: s.ActivityUpdate, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        a = crm.update_activity(uow, act_id, body)
        return v.activity_out(a, v.Names(uow, [a]), crm.today(uow))


@router.post("/activities/{act_id}/done", summary="Mark a follow-up done with its result")
def activity_done(act_id: int, body: s.ActivityDoneIn | None = None, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        a = crm.complete_activity(uow, act_id, body.result if body else None)
        return v.activity_out(a, v.Names(uow, [a]), crm.today(uow))


@router.post("/activities/{act_id}/cancel", summary="Cancel an open follow-up")
def activity_cancel(act_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        a = crm.cancel_activity(uow, act_id)
        return v.activity_out(a, v.Names(uow, [a]), crm.today(uow))


@router.get("/my-day", summary="The caller's overdue and today's follow-ups, due reminders and tickets")
def my_day(actor: Actor = READ) -> dict:
    if actor.can("crm.write"):
        with UnitOfWork(actor, readonly=True) as uow:  # a read first: most calls have nothing to add
            pending = crm.repurchase_reminders_pending(uow)
        if pending:
            with UnitOfWork(actor) as uow:
                crm.check_repurchase(uow)
    with UnitOfWork(actor, readonly=True) as uow:
        d = crm.my_day(uow)
        day = d["date"]
        names = v.Names(uow, d["overdue"] + d["today"] + d["reminders"])
        tnames = v.Names(uow, d["tickets"])
        return {"date": day.isoformat(),
                **{k: [v.activity_out(a, names, day) for a in d[k]] for k in ("overdue", "today", "reminders")},
                "tickets": [v.ticket_out(t, tnames, day) for t in d["tickets"]], "done_today": d["done_today"]}


@router.post("/repurchase-check", summary="Create follow-ups for customers past their expected repurchase date")
def repurchase_check(actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        created = crm.check_repurchase(uow)
        names = v.Names(uow, created)
        day = crm.today(uow)
        return {"items": [v.activity_out(a, names, day) for a in created], "total": len(created)}


# ------------------------------------------------------------------ customers, segments, collections
@router.get("/customers", summary="Customers with lifetime value, order count and RFM segment")
def customers(q: str | None = None, segment: str | None = None, owner_id: int | None = None,
              scope: str | None = None, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = crm.list_customers(uow, q=q, segment=segment, owner_id=owner_id, scope=scope, limit=limit,
                                         offset=offset)
        names = crm.user_names(uow, [r["owner_id"] for r in rows])
        return {"items": [v.customer_row_out(r, names) for r in rows], "total": total}


@router.get("/customers/{partner_id}/profile", summary="Customer profile: value, orders, RFM, collections, links")
def customer_profile(partner_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        p = crm.customer_profile(uow, partner_id)
        partner, day = p["partner"], crm.today(uow)
        names = v.Names(uow, p["contacts"] + p["opportunities"] + p["activities"] + p["tickets"])
        return {"id": partner.id, "code": partner.code, "name": partner.name, "owner_id": p["owner_id"],
                "owner": crm.user_names(uow, [p["owner_id"]]).get(p["owner_id"]), **v.stats_out(p["stats"]),
                "collections": v.collection_out(p["collections"]),
                "orders": [{"order_id": f.order_id, "number": f.number, "date": f.date.isoformat(),
                            "amount": v.dec(f.amount), "state": f.state} for f in p["orders"]],
                "contacts": [v.contact_out(c, names) for c in p["contacts"]],
                "opportunities": [v.opportunity_out(o, names, day) for o in p["opportunities"]],
                "activities": [v.activity_out(a, names, day) for a in p["activities"]],
                "tickets": [v.ticket_out(t, names, day) for t in p["tickets"]]}


@router.put("/customers/{partner_id}/owner", summary="Set who owns the customer relationship")
def customer_owner(partner_id: int, body: s.OwnerIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        acc = crm.set_customer_owner(uow, partner_id, body.owner_id)
        return {"partner_id": acc.partner_id, "owner_id": acc.owner_id}


@router.get("/collections", summary="Collection progress per customer: invoiced, received, open, overdue")
def collections(limit: int = LIMIT, offset: int = OFFSET, overdue_only: bool = False, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        data = crm.collection_progress(uow)
        partners = crm.partner_names(uow, list(data))
        rows = sorted(data.values(), key=lambda c: (-c["overdue"], -c["balance"]))
        if overdue_only:
            rows = [c for c in rows if c["overdue"] > 0]
        items = [{"partner_id": c["partner_id"], "partner_code": partners[c["partner_id"]].code,
                  "partner_name": partners[c["partner_id"]].name, **v.collection_out(c)}
                 for c in rows[offset:offset + limit]]
        return {"items": items, "total": len(rows)}


@router.get("/segments", summary="RFM segments with customer count and revenue")
def segments(actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = crm.segment_summary(uow)
        return {"items": [{**r, "label": r["label"], "revenue": v.dec(r["revenue"])} for r in rows],
                "total": len(rows)}


@router.get("/segments/{segment}/customers", summary="Customers of one segment")
def segment_customers(segment: str, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    if segment not in rfm.SEGMENTS:
        raise ValidationFailed(_("取值无效：{v}", v=segment), field="segment")
    return customers(segment=segment, scope="all", limit=limit, offset=offset, actor=actor)


# ------------------------------------------------------------------ campaigns
@router.get("/campaigns", summary="Campaigns")
def campaigns(q: str | None = None, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = crm.list_campaigns(uow, q=q, limit=limit, offset=offset)
        return {"items": [v.campaign_out(c) for c in rows], "total": total}


@router.post("/campaigns", status_code=201, summary="Target a segment: members and a follow-up for each owner")
def create_campaign(body: s.CampaignIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return v.campaign_out(crm.create_campaign(uow, body))


@router.get("/campaigns/{campaign_id}", summary="One campaign with members and results")
def get_campaign(campaign_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        camp = uow.get(Campaign, campaign_id)
        return {**v.campaign_out(camp), "members": crm.campaign_members(uow, camp.id),
                "results": v.campaign_results_out(crm.campaign_results(uow, camp.id))}


@router.get("/campaigns/{campaign_id}/results", summary="Orders that followed within the window, with revenue")
def campaign_results(campaign_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return v.campaign_results_out(crm.campaign_results(uow, campaign_id))


def campaign_contact_table(uow: UnitOfWork, campaign_id: int) -> tuple[list[str], list[list]]:
    header = [_("客户编码"), _("客户名称"), _("联系人"), _("电话"), _("邮箱"), _("微信"), _("负责人")]
    rows = [[m["code"], m["name"], m["contact"], m["phone"], m["email"], m["wechat"], m["owner"]]
            for m in crm.campaign_members(uow, campaign_id)]
    return header, rows


@router.get("/campaigns/{campaign_id}/contacts", summary="The campaign's contact list as CSV or XLSX")
def campaign_contacts(campaign_id: int, format: str = Query("csv", pattern="^(csv|xlsx)$"),
                      actor: Actor = READ) -> Response:
    with UnitOfWork(actor, readonly=True) as uow:
        camp = uow.get(Campaign, campaign_id)
        header, rows = campaign_contact_table(uow, camp.id)
    return export_response(format, f"campaign-{camp.number}", header, rows)


# ------------------------------------------------------------------ tickets
@router.get("/tickets", summary="After-sales tickets (filters: state, kind, overdue, open_only, owner)")
def tickets(q: str | None = None, state: str | None = None, kind: str | None = None, overdue: bool | None = None,
            open_only: bool = False, owner_id: int | None = None, scope: str | None = None,
            partner_id: int | None = None, limit: int = LIMIT, offset: int = OFFSET, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = crm.list_tickets(uow, q=q, state=state, kind=kind, overdue=overdue, open_only=open_only,
                                       owner_id=owner_id, scope=scope, partner_id=partner_id, limit=limit,
                                       offset=offset)
        return _listing(uow, rows, total, v.ticket_out, day=crm.today(uow))


@router.post("/tickets", status_code=201, summary="Open an after-sales ticket or complaint")
def create_ticket(body: s.TicketIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        t = crm.create_ticket(uow, body)
        return v.ticket_out(t, v.Names(uow, [t]), crm.today(uow))


@router.get("/tickets/{ticket_id}", summary="One ticket")
def get_ticket(ticket_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        t = uow.get(Ticket, ticket_id)
        return v.ticket_out(t, v.Names(uow, [t]), crm.today(uow))


@router.patch("/tickets/{ticket_id}", summary="Update a ticket")
def update_ticket(ticket_id: int, body: s.TicketUpdate, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        t = crm.update_ticket(uow, ticket_id, body)
        return v.ticket_out(t, v.Names(uow, [t]), crm.today(uow))


@router.post("/tickets/{ticket_id}/state", summary="Move a ticket: open → in progress → resolved → closed")
def ticket_state(ticket_id: int, body: s.TicketStateIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        t = crm.set_ticket_state(uow, ticket_id, body.state, body.resolution)
        return v.ticket_out(t, v.Names(uow, [t]), crm.today(uow))
