"""CRM pages under /crm/: my day, leads, opportunities (list and kanban), follow-ups, customers
with profiles and segments, tickets (售后), campaigns, contacts. Same services as the API."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from opensupply.core import audit
from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import Partner
from opensupply.web import redirect, render

from . import rfm
from . import schemas as s
from . import service as crm
from . import views as v
from .api import campaign_contact_table, export_response
from .models import (
    ACTIVITY_KINDS,
    LEAD_SOURCES,
    STAGES,
    TICKET_KINDS,
    Activity,
    Campaign,
    Contact,
    Lead,
    Opportunity,
    Ticket,
)

router = APIRouter(prefix="/crm", include_in_schema=False)
READ = Depends(page_permission("crm.read"))
WRITE = Depends(page_permission("crm.write"))
PAGE_SIZE = 50
EXPORT_LIMIT = 100000


def _keep(request: Request, drop=("offset",)) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in drop and v})


def _q(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    return value.strip() if value and value.strip() else None


def _int(request: Request, name: str) -> int | None:
    value = _q(request, name)
    return int(value) if value and value.isdigit() else None


def _date(request: Request, name: str) -> dt.date | None:
    try:
        value = _q(request, name)
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _offset(request: Request) -> int:
    return max(0, _int(request, "offset") or 0)


def _scope(p: Page, request: Request) -> str:
    scope = _q(request, "scope")
    if scope in ("mine", "all"):
        return scope
    a = p.actor
    return "all" if a.is_superuser or "*" in a.permissions or "crm.admin" in a.permissions else "mine"


def _choices(table: dict, codes) -> list[tuple[str, str]]:
    return [(c, crm.label(table, c)) for c in codes]


def _customers(uow: UnitOfWork) -> list[Partner]:
    from sqlalchemy import select

    return list(uow.session.scalars(select(Partner).where(Partner.company_id == uow.company_id,
                                                          Partner.is_customer.is_(True), Partner.active.is_(True))
                                    .order_by(Partner.code).limit(2000)))


def _form_ctx(uow: UnitOfWork) -> dict:
    return {"users": crm.company_users(uow), "customers": _customers(uow),
            "sources": _choices(crm.SOURCE_LABELS, LEAD_SOURCES), "kinds": _choices(crm.KIND_LABELS, ACTIVITY_KINDS),
            "stages": _choices(crm.STAGE_LABELS, STAGES),
            "ticket_kinds": _choices(crm.TICKET_KIND_LABELS, TICKET_KINDS),
            "priorities": _choices(crm.PRIORITY_LABELS, ("low", "normal", "high")),
            "segments": [(c, rfm.segment_label(c)) for c in rfm.SEGMENTS if c != "no_orders"]}


def _ctx(uow: UnitOfWork, request: Request, **more) -> dict:
    return {"today": crm.today(uow), "keep": _keep(request), "offset": _offset(request), "limit": PAGE_SIZE,
            "L": crm, "segment_label": rfm.segment_label, **_form_ctx(uow), **more}


async def _form(request: Request, checkboxes: tuple[str, ...] = ()) -> dict:
    form = await request.form()
    data = {k: form.get(k) for k in form.keys() if k != "csrf_token"}
    for name in checkboxes:  # an unticked checkbox is not sent at all
        data[name] = data.get(name) in ("1", "on", "true")
    return data


def _pick(data: dict, names) -> dict:
    return {k: data.get(k) for k in names if k in data}


def _audit(uow: UnitOfWork, p: Page, obj) -> list:
    if not (p.actor.can("admin.audit") or p.actor.can("crm.write")):
        return []
    return audit.history(uow.session, obj.__tablename__, obj.id, uow.company_id)


def _values(obj, names) -> dict:
    out = {}
    for n in names:
        value = getattr(obj, n, None)
        out[n] = value.isoformat() if isinstance(value, dt.date) else ("" if value is None else value)
    return out


async def _edit(request: Request, p: Page, *, template: str, title: str, action: str, back: str, fields,
                schema, update, obj_id: int, checkboxes: tuple[str, ...] = ()):
    data = await _form(request, checkboxes)
    try:
        with UnitOfWork(p.actor) as uow:
            update(uow, obj_id, s.parse(schema, _pick(data, fields)))
    except DomainError as exc:
        if exc.status == 404:
            raise
        with UnitOfWork(p.actor, readonly=True) as uow:
            return render(p, template, status_code=422, title=title, values=data, action=action, error=exc.message,
                          error_field=exc.field, **_ctx(uow, request))
    return redirect(back, _("已保存"))


# ------------------------------------------------------------------ my day
@router.get("/my-day")
def my_day_page(request: Request, p: Page = READ):
    created = []
    if p.actor.can("crm.write"):
        with UnitOfWork(p.actor, readonly=True) as uow:  # a read first: most visits have nothing to add
            pending = crm.repurchase_reminders_pending(uow)
        if pending:
            with UnitOfWork(p.actor) as uow:  # idempotent: only customers newly past their repurchase date
                created = crm.check_repurchase(uow)
    with UnitOfWork(p.actor, readonly=True) as uow:
        d = crm.my_day(uow)
        names = v.Names(uow, d["overdue"] + d["today"] + d["reminders"] + d["tickets"])
        return render(p, "crm/my_day.html", title=_("我的一天"), d=d, names=names, new_reminders=len(created),
                      **_ctx(uow, request))


# ------------------------------------------------------------------ leads
LEAD_FIELDS = ("name", "company_name", "title", "phone", "email", "wechat", "source", "owner_id", "expected_value",
               "notes")


def _lead_filters(request: Request, p: Page) -> dict:
    return {"q": _q(request, "q"), "state": _q(request, "state"), "source": _q(request, "source"),
            "owner_id": _int(request, "owner_id"), "scope": _scope(p, request)}


@router.get("/leads")
def leads_page(request: Request, p: Page = READ):
    filters = _lead_filters(request, p)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = crm.list_leads(uow, **filters, limit=PAGE_SIZE, offset=_offset(request))
        return render(p, "crm/leads.html", title=_("线索"), rows=rows, total=total, filters=filters,
                      names=v.Names(uow, rows), states=_choices(crm.LEAD_STATE_LABELS, crm.LEAD_STATE_LABELS),
                      **_ctx(uow, request))


@router.get("/leads/export")
def leads_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = crm.list_leads(uow, **_lead_filters(request, p), limit=EXPORT_LIMIT)
        names = v.Names(uow, rows)
        data = [[x["number"], x["name"], x["company_name"], x["phone"], x["email"], x["wechat"], x["source_label"],
                 x["state_label"], x["owner"], x["duplicate_count"], x["created_at"][:10]]
                for x in (v.lead_out(r, names) for r in rows)]
    header = [_("编号"), _("姓名"), _("公司"), _("电话"), _("邮箱"), _("微信"), _("来源"), _("状态"), _("负责人"),
              _("重复咨询"), _("创建日期")]
    return export_response(format, "leads", header, data)


@router.get("/leads/new")
def lead_new(request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "crm/lead_form.html", title=_("新建线索"), values={"owner_id": p.actor.user_id},
                      **_ctx(uow, request))


@router.post("/leads/new")
async def lead_create(request: Request, p: Page = WRITE):
    data = await _form(request)

    def run():
        with UnitOfWork(p.actor) as uow:
            r = crm.create_lead(uow, s.parse(s.LeadIn, _pick(data, LEAD_FIELDS)))
            return r.lead.id, r.lead.number, r.duplicate

    try:
        lead_id, number, duplicate = await run_in_threadpool(run)
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return render(p, "crm/lead_form.html", status_code=422, title=_("新建线索"), values=data,
                          error=exc.message, error_field=exc.field, **_ctx(uow, request))
    if duplicate:
        return redirect(f"/crm/leads/{lead_id}", _("该电话或邮箱已有线索 {number}，已记为重复咨询", number=number),
                        kind="warning")
    return redirect(f"/crm/leads/{lead_id}", _("已保存"))


@router.get("/leads/{lead_id}")
def lead_detail(lead_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        lead = uow.get(Lead, lead_id)
        acts, _n = crm.list_activities(uow, lead_id=lead.id, scope="all", limit=100)
        return render(p, "crm/lead_detail.html", title=lead.number, lead=lead, names=v.Names(uow, [lead, *acts]),
                      activities=acts, audit_rows=_audit(uow, p, lead), audit_dumps=audit.dumps,
                      can_write=p.actor.can("crm.write"), **_ctx(uow, request))


@router.get("/leads/{lead_id}/edit")
def lead_edit(lead_id: int, request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        lead = uow.get(Lead, lead_id)
        return render(p, "crm/lead_form.html", title=_("编辑线索"), values=_values(lead, LEAD_FIELDS),
                      action=f"/crm/leads/{lead_id}/edit", **_ctx(uow, request))


@router.post("/leads/{lead_id}/edit")
async def lead_update(lead_id: int, request: Request, p: Page = WRITE):
    return await _edit(request, p, template="crm/lead_form.html", title=_("编辑线索"),
                       action=f"/crm/leads/{lead_id}/edit", back=f"/crm/leads/{lead_id}", fields=LEAD_FIELDS,
                       schema=s.LeadUpdate, update=crm.update_lead, obj_id=lead_id)


@router.post("/leads/{lead_id}/state")
async def lead_state(lead_id: int, request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        with UnitOfWork(p.actor) as uow:
            crm.set_lead_state(uow, lead_id, data.get("state") or "", data.get("reason") or None)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/crm/leads/{lead_id}", exc.message, kind="error")
    return redirect(f"/crm/leads/{lead_id}", _("已保存"))


@router.post("/leads/{lead_id}/convert")
async def lead_convert(lead_id: int, request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        body = s.parse(s.LeadConvertIn, {"partner_id": data.get("partner_id"),
                                         "opportunity_name": data.get("opportunity_name"),
                                         "expected_value": data.get("expected_value"),
                                         "expected_close_date": data.get("expected_close_date")})
        with UnitOfWork(p.actor) as uow:
            r = crm.convert_lead(uow, lead_id, body)
            opp_id = r["opportunity"].id
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/crm/leads/{lead_id}", exc.message, kind="error")
    return redirect(f"/crm/opportunities/{opp_id}", _("线索已转化为客户和商机"))


# ------------------------------------------------------------------ opportunities
OPP_FIELDS = ("name", "partner_id", "contact_id", "owner_id", "stage", "expected_value", "probability",
              "expected_close_date", "source", "notes")


def _opp_filters(request: Request, p: Page) -> dict:
    return {"q": _q(request, "q"), "stage": _q(request, "stage"), "owner_id": _int(request, "owner_id"),
            "partner_id": _int(request, "partner_id"), "scope": _scope(p, request),
            "close_from": _date(request, "close_from"), "close_to": _date(request, "close_to")}


@router.get("/opportunities")
def opportunities_page(request: Request, p: Page = READ):
    filters = _opp_filters(request, p)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = crm.list_opportunities(uow, **filters, limit=PAGE_SIZE, offset=_offset(request))
        return render(p, "crm/opportunities.html", title=_("商机"), rows=rows, total=total, filters=filters,
                      names=v.Names(uow, rows), **_ctx(uow, request))


@router.get("/opportunities/export")
def opportunities_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = crm.list_opportunities(uow, **_opp_filters(request, p), limit=EXPORT_LIMIT)
        names = v.Names(uow, rows)
        data = [[x["number"], x["name"], x["partner_name"], x["stage_label"], x["expected_value"], x["probability"],
                 x["expected_close_date"], x["owner"], x["sales_order_number"]]
                for x in (v.opportunity_out(r, names) for r in rows)]
    header = [_("编号"), _("商机名称"), _("客户"), _("阶段"), _("预计金额"), _("赢单概率"), _("预计成交日期"),
              _("负责人"), _("销售订单")]
    return export_response(format, "opportunities", header, data)


@router.get("/pipeline")
@router.get("/opportunities/kanban")
def kanban_page(request: Request, p: Page = READ):
    scope = _scope(p, request)
    with UnitOfWork(p.actor, readonly=True) as uow:
        stages = crm.pipeline(uow, scope=scope, owner_id=_int(request, "owner_id"))
        names = v.Names(uow, [o for st in stages for o in st["items"]])
        return render(p, "crm/kanban.html", title=_("商机看板"), board=stages, names=names, scope=scope,
                      open_stages=list(crm.OPEN_STAGES), can_write=p.actor.can("crm.write"), **_ctx(uow, request))


@router.get("/opportunities/new")
def opportunity_new(request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        values = {"owner_id": p.actor.user_id, "stage": "initial", "partner_id": _int(request, "partner_id")}
        return render(p, "crm/opportunity_form.html", title=_("新建商机"), values=values, **_ctx(uow, request))


@router.post("/opportunities/new")
async def opportunity_create(request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        with UnitOfWork(p.actor) as uow:
            opp_id = crm.create_opportunity(uow, s.parse(s.OpportunityIn, _pick(data, OPP_FIELDS))).id
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return render(p, "crm/opportunity_form.html", status_code=422, title=_("新建商机"), values=data,
                          error=exc.message, error_field=exc.field, **_ctx(uow, request))
    return redirect(f"/crm/opportunities/{opp_id}", _("已保存"))


@router.get("/opportunities/{opp_id}")
def opportunity_detail(opp_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        opp = uow.get(Opportunity, opp_id)
        acts, _n = crm.list_activities(uow, opportunity_id=opp.id, scope="all", limit=100)
        return render(p, "crm/opportunity_detail.html", title=opp.number, opp=opp, activities=acts,
                      names=v.Names(uow, [opp, *acts]), audit_rows=_audit(uow, p, opp), audit_dumps=audit.dumps,
                      can_write=p.actor.can("crm.write"), open_stages=list(crm.OPEN_STAGES), **_ctx(uow, request))


OPP_EDIT_FIELDS = ("name", "partner_id", "owner_id", "expected_value", "probability", "expected_close_date", "notes")


@router.get("/opportunities/{opp_id}/edit")
def opportunity_edit(opp_id: int, request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        opp = uow.get(Opportunity, opp_id)
        return render(p, "crm/opportunity_form.html", title=_("编辑商机"), values=_values(opp, OPP_FIELDS),
                      action=f"/crm/opportunities/{opp_id}/edit", **_ctx(uow, request))


@router.post("/opportunities/{opp_id}/edit")
async def opportunity_update(opp_id: int, request: Request, p: Page = WRITE):
    return await _edit(request, p, template="crm/opportunity_form.html", title=_("编辑商机"),
                       action=f"/crm/opportunities/{opp_id}/edit", back=f"/crm/opportunities/{opp_id}",
                       fields=OPP_EDIT_FIELDS, schema=s.OpportunityUpdate, update=crm.update_opportunity,
                       obj_id=opp_id)


@router.post("/opportunities/{opp_id}/stage")
async def opportunity_stage(opp_id: int, request: Request, p: Page = WRITE):
    data = await _form(request)
    back = data.get("next") if (data.get("next") or "").startswith("/crm/") else f"/crm/opportunities/{opp_id}"
    try:
        with UnitOfWork(p.actor) as uow:
            opp = crm.set_stage(uow, opp_id, data.get("stage") or "", data.get("lost_reason") or None)
            msg = _("{number} → {stage}", number=opp.number, stage=crm.label(crm.STAGE_LABELS, opp.stage))
    except DomainError as exc:
        if exc.status == 404 or request.headers.get("hx-request"):
            raise
        return redirect(back, exc.message, kind="error")
    return redirect(back, msg)


def _quote_lines(data) -> list[dict]:
    lines = []
    for i in range(10):
        product = (data.get(f"product_{i}") or "").strip()
        qty = (data.get(f"quantity_{i}") or "").strip()
        if product or qty:
            lines.append({"product": product, "quantity": qty or None, "unit_price": data.get(f"unit_price_{i}"),
                          "discount_pct": data.get(f"discount_pct_{i}")})
    return lines


@router.post("/opportunities/{opp_id}/quote")
async def opportunity_quote(opp_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    try:
        lines = _quote_lines(form)
        if not lines:
            raise ValidationFailed(_("请至少填写一行"), field="lines")
        body = s.parse(s.QuoteIn, {"lines": lines, "valid_until": form.get("valid_until")})
        with UnitOfWork(p.actor) as uow:
            opp = crm.create_quote(uow, opp_id, body)
            msg = _("已生成报价单 {number}", number=opp.quote_number)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/crm/opportunities/{opp_id}", exc.message, kind="error")
    return redirect(f"/crm/opportunities/{opp_id}", msg)


@router.post("/opportunities/{opp_id}/order")
async def opportunity_order(opp_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    try:
        lines = _quote_lines(form)
        body = s.parse(s.OrderIn, {"lines": lines or None})
        with UnitOfWork(p.actor) as uow:
            opp = crm.order_from_opportunity(uow, opp_id, body)
            msg = _("赢单！已生成销售订单 {number}", number=opp.sales_order_number)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/crm/opportunities/{opp_id}", exc.message, kind="error")
    return redirect(f"/crm/opportunities/{opp_id}", msg)


# ------------------------------------------------------------------ activities
ACT_FIELDS = ("kind", "subject", "notes", "owner_id", "due_date", "remind_at", "partner_id", "contact_id", "lead_id",
              "opportunity_id", "ticket_id")


def _act_filters(request: Request, p: Page) -> dict:
    return {"q": _q(request, "q"), "state": _q(request, "state"), "kind": _q(request, "kind"),
            "due": _q(request, "due"), "owner_id": _int(request, "owner_id"), "scope": _scope(p, request),
            "partner_id": _int(request, "partner_id"), "campaign_id": _int(request, "campaign_id")}


@router.get("/activities")
def activities_page(request: Request, p: Page = READ):
    filters = _act_filters(request, p)
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = crm.list_activities(uow, **filters, limit=PAGE_SIZE, offset=_offset(request))
        except ValidationFailed as exc:
            rows, total, error = [], 0, exc.message
        return render(p, "crm/activities.html", title=_("跟进记录"), rows=rows, total=total, filters=filters,
                      error=error,
                      names=v.Names(uow, rows), states=_choices(crm.ACTIVITY_STATE_LABELS, crm.ACTIVITY_STATE_LABELS),
                      **_ctx(uow, request))


@router.get("/activities/export")
def activities_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = crm.list_activities(uow, **_act_filters(request, p), limit=EXPORT_LIMIT)
        names = v.Names(uow, rows)
        data = [[x["kind_label"], x["subject"], x["partner_name"], x["due_date"], x["owner"], x["state_label"],
                 x["result"]] for x in (v.activity_out(r, names) for r in rows)]
    header = [_("方式"), _("主题"), _("客户"), _("截止日期"), _("负责人"), _("状态"), _("结果")]
    return export_response(format, "activities", header, data)


@router.get("/activities/new")
def activity_new(request: Request, p: Page = WRITE):
    values = {"owner_id": p.actor.user_id, "kind": "call"}
    for k in ("partner_id", "lead_id", "opportunity_id", "ticket_id", "due_date"):
        if _q(request, k):
            values[k] = _q(request, k)
    with UnitOfWork(p.actor, readonly=True) as uow:
        values.setdefault("due_date", crm.today(uow).isoformat())
        return render(p, "crm/activity_form.html", title=_("新建跟进"), values=values, **_ctx(uow, request))


@router.post("/activities/new")
async def activity_create(request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        with UnitOfWork(p.actor) as uow:
            act = crm.create_activity(uow, s.parse(s.ActivityIn, _pick(data, ACT_FIELDS)))
            back = (f"/crm/opportunities/{act.opportunity_id}" if act.opportunity_id else
                    f"/crm/leads/{act.lead_id}" if act.lead_id else
                    f"/crm/tickets/{act.ticket_id}" if act.ticket_id else "/crm/activities")
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return render(p, "crm/activity_form.html", status_code=422, title=_("新建跟进"), values=data,
                          error=exc.message, error_field=exc.field, **_ctx(uow, request))
    return redirect(back, _("已保存"))


@router.post("/activities/{act_id}/done")
async def activity_done(act_id: int, request: Request, p: Page = WRITE):
    data = await _form(request)
    back = data.get("next") if (data.get("next") or "").startswith("/crm/") else "/crm/activities"
    try:
        with UnitOfWork(p.actor) as uow:
            crm.complete_activity(uow, act_id, data.get("result") or None)
    except DomainError as exc:
        if exc.status == 404 or request.headers.get("hx-request"):
            raise
        return redirect(back, exc.message, kind="error")
    return redirect(back, _("已完成"))


@router.post("/activities/{act_id}/cancel")
async def activity_cancel(act_id: int, request: Request, p: Page = WRITE):
    data = await _form(request)
    back = data.get("next") if (data.get("next") or "").startswith("/crm/") else "/crm/activities"
    try:
        with UnitOfWork(p.actor) as uow:
            crm.cancel_activity(uow, act_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(back, exc.message, kind="error")
    return redirect(back, _("已取消"))


# ------------------------------------------------------------------ customers
@router.get("/customers")
def customers_page(request: Request, p: Page = READ):
    filters = {"q": _q(request, "q"), "segment": _q(request, "segment"), "owner_id": _int(request, "owner_id"),
               "scope": _q(request, "scope") or "all"}
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = crm.list_customers(uow, **filters, limit=PAGE_SIZE, offset=_offset(request))
        except ValidationFailed:
            rows, total = [], 0
        summary = crm.segment_summary(uow)
        owners = crm.user_names(uow, [r["owner_id"] for r in rows])
        collections = crm.collection_progress(uow, [r["partner"].id for r in rows])
        return render(p, "crm/customers.html", title=_("客户"), rows=rows, total=total, filters=filters,
                      owners=owners, summary=summary, collections=collections, **_ctx(uow, request))


@router.get("/customers/export")
def customers_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = crm.list_customers(uow, q=_q(request, "q"), segment=_q(request, "segment"),
                                      owner_id=_int(request, "owner_id"), scope=_q(request, "scope") or "all",
                                      limit=EXPORT_LIMIT)
        owners = crm.user_names(uow, [r["owner_id"] for r in rows])
        data = []
        for r in rows:
            x = v.customer_row_out(r, owners)
            data.append([x["code"], x["name"], x["segment_label"], x["rfm"], x["lifetime_value"], x["order_count"],
                         x["last_order_date"], x["average_order_interval_days"], x["expected_next_purchase_date"],
                         x["owner"]])
    header = [_("编码"), _("客户"), _("客户分群"), _("RFM"), _("累计金额"), _("订单数"), _("最近下单"),
              _("平均下单间隔(天)"), _("预计复购日"), _("负责人")]
    return export_response(format, "customers", header, data)


@router.get("/customers/{partner_id}")
def customer_page(partner_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        prof = crm.customer_profile(uow, partner_id)
        rows = prof["contacts"] + prof["opportunities"] + prof["activities"] + prof["tickets"]
        return render(p, "crm/customer.html", title=prof["partner"].name, prof=prof, names=v.Names(uow, rows),
                      owner=crm.user_names(uow, [prof["owner_id"]]).get(prof["owner_id"]),
                      can_write=p.actor.can("crm.write"), **_ctx(uow, request))


@router.post("/customers/{partner_id}/owner")
async def customer_owner(partner_id: int, request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        body = s.parse(s.OwnerIn, {"owner_id": data.get("owner_id")})
        with UnitOfWork(p.actor) as uow:
            crm.set_customer_owner(uow, partner_id, body.owner_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/crm/customers/{partner_id}", exc.message, kind="error")
    return redirect(f"/crm/customers/{partner_id}", _("已保存"))


# ------------------------------------------------------------------ contacts
CONTACT_FIELDS = ("partner_id", "name", "title", "phone", "email", "wechat", "owner_id", "is_primary", "notes")


@router.get("/contacts")
def contacts_page(request: Request, p: Page = READ):
    filters = {"q": _q(request, "q"), "partner_id": _int(request, "partner_id")}
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = crm.list_contacts(uow, **filters, limit=PAGE_SIZE, offset=_offset(request))
        return render(p, "crm/contacts.html", title=_("联系人"), rows=rows, total=total, filters=filters,
                      names=v.Names(uow, rows), **_ctx(uow, request))


@router.get("/contacts/new")
def contact_new(request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "crm/contact_form.html", title=_("新建联系人"),
                      values={"owner_id": p.actor.user_id, "partner_id": _int(request, "partner_id")},
                      **_ctx(uow, request))


@router.post("/contacts/new")
async def contact_create(request: Request, p: Page = WRITE):
    data = await _form(request, ("is_primary",))
    try:
        with UnitOfWork(p.actor) as uow:
            c = crm.create_contact(uow, s.parse(s.ContactIn, _pick(data, CONTACT_FIELDS)))
            back = f"/crm/customers/{c.partner_id}" if c.partner_id else "/crm/contacts"
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return render(p, "crm/contact_form.html", status_code=422, title=_("新建联系人"), values=data,
                          error=exc.message, error_field=exc.field, **_ctx(uow, request))
    return redirect(back, _("已保存"))


@router.get("/contacts/{contact_id}/edit")
def contact_edit(contact_id: int, request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        c = uow.get(Contact, contact_id)
        return render(p, "crm/contact_form.html", title=_("编辑联系人"), values=_values(c, CONTACT_FIELDS),
                      action=f"/crm/contacts/{contact_id}/edit", contact_id=contact_id, **_ctx(uow, request))


@router.post("/contacts/{contact_id}/edit")
async def contact_update(contact_id: int, request: Request, p: Page = WRITE):
    return await _edit(request, p, template="crm/contact_form.html", title=_("编辑联系人"),
                       action=f"/crm/contacts/{contact_id}/edit", back="/crm/contacts", fields=CONTACT_FIELDS,
                       schema=s.ContactUpdate, update=crm.update_contact, obj_id=contact_id,
                       checkboxes=("is_primary",))


@router.post("/contacts/{contact_id}/archive")
def contact_archive(contact_id: int, p: Page = WRITE):
    with UnitOfWork(p.actor) as uow:
        crm.archive_contact(uow, contact_id)
    return redirect("/crm/contacts", _("已归档"))


# ------------------------------------------------------------------ tickets
TICKET_FIELDS = ("subject", "partner_id", "kind", "priority", "contact_id", "sales_order_id", "sales_order_number",
                 "owner_id", "due_date", "description")


def _ticket_filters(request: Request, p: Page) -> dict:
    state = _q(request, "state")
    overdue = _q(request, "overdue")
    return {"q": _q(request, "q"), "state": None if state in (None, "open_all") else state,
            "open_only": state in (None, "open_all"), "kind": _q(request, "kind"),
            "overdue": True if overdue == "1" else None, "owner_id": _int(request, "owner_id"),
            "scope": _q(request, "scope") or "all"}


@router.get("/tickets")
def tickets_page(request: Request, p: Page = READ):
    filters = _ticket_filters(request, p)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = crm.list_tickets(uow, **filters, limit=PAGE_SIZE, offset=_offset(request))
        return render(p, "crm/tickets.html", title=_("售后工单"), rows=rows, total=total, filters=filters,
                      state=_q(request, "state") or "open_all", names=v.Names(uow, rows),
                      states=_choices(crm.TICKET_STATE_LABELS, crm.TICKET_STATE_LABELS), **_ctx(uow, request))


@router.get("/tickets/export")
def tickets_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _t = crm.list_tickets(uow, **_ticket_filters(request, p), limit=EXPORT_LIMIT)
        names, day = v.Names(uow, rows), crm.today(uow)
        data = [[x["number"], x["subject"], x["partner_name"], x["kind_label"], x["sales_order_number"], x["owner"],
                 x["due_date"], x["state_label"], _("是") if x["overdue"] else _("否"), x["resolution"]]
                for x in (v.ticket_out(r, names, day) for r in rows)]
    header = [_("编号"), _("主题"), _("客户"), _("类型"), _("销售订单"), _("负责人"), _("截止日期"), _("状态"),
              _("逾期"), _("处理结果")]
    return export_response(format, "tickets", header, data)


@router.get("/tickets/new")
def ticket_new(request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        values = {"owner_id": p.actor.user_id, "kind": "complaint", "priority": "normal",
                  "partner_id": _int(request, "partner_id"),
                  "due_date": (crm.today(uow) + dt.timedelta(days=3)).isoformat()}
        return render(p, "crm/ticket_form.html", title=_("新建售后工单"), values=values, **_ctx(uow, request))


@router.post("/tickets/new")
async def ticket_create(request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        with UnitOfWork(p.actor) as uow:
            ticket_id = crm.create_ticket(uow, s.parse(s.TicketIn, _pick(data, TICKET_FIELDS))).id
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return render(p, "crm/ticket_form.html", status_code=422, title=_("新建售后工单"), values=data,
                          error=exc.message, error_field=exc.field, **_ctx(uow, request))
    return redirect(f"/crm/tickets/{ticket_id}", _("已保存"))


@router.get("/tickets/{ticket_id}")
def ticket_detail(ticket_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        t = uow.get(Ticket, ticket_id)
        acts, _n = crm.list_activities(uow, ticket_id=t.id, scope="all", limit=100)
        return render(p, "crm/ticket_detail.html", title=t.number, t=t, activities=acts,
                      names=v.Names(uow, [t, *acts]), next_states=sorted(crm.TICKET_FLOW[t.state]),
                      overdue=crm.ticket_overdue(t, crm.today(uow)), audit_rows=_audit(uow, p, t),
                      audit_dumps=audit.dumps, can_write=p.actor.can("crm.write"), **_ctx(uow, request))


TICKET_EDIT_FIELDS = ("subject", "kind", "priority", "owner_id", "due_date", "description")


@router.get("/tickets/{ticket_id}/edit")
def ticket_edit(ticket_id: int, request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        t = uow.get(Ticket, ticket_id)
        return render(p, "crm/ticket_form.html", title=_("编辑售后工单"), values=_values(t, TICKET_FIELDS),
                      action=f"/crm/tickets/{ticket_id}/edit", **_ctx(uow, request))


@router.post("/tickets/{ticket_id}/edit")
async def ticket_update(ticket_id: int, request: Request, p: Page = WRITE):
    return await _edit(request, p, template="crm/ticket_form.html", title=_("编辑售后工单"),
                       action=f"/crm/tickets/{ticket_id}/edit", back=f"/crm/tickets/{ticket_id}",
                       fields=TICKET_EDIT_FIELDS, schema=s.TicketUpdate, update=crm.update_ticket, obj_id=ticket_id)


@router.post("/tickets/{ticket_id}/state")
async def ticket_state(ticket_id: int, request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        with UnitOfWork(p.actor) as uow:
            crm.set_ticket_state(uow, ticket_id, data.get("state") or "", data.get("resolution") or None)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/crm/tickets/{ticket_id}", exc.message, kind="error")
    return redirect(f"/crm/tickets/{ticket_id}", _("已保存"))


# ------------------------------------------------------------------ campaigns
@router.get("/campaigns")
def campaigns_page(request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = crm.list_campaigns(uow, q=_q(request, "q"), limit=PAGE_SIZE, offset=_offset(request))
        summary = crm.segment_summary(uow)
        return render(p, "crm/campaigns.html", title=_("营销活动"), rows=rows, total=total, summary=summary,
                      values={"activity_kind": "call", "window_days": 30}, can_write=p.actor.can("crm.write"),
                      filters={"q": _q(request, "q")}, **_ctx(uow, request))


@router.post("/campaigns/new")
async def campaign_create(request: Request, p: Page = WRITE):
    data = await _form(request)
    try:
        body = s.parse(s.CampaignIn, _pick(data, ("name", "segment", "activity_kind", "message", "window_days",
                                                  "due_date")))
        with UnitOfWork(p.actor) as uow:
            camp_id = crm.create_campaign(uow, body).id
    except DomainError as exc:
        return redirect("/crm/campaigns", exc.message, kind="error")
    return redirect(f"/crm/campaigns/{camp_id}", _("已创建营销活动并为负责人生成跟进任务"))


@router.get("/campaigns/{campaign_id}")
def campaign_detail(campaign_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        camp = uow.get(Campaign, campaign_id)
        members = crm.campaign_members(uow, camp.id)
        results = crm.campaign_results(uow, camp.id)
        return render(p, "crm/campaign_detail.html", title=camp.name, camp=camp, members=members, results=results,
                      partners=crm.partner_names(uow, [o.partner_id for o in results["orders"]]),
                      **_ctx(uow, request))


@router.get("/campaigns/{campaign_id}/contacts")
def campaign_contacts(campaign_id: int, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        camp = uow.get(Campaign, campaign_id)
        header, rows = campaign_contact_table(uow, camp.id)
    return export_response("csv" if format == "csv" else "xlsx", f"campaign-{camp.number}", header, rows)


__all__ = ["Activity", "Contact", "router"]
