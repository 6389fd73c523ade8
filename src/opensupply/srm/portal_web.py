"""Supplier portal pages under /portal (own mobile-friendly layout; srm.portal and a portal account — anyone
else gets 404): dashboard with notices and open RFQs, an RFQ with the bid form, my bids, my purchase orders
with the confirm/promised-date form and advance ship notices (发货通知), my scorecard. Every read goes through
`srm.portal`, which scopes it to the caller's own supplier; another supplier's RFQ or order is 404. Buyers manage
portal logins at /srm/portal-accounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.exceptions import HTTPException

from opensupply.core.db import get_database
from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page, page_permission
from opensupply.core.i18n import _
from opensupply.core.modules import disabled_for
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import asn, portal, rfq, scorecard

router = APIRouter(include_in_schema=False)
WRITE = Depends(page_permission(rfq.WRITE))
READ = Depends(page_permission(rfq.READ))


async def portal_page(p: Page = Depends(page)) -> Page:
    """A logged-in portal user of a company that has SRM on; everyone else: not found."""
    if not p.actor.can(portal.PORTAL):
        raise HTTPException(status_code=404)
    with get_database().readonly_sessionmaker() as s:
        if "srm" in disabled_for(s, p.actor.company_id):
            raise HTTPException(status_code=404)
    return p


PORTAL = Depends(portal_page)


def _render(p: Page, uow: UnitOfWork, template: str, **ctx):
    return render(p, template, supplier=portal.partner_info(uow), nav=[], **ctx)


@router.get("/portal")
def dashboard(p: Page = PORTAL):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return _render(p, uow, "srm/portal_home.html", title=_("供应商门户"), notices=portal.my_notices(uow),
                       rfqs=portal.my_rfqs(uow, only_open=True))


@router.get("/portal/rfqs")
def rfqs_page(p: Page = PORTAL):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return _render(p, uow, "srm/portal_rfqs.html", title=_("询价"), rfqs=portal.my_rfqs(uow), bids_only=False)


@router.get("/portal/bids")
def bids_page(p: Page = PORTAL):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return _render(p, uow, "srm/portal_rfqs.html", title=_("我的报价"), rfqs=portal.my_bids(uow), bids_only=True)


@router.get("/portal/rfqs/{rfq_id}")
def rfq_page(rfq_id: int, p: Page = PORTAL):
    with UnitOfWork(p.actor, readonly=True) as uow:
        r = portal.my_rfq(uow, rfq_id)
        return _render(p, uow, "srm/portal_rfq.html", title=r["number"], r=r, error=None)


@router.post("/portal/rfqs/{rfq_id}/bid")
async def submit_bid(rfq_id: int, request: Request, p: Page = PORTAL):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            r = portal.my_rfq(uow, rfq_id)
            lines = [portal.BidLineIn(ln["id"], str(form.get(f"price_{ln['id']}") or "").strip(),
                                      str(form.get(f"lead_{ln['id']}") or "").strip()) for ln in r["lines"]]
            portal.submit_bid(uow, rfq_id, lines, payment_terms=str(form.get("payment_terms") or ""),
                              validity_days=str(form.get("validity_days") or "30"), note=str(form.get("note") or ""))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/portal/rfqs/{rfq_id}", exc.message, "error")
    return redirect(f"/portal/rfqs/{rfq_id}", _("报价已提交，截止前可以修改"))


@router.get("/portal/orders")
def orders_page(request: Request, p: Page = PORTAL):
    q = (request.query_params.get("q") or "").strip()
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, total = portal.my_orders(uow, q=q or None, limit=200)
        return _render(p, uow, "srm/portal_orders.html", title=_("采购订单"), items=items, total=total, q=q)


@router.get("/portal/orders/{order_id}")
def order_page(order_id: int, p: Page = PORTAL):
    with UnitOfWork(p.actor, readonly=True) as uow:
        o = portal.my_order(uow, order_id)
        left = asn.open_quantities(uow, o)
        return _render(p, uow, "srm/portal_order.html", title=o["number"], o=o, asns=asn.my_asns(uow, order_id),
                       left={k: str(v) for k, v in left.items()}, can_ship=o["can_confirm"] and any(left.values()),
                       today=company_today(uow).isoformat())


@router.post("/portal/orders/{order_id}/confirm")
async def confirm_order(order_id: int, request: Request, p: Page = PORTAL):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            portal.confirm_order(uow, order_id, str(form.get("promised_date") or ""), str(form.get("note") or ""))
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/portal/orders/{order_id}", exc.message, "error")
    return redirect(f"/portal/orders/{order_id}", _("已确认订单交期"))


@router.post("/portal/orders/{order_id}/asns")
async def create_asn(order_id: int, request: Request, p: Page = PORTAL):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            o = portal.my_order(uow, order_id)
            lines = [asn.AsnLineIn(ln["id"], str(form.get(f"qty_{ln['id']}") or "").strip(),
                                   str(form.get(f"lot_{ln['id']}") or "")) for ln in o["lines"]]
            a = asn.create_asn(uow, order_id, lines, ship_date=str(form.get("ship_date") or ""),
                               expected_date=str(form.get("expected_date") or ""),
                               carrier=str(form.get("carrier") or ""), tracking_no=str(form.get("tracking_no") or ""),
                               note=str(form.get("note") or ""))
            number = a.number
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/portal/orders/{order_id}", exc.message, "error")
    return redirect(f"/portal/orders/{order_id}", _("发货通知 {n} 已发送给采购方", n=number))


@router.get("/portal/asns")
def asns_page(p: Page = PORTAL):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return _render(p, uow, "srm/portal_asns.html", title=_("发货通知"), items=asn.my_asns(uow))


@router.post("/portal/asns/{asn_id}/cancel")
async def cancel_asn(asn_id: int, request: Request, p: Page = PORTAL):
    form = await request.form()
    back = str(form.get("next") or "/portal/asns")
    back = back if back.startswith("/portal/") else "/portal/asns"
    try:
        with UnitOfWork(p.actor) as uow:
            a = asn.cancel_asn(uow, asn_id, str(form.get("reason") or ""))
            number = a.number
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(back, exc.message, "error")
    return redirect(back, _("发货通知 {n} 已取消", n=number))


@router.get("/portal/scorecard")
def scorecard_page(p: Page = PORTAL):
    with UnitOfWork(p.actor, readonly=True) as uow:
        t = scorecard.trend(uow, portal.portal_partner(uow), "month", check=False)
        return _render(p, uow, "srm/portal_scorecard.html", title=_("我的评分"), t=t,
                       chart_json=script_json(t["chart"]))


# ------------------------------------------------------------------ buyers: portal logins
@router.get("/srm/portal-accounts")
def accounts_page(p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        items = portal.portal_accounts(uow)
        from .rfq_web import _suppliers

        suppliers = _suppliers(uow)
    return render(p, "srm/portal_accounts.html", title=_("供应商门户账号"), items=items, suppliers=suppliers,
                  can_write=p.actor.can(rfq.WRITE), password=None, error=None)


@router.post("/srm/portal-accounts")
async def invite(request: Request, p: Page = WRITE):
    form = await request.form()
    error, password = None, None
    try:
        with UnitOfWork(p.actor) as uow:
            _acc, password = portal.invite_supplier_user(
                uow, str(form.get("partner") or ""), username=str(form.get("username") or ""),
                display_name=str(form.get("display_name") or ""), email=str(form.get("email") or ""))
    except DomainError as exc:
        error = exc.message
    with UnitOfWork(p.actor, readonly=True) as uow:
        from .rfq_web import _suppliers

        items, suppliers = portal.portal_accounts(uow), _suppliers(uow)
    return render(p, "srm/portal_accounts.html", status_code=422 if error else 200, title=_("供应商门户账号"),
                  items=items, suppliers=suppliers, can_write=True, password=password, error=error,
                  username=str(form.get("username") or ""))
