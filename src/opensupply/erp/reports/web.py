"""进销存 report pages under /erp/reports/: table, ECharts chart, XLSX/CSV export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _, format_decimal
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import render, script_json

from . import columns, performance, service

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission("erp.reports"))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(value, kind: str) -> str:
    if value is None or value == "":
        return ""
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "pct":
        return f"{Decimal(value):.1f}%"
    if kind == "qty":
        return format_decimal(Decimal(value).normalize() if Decimal(value) == Decimal(value).to_integral()
                              else Decimal(value))
    return str(value)


def _chart_number(value) -> float:
    return float(value or 0)


def _export(fmt: str, cols, report: dict, title: str, filename: str) -> Response:
    header = [str(label) for _k, label, _kind in cols]
    rows = [[row.get(k) for k, _l, _kind in cols] for row in report["lines"]]
    totals = report.get("totals") or {}
    rows.append([_("合计") if i == 0 else totals.get(k) for i, (k, _l, _kind) in enumerate(cols)])
    if fmt == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    return Response(write_xlsx(header, rows, title), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'})


def _page(p: Page, *, slug: str, title: str, cols, report: dict, chart: dict, filters: dict, by_options=()):
    return render(p, "erp/reports/report.html", slug=slug, report_title=title, cols=cols, report=report,
                  chart_json=script_json(chart), filters=filters,
                  by_options=by_options, cell=cell, groups=service.GROUPS)


def _run(p: Page, fn):
    try:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return fn(uow), None
    except DomainError as exc:
        return None, render(p, "error.html", status_code=422, status=422, message=exc.message)


def _bar(names: list[str], series: list[tuple[str, list, str]]) -> dict:
    """ECharts options: one category axis, bar (or line) series; the page adds nothing but init."""
    return {"tooltip": {"trigger": "axis"}, "legend": {"data": [s[0] for s in series]},
            "grid": {"left": 60, "right": 40, "bottom": 80, "containLabel": True},
            "xAxis": {"type": "category", "data": names, "axisLabel": {"rotate": 30, "interval": 0}},
            "yAxis": [{"type": "value"}, {"type": "value", "axisLabel": {"formatter": "{value}%"}}],
            "series": [{"name": n, "type": t, "data": d, **({"yAxisIndex": 1} if t == "line" else {})}
                       for n, d, t in series]}


@router.get("/erp/reports")
def index(p: Page = READ):
    return render(p, "erp/reports/index.html")


@router.get("/erp/reports/stock-summary")
def stock_summary(date_from: dt.date | None = None, date_to: dt.date | None = None, q: str | None = None,
                  format: str | None = None, p: Page = READ):
    report, error = _run(p, lambda uow: service.stock_summary(uow, date_from, date_to, q=q))
    if error:
        return error
    title = _("收发存汇总表")
    if format in ("xlsx", "csv"):
        return _export(format, columns.STOCK, report, title, "stock-summary")
    top = sorted(report["lines"], key=lambda r: r["closing_value"], reverse=True)[:15]
    chart = _bar([r["product_name"] for r in top], [
        (_("收入金额"), [_chart_number(r["in_value"]) for r in top], "bar"),
        (_("发出金额"), [_chart_number(r["out_value"]) for r in top], "bar"),
        (_("结存金额"), [_chart_number(r["closing_value"]) for r in top], "bar")])
    return _page(p, slug="stock-summary", title=title, cols=columns.STOCK, report=report, chart=chart,
                 filters={"date_from": report["date_from"], "date_to": report["date_to"], "q": q or ""})


@router.get("/erp/reports/purchases")
def purchases(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "supplier",
              q: str | None = None, format: str | None = None, p: Page = READ):
    report, error = _run(p, lambda uow: service.purchases(uow, date_from, date_to, by=by, q=q))
    if error:
        return error
    title = _("采购报表")
    if format in ("xlsx", "csv"):
        return _export(format, columns.PURCHASES, report, title, f"purchases-by-{by}")
    lines = report["lines"][:20]
    chart = _bar([r["name"] for r in lines], [(_("入库金额"), [_chart_number(r["amount"]) for r in lines],
                                              "line" if by == "month" else "bar")])
    if by == "month":
        chart["series"][0].pop("yAxisIndex", None)
    return _page(p, slug="purchases", title=title, cols=columns.PURCHASES, report=report, chart=chart,
                 filters={"date_from": report["date_from"], "date_to": report["date_to"], "q": q or "", "by": by},
                 by_options=("supplier", "product", "month"))


@router.get("/erp/reports/sales")
def sales(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "customer",
          q: str | None = None, format: str | None = None, p: Page = READ):
    report, error = _run(p, lambda uow: service.sales(uow, date_from, date_to, by=by, q=q))
    if error:
        return error
    title = _("销售报表")
    if format in ("xlsx", "csv"):
        return _export(format, columns.SALES, report, title, f"sales-by-{by}")
    lines = report["lines"][:20]
    chart = _bar([r["name"] for r in lines], [(_("不含税金额"), [_chart_number(r["amount_untaxed"]) for r in lines],
                                              "bar")])
    return _page(p, slug="sales", title=title, cols=columns.SALES, report=report, chart=chart,
                 filters={"date_from": report["date_from"], "date_to": report["date_to"], "q": q or "", "by": by},
                 by_options=("customer", "product", "channel", "month"))


@router.get("/erp/reports/gross-margin")
def gross_margin(date_from: dt.date | None = None, date_to: dt.date | None = None, by: str = "product",
                 q: str | None = None, format: str | None = None, p: Page = READ):
    report, error = _run(p, lambda uow: service.gross_margin(uow, date_from, date_to, by=by, q=q))
    if error:
        return error
    title = _("毛利分析")
    if format in ("xlsx", "csv"):
        return _export(format, columns.MARGIN, report, title, f"gross-margin-by-{by}")
    lines = report["lines"][:20]
    chart = _bar([r["name"] for r in lines], [
        (_("收入"), [_chart_number(r["revenue"]) for r in lines], "bar"),
        (_("成本"), [_chart_number(r["cost"]) for r in lines], "bar"),
        (_("毛利率(%)"), [_chart_number(r["margin_pct"]) for r in lines], "line")])
    return _page(p, slug="gross-margin", title=title, cols=columns.MARGIN, report=report, chart=chart,
                 filters={"date_from": report["date_from"], "date_to": report["date_to"], "q": q or "", "by": by},
                 by_options=("product", "customer", "channel"))


@router.get("/erp/reports/salespeople")
def salespeople(date_from: dt.date | None = None, date_to: dt.date | None = None, format: str | None = None,
                p: Page = READ):
    report, error = _run(p, lambda uow: performance.salespeople(uow, date_from, date_to))
    if error:
        return error
    title = _("销售员业绩")
    if format in ("xlsx", "csv"):
        return _export(format, columns.SALESPEOPLE, report, title, "salespeople")
    lines = report["lines"][:20]
    chart = _bar([str(r["name"]) for r in lines], [
        (_("收入"), [_chart_number(r["revenue"]) for r in lines], "bar"),
        (_("已回款"), [_chart_number(r["collected"]) for r in lines], "bar"),
        (_("毛利率(%)"), [_chart_number(r["margin_pct"]) for r in lines], "line")])
    return _page(p, slug="salespeople", title=title, cols=columns.SALESPEOPLE, report=report, chart=chart,
                 filters={"date_from": report["date_from"], "date_to": report["date_to"], "q": ""})


@router.get("/erp/reports/buyers")
def buyers(date_from: dt.date | None = None, date_to: dt.date | None = None, format: str | None = None,
           p: Page = READ):
    report, error = _run(p, lambda uow: performance.buyers(uow, date_from, date_to))
    if error:
        return error
    title = _("采购员绩效")
    if format in ("xlsx", "csv"):
        return _export(format, columns.BUYERS, report, title, "buyers")
    lines = report["lines"][:20]
    chart = _bar([str(r["name"]) for r in lines], [
        (_("入库金额"), [_chart_number(r["amount"]) for r in lines], "bar"),
        (_("准时率(%)"), [_chart_number(r["on_time_pct"]) for r in lines], "line")])
    return _page(p, slug="buyers", title=title, cols=columns.BUYERS, report=report, chart=chart,
                 filters={"date_from": report["date_from"], "date_to": report["date_to"], "q": ""})
