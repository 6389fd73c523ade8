"""The distribution planning page /scm/distribution (mounted by `scm.web`): parameters (lookback, cover days,
minimum transfer quantity, warehouse), summary cards, the transfer proposals with search, pagination, XLSX/CSV
export and 执行调拨 per row, and where demand is (share per warehouse and region, ECharts). Thin:
`scm.distribution`."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import distribution
from .distribution_api import tabular

router = APIRouter(include_in_schema=False)  # included by scm.web under /scm
READ = Depends(page_permission("scm.read"))
PLAN = Depends(page_permission("scm.plan"))
LIMIT = 50
FIELDS = ("q", "warehouse_id", "lookback_days", "cover_days", "min_qty")
PARAMS = ("lookback_days", "cover_days", "min_qty")


def _query(source) -> dict:
    return {k: (source.get(k) or "").strip() for k in FIELDS}


def _args(f: dict) -> dict:
    wh = f["warehouse_id"]
    return {"q": f["q"], "warehouse_id": int(wh) if wh.isdigit() else None, **{k: f[k] or None for k in PARAMS}}


@router.get("/distribution")
def distribution_page(request: Request, p: Page = READ):
    f = _query(request.query_params)
    off = request.query_params.get("offset") or ""
    offset = int(off) if off.isdigit() else 0
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            data = distribution.distribution(uow, limit=LIMIT, offset=offset, **_args(f))
        except DomainError as exc:
            error = exc.message
            data = distribution.distribution(uow, limit=LIMIT)
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "scm/distribution.html", status_code=422 if error else 200, title=_("多地分仓"), data=data,
                  f=f, error=error, offset=offset, limit=LIMIT, keep=keep, can_plan=p.actor.can("scm.plan"),
                  chart_json=script_json(distribution.chart(data)))


@router.get("/distribution/export")
def distribution_export(request: Request, p: Page = READ):
    f = _query(request.query_params)
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = distribution.export_rows(uow, **_args(f))
    return tabular(header, rows, request.query_params.get("format") or "xlsx")


@router.post("/distribution/apply")
async def distribution_apply(request: Request, p: Page = PLAN):
    form = await request.form()
    f = _query(form)
    back = "/scm/distribution" + (f"?{q}" if (q := urllib.parse.urlencode({k: v for k, v in f.items() if v})) else "")
    try:
        with UnitOfWork(p.actor) as uow:
            out = distribution.apply_transfer(
                uow, product_id=form.get("product_id") or 0, from_warehouse_id=form.get("from_warehouse_id") or 0,
                to_warehouse_id=form.get("to_warehouse_id") or 0, quantity=form.get("quantity") or "0",
                expected_available=form.get("expected_available") or None,
                lookback_days=f["lookback_days"] or None, cover_days=f["cover_days"] or None)
    except (DomainError, ValueError) as exc:
        return redirect(back, getattr(exc, "message", None) or _("参数无效"), "error")
    return redirect(back, _("已调拨 {sku} × {qty}（{ref}）", sku=out["sku"], qty=out["quantity"], ref=out["reference"]))
