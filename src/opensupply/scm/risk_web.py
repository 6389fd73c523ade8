"""The inventory risk dashboard page /scm/risk (mounted by `scm.web`): filters (warehouse, ABC class, risk kind,
search, thresholds), summary cards, ECharts (value at risk by kind, days-of-cover distribution), the SKU table
with pagination, XLSX/CSV export. Thin: `scm.risk`."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import render, script_json

from . import risk
from .risk_api import tabular

router = APIRouter(include_in_schema=False)  # included by scm.web under /scm
READ = Depends(page_permission("scm.read"))
LIMIT = 50
FILTERS = ("q", "warehouse_id", "abc", "kind")
THRESHOLDS = ("overstock_days", "slow_days", "dead_days", "lead_time_days", "service_level")


def _query(request: Request) -> dict:
    qp = request.query_params
    return {k: (qp.get(k) or "").strip() for k in FILTERS + THRESHOLDS}


def _args(f: dict) -> dict:
    wh = f["warehouse_id"]
    return {"q": f["q"], "warehouse_id": int(wh) if wh.isdigit() else None, "abc": f["abc"] or None,
            **{k: f[k] or None for k in THRESHOLDS}}


@router.get("/risk")
def risk_page(request: Request, p: Page = READ):
    f = _query(request)
    off = request.query_params.get("offset") or ""
    offset = int(off) if off.isdigit() else 0
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        warehouses = risk.warehouses(uow)
        try:
            data = risk.inventory_risk(uow, kind=f["kind"] or None, limit=LIMIT, offset=offset, **_args(f))
        except DomainError as exc:
            error = exc.message
            data = risk.inventory_risk(uow, limit=LIMIT)
    s = data["summary"]
    chart = {"kinds": [risk.kind_label(k) for k in risk.KINDS if k != "ok"],
             "values": [float(s["by_kind"][k]["value_at_risk"]) for k in risk.KINDS if k != "ok"],
             "cover_labels": [label for label, _lo, _hi in risk.COVER_BUCKETS] + [_("无需求")],
             "cover_counts": list(s["cover"].values())}
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "scm/risk.html", status_code=422 if error else 200, title=_("库存风险"), data=data, f=f,
                  error=error, offset=offset, limit=LIMIT, keep=keep, warehouses=warehouses, kinds=risk.KINDS,
                  chart_json=script_json(chart))


@router.get("/risk/export")
def risk_export(request: Request, p: Page = READ):
    f = _query(request)
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = risk.export_rows(uow, kind=f["kind"] or None, **_args(f))
    return tabular(header, rows, request.query_params.get("format") or "xlsx")
