"""Pages of the rough-cut capacity check: /erp/planning/capacity (work centers × weeks, load / available minutes
and utilisation, overloaded cells highlighted, ECharts totals, XLSX/CSV export) and
/erp/planning/capacity/orders (the orders behind one cell). Thin: `capacity`."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from decimal import Decimal

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import render, script_json

from . import capacity
from .capacity_api import tabular_response

router = APIRouter(prefix="/erp", include_in_schema=False)
READ = Depends(page_permission("erp.planning"))


def _params(request: Request) -> dict:
    qp = request.query_params
    try:
        start = dt.date.fromisoformat(qp["start"][:10]) if qp.get("start") else None
    except ValueError:
        start = None
    weeks = qp.get("weeks") or str(capacity.DEFAULT_WEEKS)
    wc = qp.get("work_center_id") or ""
    return {"start": start, "weeks": weeks, "work_center_id": int(wc) if wc.isdigit() else None}


def _keep(params: dict) -> str:
    return urllib.parse.urlencode({k: (v.isoformat() if isinstance(v, dt.date) else v)
                                   for k, v in params.items() if v not in (None, "")})


@router.get("/planning/capacity")
def capacity_page(request: Request, p: Page = READ):
    params = _params(request)
    error, data = None, None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            data = capacity.rough_cut_capacity(uow, **params)
        except DomainError as exc:
            error = exc.message
            data = capacity.rough_cut_capacity(uow, start=params["start"])
            params["weeks"] = capacity.DEFAULT_WEEKS
        all_wcs = capacity.work_centers(uow)
    chart = {"periods": [d.isoformat() for d in data["periods"]],
             "load": [round(sum(float(w["cells"][k]["load_minutes"]) for w in data["work_centers"]) / 60, 2)
                      for k in range(len(data["periods"]))],
             "available": [round(sum(float(w["cells"][k]["available_minutes"]) for w in data["work_centers"]) / 60, 2)
                           for k in range(len(data["periods"]))]}
    return render(p, "erp/planning/capacity.html", status_code=422 if error else 200, title=_("产能粗算"),
                  data=data, error=error, params=params, keep=_keep(params), all_wcs=all_wcs,
                  chart_json=script_json(chart))


@router.get("/planning/capacity/orders")
def capacity_orders_page(request: Request, p: Page = READ):
    params = _params(request)
    qp = request.query_params
    try:
        period = dt.date.fromisoformat((qp.get("period") or "")[:10])
        wc_id = int(qp.get("cell_work_center") or "")
    except ValueError:
        return render(p, "error.html", status_code=404, status=404, message=_("没有找到"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows = capacity.capacity_orders(uow, wc_id, period, weeks=params["weeks"], start=params["start"])
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
        wc = next((w for w in capacity.work_centers(uow) if w["id"] == wc_id), None)
    if wc is None:
        return render(p, "error.html", status_code=404, status=404, message=_("工作中心不存在"))
    total = sum((r["minutes"] for r in rows), Decimal(0))
    return render(p, "erp/planning/capacity_orders.html", title=_("产能负荷明细"), rows=rows, wc=wc,
                  period=period, total=total, keep=_keep(params))


@router.get("/planning/capacity/export")
def capacity_export(request: Request, p: Page = READ):
    params = _params(request)
    fmt = request.query_params.get("format") or "xlsx"
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = capacity.export_rows(uow, weeks=params["weeks"], start=params["start"])
    return tabular_response(header, rows, fmt, "capacity", _("产能粗算"))
