"""OMS order-flow pages under /oms/: the order list (filters, pagination, CSV/XLSX export, bulk
actions with per-order results), order detail (lines, holds, fulfilments, timeline, address fix,
split, refund), fulfilments, returns and the dashboard. Same services as the API; buyer data is
masked for users without ``oms.buyer_data``."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import allocation, returns
from . import fulfilments as ful
from . import orders as oo
from .models import HOLD_KINDS, OmsShop

router = APIRouter(prefix="/oms", include_in_schema=False)
READ = Depends(page_permission("oms.read"))
WRITE = Depends(page_permission("oms.write"))
PAGE_SIZE = 50
EXPORT_LIMIT = 100000
BULK_ACTIONS = {"approve": "审核", "allocate": "分配仓库", "merge": "合并", "split": "拆分", "hold": "挂起",
                "release": "解除挂起", "cancel": "取消"}


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _keep(request: Request) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in ("offset", "format")
                                   and v})


def _filters(request: Request, offset: int = 0, limit: int = PAGE_SIZE) -> oo.OrderFilters:
    qp = request.query_params
    return oo.OrderFilters(q=qp.get("q") or None, channel=qp.get("channel") or None, shop_id=_int(qp.get("shop_id")),
                           status=qp.get("status") or None, hold=qp.get("hold") or None,
                           date_from=_date(qp.get("date_from")), date_to=_date(qp.get("date_to")),
                           province=qp.get("province") or None, sku=qp.get("sku") or None,
                           refund=qp.get("refund") or None, limit=limit, offset=max(0, offset))


def _buyer(p: Page) -> bool:
    return p.actor.can("oms.buyer_data")


def _labels(table: dict) -> list[tuple[str, str]]:
    return [(k, str(v)) for k, v in table.items()]


# ------------------------------------------------------------------ orders
@router.get("/orders")
def orders_page(request: Request, offset: int = 0, p: Page = READ):
    flt = _filters(request, offset)

    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = oo.list_orders(uow, flt)
        shops = oo.shop_names(uow)
        items = [oo.order_dict(o, buyer_data=_buyer(p), shops=shops) for o in rows]
    return _orders_page(p, request, flt, items, total, shops)


def _orders_page(p: Page, request: Request, flt: oo.OrderFilters, rows, total, shops, results=None, status=200):
    return render(p, "oms/orders.html", status_code=status, title=_("全部订单"), rows=rows, total=total,
                  offset=flt.offset, limit=flt.limit, filters=request.query_params, keep=_keep(request),
                  statuses=_labels(oo.STATUS_LABELS), channels=_labels(oo.CHANNEL_LABELS),
                  holds=_labels(oo.HOLD_LABELS), shops=list(shops.items()),
                  actions=[(k, _(v)) for k, v in BULK_ACTIONS.items()], results=results,
                  can_write=p.actor.can("oms.write"))


EXPORT_COLUMNS = [("number", "订单号"), ("channel_label", "渠道"), ("shop_name", "店铺"),
                  ("channel_order_id", "平台单号"), ("status_label", "状态"), ("refund_label", "退款"),
                  ("buyer_nick", "买家"), ("receiver_name", "收货人"), ("phone", "手机"), ("province", "省"),
                  ("city", "市"), ("district", "区"), ("address_detail", "详细地址"), ("paid_amount", "实付款"),
                  ("freight", "运费"), ("paid_at", "付款时间"), ("promised_ship_by", "承诺发货时间")]


@router.get("/orders/export")
def orders_export(request: Request, format: str = "xlsx", p: Page = READ):
    flt = _filters(request, 0, EXPORT_LIMIT)
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _total = oo.list_orders(uow, flt)
        shops = oo.shop_names(uow)
        data = [oo.order_dict(o, buyer_data=_buyer(p), shops=shops) for o in rows]
    header = [_(label) for _k, label in EXPORT_COLUMNS]
    table = [[d.get(k) for k, _l in EXPORT_COLUMNS] for d in data]
    if format == "csv":
        return Response(write_csv(header, table), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="oms-orders.csv"'})
    return Response(write_xlsx(header, table, "orders"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="oms-orders.xlsx"'})


@router.post("/orders/bulk")
async def orders_bulk(request: Request, p: Page = WRITE):
    form = await request.form()
    action = form.get("action") or ""
    ids = [int(v) for v in form.getlist("order_ids") if str(v).isdigit()]
    reason = (form.get("reason") or "").strip()
    kind = form.get("kind") or "manual"

    def run():
        if not ids:
            raise ValidationFailed(_("请先勾选订单"), field="order_ids")
        with UnitOfWork(p.actor) as uow:
            if action == "approve":
                return oo.approve_orders(uow, ids)
            if action == "allocate":
                return allocation.allocate_orders(uow, ids)
            if action == "hold":
                return oo.hold_orders(uow, ids, kind if kind in HOLD_KINDS else "manual", reason or None)
            if action == "release":
                return oo.release_orders(uow, ids)
            if action == "cancel":
                if not reason:
                    raise ValidationFailed(_("请填写取消原因"), field="reason")
                return oo.cancel_orders(uow, ids, reason)
            if action == "merge":
                master = oo.merge_orders(uow, ids)
                return [{"id": i, "number": oo.get_order(uow, i).number, "ok": True,
                         "message": _("已合并到 {n}", n=master.number)} for i in ids]
            if action == "split":
                if len(ids) != 1:
                    raise ValidationFailed(_("拆分请只勾选一个订单"), field="order_ids")
                return None
            raise ValidationFailed(_("请选择操作"), field="action")

    try:
        results = await run_in_threadpool(run)
    except DomainError as exc:
        results = [{"id": i, "number": None, "ok": False, "message": exc.message} for i in ids] or \
            [{"id": 0, "number": "—", "ok": False, "message": exc.message}]
    if results is None:  # split: pick the parcels on the order page
        return redirect(f"/oms/orders/{ids[0]}#split", _("请在订单页填写拆分方案"), "info")
    for r in results:
        r["number"] = r.get("number") or f"#{r['id']}"
    ok = sum(1 for r in results if r["ok"])
    return render(p, "oms/bulk_result.html", title=_("批量操作结果"), results=results,
                  action=_(BULK_ACTIONS.get(action, action)), ok=ok, failed=len(results) - ok,
                  back=request.headers.get("referer") or "/oms/orders")


@router.get("/orders/{order_id}")
def order_page(order_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        o = oo.order_detail(uow, order_id, buyer_data=_buyer(p))
        shop = uow.session.get(OmsShop, o["shop_id"])
    batch_url = "/erp/invoices/batch?" + urllib.parse.urlencode({"customer": shop.customer_id, "preview": "1"}) \
        if shop is not None and shop.customer_id else None
    return render(p, "oms/order_detail.html", title=o["number"], o=o, hold_kinds=_labels(oo.HOLD_LABELS),
                  can_write=p.actor.can("oms.write"), buyer_data=_buyer(p),
                  can_invoice=p.actor.can("erp.invoicing"), batch_invoice_url=batch_url)


@router.post("/orders/{order_id}/{action}")
async def order_action(order_id: int, action: str, request: Request, p: Page = WRITE):
    form = await request.form()
    url = f"/oms/orders/{order_id}"

    def run() -> tuple[str, str]:
        with UnitOfWork(p.actor) as uow:
            if action == "approve":
                oo.approve_order(uow, order_id)
                return url, _("订单已审核")
            if action == "unapprove":
                oo.unapprove_order(uow, order_id)
                return url, _("已反审核")
            if action == "allocate":
                (res,) = allocation.allocate_orders(uow, [order_id])
                if not res["ok"]:
                    raise ValidationFailed(res["message"])
                return url, res["message"]
            if action == "deallocate":
                allocation.deallocate_order(uow, order_id, form.get("reason"))
                return url, _("已撤销分配")
            if action == "hold":
                kind = form.get("kind") or "manual"
                oo.place_hold(uow, order_id, kind, (form.get("note") or "").strip() or None)
                return url, _("订单已挂起")
            if action == "release":
                oo.release_hold(uow, int(form.get("hold_id") or 0))
                return url, _("已解除挂起")
            if action == "cancel":
                outcome = oo.cancel_order(uow, order_id, form.get("reason") or "")
                return url, _("订单已取消") if outcome == "cancelled" else _("已拦截，等待仓库归位")
            if action == "refund":
                line_ids = [int(v) for v in form.getlist("line_ids") if str(v).isdigit()] or None
                outcome = oo.apply_platform_refund(uow, order_id, line_ids=line_ids,
                                                   reason=form.get("reason") or "")
                return url, _("退款已处理：{o}", o=outcome)
            if action == "address":
                oo.update_address(uow, order_id, form.get("address") or "",
                                  receiver_name=form.get("receiver_name"), phone=form.get("phone"))
                return url, _("地址已更新")
            if action == "unmerge":
                oo.unmerge_order(uow, order_id)
                return url, _("已取消合并")
            if action == "split":
                parts = _split_parts(form)
                oo.split_order(uow, order_id, parts)
                return url, _("已拆分为 {n} 个包裹", n=len(parts))
            if action == "unsplit":
                oo.clear_split(uow, order_id)
                return url, _("已取消拆分")
            if action == "return":
                lines = [(int(k.split("-", 1)[1]), v) for k, v in form.items()
                         if k.startswith("ret-") and str(v).strip() not in ("", "0")]
                r = returns.create_return(uow, order_id, lines or None, reason=form.get("reason") or "",
                                          tracking_number=form.get("tracking_number"))
                return f"/oms/returns/{r.id}", _("已创建退货单 {n}", n=r.number)
            raise ValidationFailed(_("未知操作"))

    try:
        target, msg = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(url, exc.message, "error")
    return redirect(target, msg)


def _split_parts(form) -> list[dict]:
    """Inputs named part-<n>-<line_id> → [{line_id: qty}] per parcel n."""
    parts: dict[int, dict] = {}
    for key, value in form.items():
        if key.startswith("part-") and str(value).strip():
            _p, n, line = key.split("-", 2)
            parts.setdefault(int(n), {})[line] = str(value).strip()
    return [v for _k, v in sorted(parts.items())]


# ------------------------------------------------------------------ fulfilments
@router.get("/fulfilments")
def fulfilments_page(request: Request, offset: int = 0, p: Page = READ):
    qp = request.query_params
    inter = {"1": True, "0": False}.get(qp.get("intercepted") or "")
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = ful.list_fulfilments(uow, q=qp.get("q"), status=qp.get("status") or None,
                                           warehouse_id=_int(qp.get("warehouse_id")), intercepted=inter,
                                           limit=PAGE_SIZE, offset=max(0, offset))
        items = [ful.fulfilment_dict(uow, f, buyer_data=_buyer(p), lines=False) for f in rows]
    return render(p, "oms/fulfilments.html", title=_("发货单"), rows=items, total=total, offset=max(0, offset),
                  limit=PAGE_SIZE, filters=qp, keep=_keep(request), statuses=_labels(ful.FULFILMENT_LABELS))


@router.get("/fulfilments/{fulfilment_id}")
def fulfilment_page(fulfilment_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        f = ful.fulfilment_dict(uow, ful.get_fulfilment(uow, fulfilment_id), buyer_data=_buyer(p))
        f["timeline"] = [oo.event_dict(e) for e in oo.timeline(uow, fulfilment_id=fulfilment_id)
                         if e.order_id is None]
        plan = ful.pick_plan(uow, fulfilment_id) if f["status"] in ("allocated", "picking") else []
        from sqlalchemy import select

        from opensupply.masterdata.models import Location

        ids = {r.location_id for need in plan for r in need.reservations}
        codes = dict(uow.session.execute(select(Location.id, Location.full_code).where(Location.id.in_(ids))).all()) \
            if ids else {}
        skus = {ln["id"]: ln["sku"] for ln in f["lines"]}
        picks = [{"sku": skus.get(need.fulfilment_line_id), "location": codes.get(r.location_id, r.location_id),
                  "quantity": r.quantity} for need in plan for r in need.reservations]
    return render(p, "oms/fulfilment_detail.html", title=f["number"], f=f, plan=picks,
                  can_write=p.actor.can("oms.write"))


@router.post("/fulfilments/{fulfilment_id}/{action}")
async def fulfilment_action(fulfilment_id: int, action: str, request: Request, p: Page = WRITE):
    form = await request.form()
    url = f"/oms/fulfilments/{fulfilment_id}"

    def run() -> str:
        with UnitOfWork(p.actor) as uow:
            if action == "ship":
                ful.ship(uow, fulfilment_id, tracking_number=form.get("tracking_number") or "",
                         carrier_id=_int(form.get("carrier_id")))
                return _("已发货")
            if action == "deliver":
                ful.mark_delivered(uow, fulfilment_id)
                return _("已签收")
            if action == "reserve":
                n = ful.top_up_reservations(uow, [fulfilment_id])
                return _("已补充预留 {n} 行", n=n) if n else _("暂无可用库存")
            if action == "intercept":
                ful.intercept_fulfilment(uow, fulfilment_id, form.get("reason") or "")
                return _("已拦截")
            if action == "cancel":
                ful.cancel_fulfilment(uow, fulfilment_id, form.get("reason") or "")
                return _("发货单已取消")
            raise ValidationFailed(_("未知操作"))

    try:
        msg = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(url, exc.message, "error")
    return redirect(url, msg)


# ------------------------------------------------------------------ returns
@router.get("/returns")
def returns_page(request: Request, offset: int = 0, p: Page = READ):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = returns.list_returns(uow, q=qp.get("q"), status=qp.get("status") or None, limit=PAGE_SIZE,
                                           offset=max(0, offset))
        items = [returns.return_dict(uow, r, order=o, lines=False) for r, o in rows]
    return render(p, "oms/returns.html", title=_("售后退货"), rows=items, total=total, offset=max(0, offset),
                  limit=PAGE_SIZE, filters=qp, keep=_keep(request), statuses=_labels(returns.RETURN_LABELS))


@router.get("/returns/{return_id}")
def return_page(return_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        r = returns.return_dict(uow, returns.get_return(uow, return_id))
    return render(p, "oms/return_detail.html", title=r["number"], r=r, can_write=p.actor.can("oms.write"),
                  dispositions=_labels(returns.DISPOSITION_LABELS))


@router.post("/returns/{return_id}/{action}")
async def return_action(return_id: int, action: str, request: Request, p: Page = WRITE):
    form = await request.form()
    url = f"/oms/returns/{return_id}"

    def run() -> str:
        with UnitOfWork(p.actor) as uow:
            if action == "receive":
                per = {int(k.split("-", 1)[1]): v for k, v in form.items() if k.startswith("disp-")}
                returns.receive_return(uow, return_id, disposition=per or "restock")
                return _("已收货")
            if action == "refund":
                returns.refund_return(uow, return_id, amount=(form.get("amount") or "").strip() or None)
                return _("已退款")
            if action == "cancel":
                returns.cancel_return(uow, return_id, form.get("reason") or "")
                return _("退货单已取消")
            raise ValidationFailed(_("未知操作"))

    try:
        msg = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(url, exc.message, "error")
    return redirect(url, msg)


# ------------------------------------------------------------------ dashboard
@router.get("/dashboard")
def dashboard_page(p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        d = oo.dashboard(uow, 14)
    chart = {"tooltip": {"trigger": "axis"}, "legend": {"data": [c["label"] for c in d["per_channel"]]},
             "xAxis": {"type": "category", "data": [x[5:] for x in d["days"]]}, "yAxis": {"type": "value"},
             "series": [{"name": c["label"], "type": "bar", "stack": "orders", "data": c["counts"]}
                        for c in d["per_channel"]]}
    backlog = {"tooltip": {"trigger": "item"},
               "series": [{"type": "pie", "radius": ["40%", "70%"],
                           "data": [{"name": b["label"], "value": b["count"]} for b in d["backlog"] if b["count"]]}]}
    holds = {"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": [h["label"] for h in d["holds"]]},
             "yAxis": {"type": "value"}, "series": [{"type": "bar", "data": [h["count"] for h in d["holds"]]}]}

    return render(p, "oms/dashboard.html", title=_("订单看板"), d=d, chart_json=script_json(chart),
                  backlog_json=script_json(backlog), holds_json=script_json(holds))
