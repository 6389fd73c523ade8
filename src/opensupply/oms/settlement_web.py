"""Settlement reconciliation pages under /oms/settlements: the list with filters, pagination,
CSV/XLSX export and the upload form; the detail with totals, the exceptions grouped by kind,
the matched lines (filter by kind / match), reconcile and post buttons, and an XLSX export of
lines and exceptions. Same services as the API; needs `oms.settle`."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import settlement as svc
from .models import OmsShop
from .settlement_api import read_bill_upload

router = APIRouter(prefix="/oms", include_in_schema=False)
SETTLE = Depends(page_permission("oms.settle"))
PAGE_SIZE = 50
FORMAT_CHOICES = (("", _l("自动识别")), ("alipay", _l("支付宝账务明细")), ("jd", _l("京东结算单")),
                  ("pdd", _l("拼多多货款账单")), ("generic", _l("通用 CSV")))


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _keep(request: Request) -> str:
    return urllib.parse.urlencode({k: v for k, v in request.query_params.items() if k not in ("offset", "format")
                                   and v})


def _xlsx(name: str, sheets_header: list[str], rows: list[list], fmt: str = "xlsx") -> Response:
    if fmt == "csv":
        return Response(write_csv(sheets_header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(write_xlsx(sheets_header, rows, name),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def _query(request: Request, *, limit: int, offset: int, uow: UnitOfWork):
    qp = request.query_params
    return svc.list_settlements(uow, q=qp.get("q") or None, shop_id=_int(qp.get("shop")),
                                state=qp.get("state") or None, date_from=_date(qp.get("date_from")),
                                date_to=_date(qp.get("date_to")), limit=limit, offset=max(0, offset))


def _list(p: Page, request: Request, *, error: str | None = None, errors: list | None = None, status: int = 200,
          form: dict | None = None):
    offset = _int(request.query_params.get("offset")) or 0
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = _query(request, limit=PAGE_SIZE, offset=offset, uow=uow)
        shops = svc.shops(uow)
        by_id = {s.id: s for s in shops}
        flagged = svc.flagged_lines(uow, [st.id for st in rows])
        items = [svc.settlement_out(st, shop=by_id.get(st.shop_id)) | {"flagged_lines": flagged.get(st.id, 0)}
                 for st in rows]
    return render(p, "oms/settlement_list.html", status_code=status, title=_("平台对账"), items=items, total=total,
                  offset=offset, limit=PAGE_SIZE, filters=request.query_params, keep=_keep(request), shops=shops,
                  states=[(k, str(v)) for k, v in svc.STATE_LABELS.items()],
                  formats=[(k, str(v)) for k, v in FORMAT_CHOICES], error=error, errors=errors or [],
                  form=form or {})


@router.get("/settlements")
def settlements_page(request: Request, p: Page = SETTLE):
    return _list(p, request)


@router.get("/settlements/export")
def settlements_export(request: Request, p: Page = SETTLE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _total = _query(request, limit=100000, offset=0, uow=uow)
        shops = {s.id: s.name for s in svc.shops(uow)}
        data = [[st.number, shops.get(st.shop_id, ""), st.file_name or "", st.period_from, st.period_to,
                 str(svc.STATE_LABELS.get(st.state, st.state)), svc.m(st.total_income), svc.m(st.total_fees),
                 svc.m(st.total_refunds)] for st in rows]
    header = [_("结算单号"), _("店铺"), _("文件"), _("期间从"), _("期间到"), _("状态"), _("收入"), _("费用"), _("退款")]
    return _xlsx("settlements", header, data, request.query_params.get("format", "xlsx"))


@router.post("/settlements")
async def settlements_upload(request: Request, p: Page = SETTLE):
    form = await request.form()
    values = {"shop": (form.get("shop") or "").strip(), "fmt": (form.get("fmt") or "").strip()}
    upload = form.get("file")

    def create() -> int:
        if not isinstance(upload, UploadFile) and not hasattr(upload, "filename"):
            raise ValidationFailed(_("请选择文件"), field="file")
        if not values["shop"].isdigit():
            raise ValidationFailed(_("请选择店铺"), field="shop")
        name, data = read_bill_upload(upload)
        with UnitOfWork(p.actor) as uow:
            return svc.import_settlement(uow, int(values["shop"]), data, name, fmt=values["fmt"] or None).id

    try:
        sid = await run_in_threadpool(create)
    except svc.SettlementRejected as exc:
        return _list(p, request, error=exc.message, errors=exc.errors, status=422, form=values)
    except DomainError as exc:
        return _list(p, request, error=exc.message, status=422, form=values)
    return redirect(f"/oms/settlements/{sid}", _("对账单已导入并完成对账"))


def _detail_data(uow: UnitOfWork, settlement_id: int) -> tuple:
    st = uow.get(svc.OmsSettlement, settlement_id)
    shop = uow.session.get(OmsShop, st.shop_id)
    return st, shop, svc.reconciliation(uow, settlement_id)


@router.get("/settlements/{settlement_id}")
def settlement_detail(settlement_id: int, request: Request, p: Page = SETTLE):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        st, shop, result = _detail_data(uow, settlement_id)
        data = svc.settlement_out(st, shop=shop, lines=True)
        for d, ln in zip(data["lines"], st.lines, strict=True):
            d["at"] = ln.occurred_at
    lines = data["lines"]
    if qp.get("kind"):
        lines = [ln for ln in lines if ln["kind"] == qp["kind"]]
    if qp.get("match"):
        lines = [ln for ln in lines if ln["match"] == qp["match"]]
    if qp.get("q"):
        q = qp["q"].strip()
        lines = [ln for ln in lines if q in (ln["channel_order_id"] or "") or q in (ln["description"] or "")]
    groups = [(k, str(label), [e for e in result["exceptions"] if e["kind"] == k])
              for k, label in svc.EXCEPTION_KINDS.items()]
    return render(p, "oms/settlement_detail.html", title=st.number, s=data, result=result, groups=groups,
                  expectations=svc.expectations(shop) if shop else [],
                  lines=lines, filters=qp, keep=_keep(request),
                  kinds=[(k, str(v)) for k, v in svc.KIND_LABELS.items()],
                  matches=[(k, str(v)) for k, v in svc.MATCH_LABELS.items()],
                  kind_labels={k: str(v) for k, v in svc.KIND_LABELS.items()},
                  match_labels={k: str(v) for k, v in svc.MATCH_LABELS.items()},
                  state_label=str(svc.STATE_LABELS.get(st.state, st.state)))


@router.get("/settlements/{settlement_id}/export")
def settlement_export(settlement_id: int, request: Request, p: Page = SETTLE):
    """The lines with their match, then the exceptions, in one sheet (or CSV)."""
    with UnitOfWork(p.actor, readonly=True) as uow:
        st, shop, result = _detail_data(uow, settlement_id)
        data = svc.settlement_out(st, shop=shop, lines=True)
    kinds = {k: str(v) for k, v in svc.KIND_LABELS.items()}
    matches = {k: str(v) for k, v in svc.MATCH_LABELS.items()}
    header = [_("行号"), _("平台订单号"), _("类型"), _("项目"), _("金额"), _("时间"), _("对账结果"), _("应为"),
              _("说明")]
    rows = [[ln["line_no"], ln["channel_order_id"] or "", kinds.get(ln["kind"], ln["kind"]), ln["description"] or "",
             ln["amount"], ln["occurred_at"] or "", matches.get(ln["match"] or "", ln["match"] or ""),
             ln["expected_amount"] or "", ln["note"] or ""] for ln in data["lines"]]
    rows.append([])
    rows.append([_("异常"), _("平台订单号"), _("订单"), _("项目"), _("金额"), _("应为"), _("差额"), "", _("说明")])
    rows += [[e["label"], e["channel_order_id"] or "", e["order_number"] or "", e["item"] or "", e["amount"] or "",
              e["expected"] or "", e["difference"] or "", "", e["message"]] for e in result["exceptions"]]
    return _xlsx(st.number, header, rows, request.query_params.get("format", "xlsx"))


@router.post("/settlements/{settlement_id}/reconcile")
async def settlement_reconcile(settlement_id: int, p: Page = SETTLE):
    def run() -> dict:
        with UnitOfWork(p.actor) as uow:
            return svc.reconcile(uow, settlement_id)

    try:
        result = await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/oms/settlements/{settlement_id}", exc.message, "error")
    return redirect(f"/oms/settlements/{settlement_id}",
                    _("已重新对账：{n} 项异常", n=len(result["exceptions"])))


@router.post("/settlements/{settlement_id}/post")
async def settlement_post(settlement_id: int, p: Page = SETTLE):
    def run() -> None:
        with UnitOfWork(p.actor) as uow:
            svc.post_settlement(uow, settlement_id)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/oms/settlements/{settlement_id}", exc.message, "error")
    return redirect(f"/oms/settlements/{settlement_id}", _("已过账：收款与平台费用已记入总账"))
