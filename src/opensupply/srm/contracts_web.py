"""Contract pages under /srm/: the list (/srm/contracts: search, state filter, pagination, XLSX/CSV export),
a new contract with price-break rows, one contract (activate, cancel), price warnings on purchase orders
(/srm/price-warnings) and the side-by-side price comparison of one product (/srm/price-comparison).
Thin: `srm.contracts` in one unit of work; errors come back on the page."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import contracts as svc
from .suppliers_api import download

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission("srm.read"))
WRITE = Depends(page_permission("srm.write"))
APPROVE = Depends(page_permission("srm.approve"))
PAGE_SIZE = 50
PRICE_ROWS = 5
HEADER_KEYS = ("partner", "title", "currency_code", "valid_from", "valid_to", "payment_terms_days", "payment_terms",
               "notes")


def _int(value) -> int | None:
    return int(value) if str(value or "").strip().isdigit() else None


def _rows(uow, qp, limit, offset):
    f = {k: (qp.get(k) or "").strip() for k in ("q", "state")}
    rows, total = svc.contract_rows(uow, q=f["q"] or None, state=f["state"] or None, limit=limit, offset=offset)
    return f, rows, total


@router.get("/srm/contracts")
def contracts_page(request: Request, p: Page = READ):
    offset = _int(request.query_params.get("offset")) or 0
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            f, rows, total = _rows(uow, request.query_params, PAGE_SIZE, offset)
        except DomainError as exc:
            f, rows, total, error = {"q": "", "state": ""}, [], 0, exc.message
        items = [dict(svc.contract_dict(uow, c), supplier=s.partner_name, supplier_id=s.id) for c, s in rows]
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "srm/contracts.html", status_code=422 if error else 200, title=_("采购合同与价格协议"),
                  items=items, total=total, offset=offset, limit=PAGE_SIZE, filters=f, keep=keep, error=error,
                  states=[(k, str(v)) for k, v in svc.CONTRACT_LABELS.items()], can_write=p.actor.can("srm.write"))


@router.get("/srm/contracts/export")
def contracts_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        _f, rows, _total = _rows(uow, request.query_params, 100000, 0)
        header = [_("合同号"), _("供应商"), _("合同名称"), _("币种"), _("生效日期"), _("截止日期"), _("账期(天)"),
                  _("状态"), _("商品"), _("起订量"), _("协议单价")]
        out = []
        for c, s in rows:
            d = svc.contract_dict(uow, c)
            for pb in d["prices"] or [{}]:
                out.append([d["number"], s.partner_name, d["title"], d["currency_code"], d["valid_from"], d["valid_to"],
                            d["payment_terms_days"], d["state_label"], pb.get("sku", ""), pb.get("min_quantity", ""),
                            pb.get("unit_price", "")])
    return download(header, out, "csv" if format == "csv" else "xlsx", "contracts")


def _form(p: Page, values: dict, prices: list[dict], error: DomainError | None = None):
    prices = prices + [{} for _i in range(max(0, PRICE_ROWS - len(prices)))]
    return render(p, "srm/contract_form.html", status_code=422 if error else 200, title=_("新建合同"), values=values,
                  prices=prices, error=error.message if error else None, error_field=error.field if error else None)


@router.get("/srm/contracts/new")
def new_contract_page(request: Request, p: Page = WRITE):
    return _form(p, {"partner": request.query_params.get("partner", ""), "currency_code": "CNY",
                     "payment_terms_days": "30"}, [])


@router.post("/srm/contracts/new")
async def create_contract(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in HEADER_KEYS}
    prices, i = [], 0
    while f"product_{i}" in form:
        row = {k: str(form.get(f"{k}_{i}") or "").strip() for k in ("product", "min_quantity", "unit_price")}
        if any(row.values()):
            prices.append(row)
        i += 1
    try:
        with UnitOfWork(p.actor) as uow:
            c = svc.create_contract(uow, dict(values, prices=prices))
            cid, number = c.id, c.number
    except DomainError as exc:
        return _form(p, values, prices, exc)
    return redirect(f"/srm/contracts/{cid}", _("合同 {n} 已保存为草稿", n=number))


@router.get("/srm/contracts/{contract_id}")
def contract_page(contract_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        c = uow.get(svc.Contract, contract_id)
        d = svc.contract_dict(uow, c)
        sup = uow.get(svc.Supplier, c.supplier_id)
    return render(p, "srm/contract_detail.html", title=d["number"], c=d, supplier=sup,
                  can_approve=p.actor.can("srm.approve"))


@router.post("/srm/contracts/{contract_id}/{action}")
def contract_action(contract_id: int, action: str, p: Page = APPROVE):
    try:
        with UnitOfWork(p.actor) as uow:
            if action == "activate":
                svc.activate_contract(uow, contract_id)
                message = _("合同已生效")
            elif action == "cancel":
                svc.cancel_contract(uow, contract_id)
                message = _("合同已取消")
            else:
                return redirect(f"/srm/contracts/{contract_id}", _("页面或记录不存在"), "error")
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/srm/contracts/{contract_id}", exc.message, "error")
    return redirect(f"/srm/contracts/{contract_id}", message)


@router.get("/srm/price-warnings")
def warnings_page(p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows = svc.price_warnings(uow)
    return render(p, "srm/price_warnings.html", title=_("超协议价提醒"), rows=rows)


@router.get("/srm/price-comparison")
def comparison_page(request: Request, p: Page = READ):
    product = (request.query_params.get("product") or "").strip()
    data, error = None, None
    if product:
        with UnitOfWork(p.actor, readonly=True) as uow:
            try:
                data = svc.price_comparison(uow, product)
            except DomainError as exc:
                error = exc.message
    return render(p, "srm/price_comparison.html", status_code=422 if error else 200, title=_("多供应商比价"),
                  product=product, data=data, error=error)
