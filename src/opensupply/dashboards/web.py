"""经营看板 pages: /dashboards lands on the dashboard fitting the user's role; /dashboards/{name} shows KPI cards
and ECharts charts over a chosen period, with tabs to the other dashboards the user may open."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request

from opensupply.core.http import Page, page
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import service

router = APIRouter(prefix="/dashboards", include_in_schema=False)
PAGE = Depends(page)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _js(options: dict) -> str:
    return script_json(options)


def _n(value) -> float:
    return float(value or 0)


@router.get("")
def landing_page(p: Page = PAGE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        name = service.landing(uow)
    if name:
        query = p.request.url.query
        return redirect(f"/dashboards/{name}" + (f"?{query}" if query else ""))
    return render(p, "dashboards/dashboard.html", title=_("经营看板"), tabs=[], d=None, charts=[], filters={},
                  kinds=service.PERIOD_KINDS)


@router.get("/{name}")
def dashboard_page(name: str, request: Request, p: Page = PAGE):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        service.check_access(uow, name)
        period = service.period(uow, qp.get("period") or None, _date(qp.get("date_from")), _date(qp.get("date_to")))
        d = service.dashboard(uow, name, period)
        tabs = service.available(uow)
    charts = [(key, spec["title"], _js(options)) for key, spec in d["charts"].items()
              if (options := chart_options(key, spec)) is not None]
    return render(p, "dashboards/dashboard.html", title=d["label"], tabs=tabs, d=d, charts=charts,
                  kpis={k["key"]: k for k in d["kpis"]}, kinds=service.PERIOD_KINDS,
                  filters={"period": period.kind, "date_from": period.date_from.isoformat(),
                           "date_to": period.date_to.isoformat()})


def chart_options(key: str, spec: dict) -> dict | None:
    """ECharts options for one chart of a dashboard (None: shown as a table only)."""
    now, before = _("本期"), _("上期")
    if key == "sales_by_channel":
        rows = spec["channels"]
        return {"tooltip": {"trigger": "axis"}, "legend": {"data": [now, before]},
                "xAxis": {"type": "category", "data": [r["label"] for r in rows]}, "yAxis": {"type": "value"},
                "series": [{"name": now, "type": "bar", "data": [_n(r["amount"]) for r in rows]},
                           {"name": before, "type": "bar", "data": [_n(r["previous"]) for r in rows]}]}
    if key == "monthly_profit":
        rows = spec["months"]
        names = (_("营业收入"), _("营业成本"), _("净利润"))
        return {"tooltip": {"trigger": "axis"}, "legend": {"data": list(names)},
                "xAxis": {"type": "category", "data": [r["month"][5:] for r in rows]}, "yAxis": {"type": "value"},
                "series": [{"name": names[0], "type": "bar", "data": [_n(r["revenue"]) for r in rows]},
                           {"name": names[1], "type": "bar", "data": [_n(r["cost"]) for r in rows]},
                           {"name": names[2], "type": "line", "data": [_n(r["net_profit"]) for r in rows]}]}
    if key in ("waves_by_state", "work_orders_by_state"):
        return {"tooltip": {"trigger": "item"}, "legend": {"bottom": 0},
                "series": [{"type": "pie", "radius": ["40%", "70%"],
                            "data": [{"name": s["label"], "value": s["count"]} for s in spec["states"]]}]}
    if key == "pickers":
        rows = spec["pickers"]
        return {"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": [r["picker"] for r in rows]},
                "yAxis": {"type": "value"},
                "series": [{"name": _("每小时拣货行"), "type": "bar", "data": [_n(r["lines_per_hour"]) for r in rows]}]}
    if key == "purchases_by_supplier":
        rows = spec["suppliers"]
        return {"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": [r["name"] for r in rows]},
                "yAxis": {"type": "value"},
                "series": [{"name": _("入库金额"), "type": "bar", "data": [_n(r["amount"]) for r in rows]}]}
    if key == "supplier_ranking":
        rows = list(reversed(spec["suppliers"]))  # best on top of a horizontal bar chart
        return {"tooltip": {"trigger": "axis"}, "grid": {"left": 120},
                "xAxis": {"type": "value", "max": 100},
                "yAxis": {"type": "category", "data": [r["name"] for r in rows]},
                "series": [{"name": _("综合得分"), "type": "bar", "data": [_n(r["score"]) for r in rows]}]}
    if key == "oee_by_machine":
        rows = spec["machines"]
        names = {"availability": _("可用率"), "performance": _("性能率"), "quality": _("良品率"), "oee": "OEE"}
        return {"tooltip": {"trigger": "axis"}, "legend": {"data": list(names.values())},
                "xAxis": {"type": "category", "data": [r["code"] for r in rows]}, "yAxis": {"type": "value"},
                "series": [{"name": label, "type": "bar", "data": [_n(r[k]) for r in rows]}
                           for k, label in names.items()]}
    if key == "pipeline":
        rows = spec["stages"]
        return {"tooltip": {"trigger": "item"},
                "series": [{"type": "funnel", "sort": "none", "left": "10%", "width": "80%",
                            "data": [{"name": f"{r['label']} ({r['count']})", "value": _n(r["value"])}
                                     for r in rows]}]}
    if key == "ar_aging":
        rows = spec["buckets"]
        return {"tooltip": {"trigger": "axis"}, "xAxis": {"type": "category", "data": [r["label"] for r in rows]},
                "yAxis": {"type": "value"},
                "series": [{"name": _("应收账款"), "type": "bar", "data": [_n(r["amount"]) for r in rows]}]}
    return None
