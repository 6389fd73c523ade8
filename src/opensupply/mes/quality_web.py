"""Quality pages under /mes/: inspections (/mes/quality-checks: list with search, filters, pagination and
XLSX/CSV export; one check with its item results and the disposition form; the inspection form of a work
order or operation showing the checklist items and their limits), the first-pass-yield report
(/mes/quality/yield) and the checklists (/mes/checklists: the declarative resource's pages, with a form
that edits items as rows). Read with mes.read, record and dispose with mes.quality. Thin: `mes.quality` in
one unit of work; errors come back on the page."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.resource_api import filters_from
from opensupply.core.tabular import table_response
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json
from opensupply.web.resource_pages import resource_pages

from . import quality
from . import work_orders as wos
from .models import WorkOrder
from .quality_api import checklist_export

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission(quality.READ_PERMISSION))
QUALITY = Depends(page_permission(quality.QUALITY_PERMISSION))
PAGE_SIZE = 50
BLANK_ITEMS = 3
res = quality.checklists


def _int(value) -> int | None:
    return int(value) if str(value or "").strip().isdigit() else None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _filters(qp) -> dict:
    return {k: (qp.get(k) or "").strip() for k in ("q", "result", "stage", "disposition", "date_from", "date_to",
                                                    "open")}


def _service_filters(f: dict) -> dict:
    return dict(q=f["q"] or None, result=f["result"] or None, stage=f["stage"] or None,
                disposition=f["disposition"] or None, date_from=_date(f["date_from"]), date_to=_date(f["date_to"]),
                open_only=f["open"] == "1")


def _choices() -> dict:
    return {"results": [(k, _(v)) for k, v in quality.RESULT_LABELS.items()],
            "stages": [(k, _(v)) for k, v in quality.STAGE_LABELS.items()],
            "dispositions": [(k, _(v)) for k, v in quality.DISPOSITION_LABELS.items()]}


# ------------------------------------------------------------------ inspections
@router.get("/mes/quality-checks")
def checks_page(request: Request, p: Page = READ):
    qp = request.query_params
    offset = _int(qp.get("offset")) or 0
    filters = _filters(qp)
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = quality.list_checks(uow, limit=PAGE_SIZE, offset=offset, **_service_filters(filters))
        except DomainError as exc:
            rows, total, error = [], 0, exc.message
        items = quality.checks_to_dicts(uow, rows)
    keep = urllib.parse.urlencode({k: v for k, v in filters.items() if v})
    return render(p, "mes/quality_checks.html", status_code=422 if error else 200, title=_("质量检验"), items=items,
                  total=total, offset=offset, limit=PAGE_SIZE, filters=filters, keep=keep, error=error,
                  can_quality=p.actor.can(quality.QUALITY_PERMISSION), **_choices())


@router.get("/mes/quality-checks/export")
def checks_export(request: Request, format: str = "xlsx", p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = quality.export_rows(uow, **_service_filters(_filters(request.query_params)))
    return _download(header, rows, "csv" if format == "csv" else "xlsx", "quality-checks")


def _download(header, rows, fmt: str, name: str) -> Response:
    return table_response(header, rows, "csv" if fmt == "csv" else "xlsx", name)

def _work_order_ref(uow: UnitOfWork, qp) -> int | None:
    if _int(qp.get("work_order_id")):
        return _int(qp.get("work_order_id"))
    number = (qp.get("work_order") or "").strip()
    if number:
        return wos.by_number(uow, number).id
    return None


def _recent_orders(uow: UnitOfWork) -> list[tuple[str, str]]:
    rows = uow.session.execute(select(WorkOrder.number, WorkOrder.state).where(
        WorkOrder.company_id == uow.company_id, WorkOrder.state.in_(("released", "in_progress", "done")))
        .order_by(WorkOrder.id.desc()).limit(200))
    return [(n, wos.state_label(s)) for n, s in rows]


def _form_page(p: Page, uow: UnitOfWork, wo_id: int | None, op_id: int | None, values: dict,
               error: DomainError | None = None, status: int = 200):
    form, choose_error = None, None
    if wo_id:
        try:
            form = quality.inspection_form(uow, wo_id, op_id)
        except DomainError as exc:
            choose_error = exc.message
    return render(p, "mes/quality_check_form.html", status_code=422 if error or choose_error else status,
                  title=_("录入质检"), form=form, values=values, error=error.message if error else choose_error,
                  error_field=error.field if error else None, recent=_recent_orders(uow))


@router.get("/mes/quality-checks/new")
def new_check_page(request: Request, p: Page = QUALITY):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            wo_id = _work_order_ref(uow, qp)
        except DomainError as exc:
            return render(p, "mes/quality_check_form.html", status_code=404, title=_("录入质检"), form=None,
                          values={"work_order": qp.get("work_order") or ""}, error=exc.message, error_field=None,
                          recent=_recent_orders(uow))
        values = {"work_order": qp.get("work_order") or ""}
        return _form_page(p, uow, wo_id, _int(qp.get("operation_id")), values)


def _form_results(form) -> tuple[list[dict], dict]:
    """`name_0`/`value_0`, … → results; the raw values go back to the form on an error."""
    results, raw = [], {}
    i = 0
    while f"name_{i}" in form:
        name, value = str(form.get(f"name_{i}") or ""), str(form.get(f"value_{i}") or "").strip()
        raw[f"value_{i}"] = value
        results.append({"name": name, "value": value})
        i += 1
    return results, raw


@router.post("/mes/quality-checks/new")
async def create_check(request: Request, p: Page = QUALITY):
    form = await request.form()
    results, raw = _form_results(form)
    values = dict(raw, **{k: str(form.get(k) or "").strip() for k in ("qty_inspected", "qty_failed", "lot", "notes")})
    wo_id, op_id = _int(form.get("work_order_id")), _int(form.get("operation_id"))
    try:
        with UnitOfWork(p.actor) as uow:
            check = quality.record_check(uow, wo_id or 0, operation_id=op_id, results=results,
                                         qty_inspected=values["qty_inspected"], qty_failed=values["qty_failed"] or None,
                                         lot=values["lot"] or None, notes=values["notes"] or None)
            check_id, number, result = check.id, check.number, check.result
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            return _form_page(p, uow, wo_id, op_id, values, error=exc)
    message = _("质检单 {n} 已保存：{r}", n=number, r=quality.result_label(result))
    return redirect(f"/mes/quality-checks/{check_id}", message, "success" if result == "pass" else "error")


@router.get("/mes/quality-checks/{check_id}")
def check_page(check_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        c = quality.check_to_dict(uow, quality.get_check(uow, check_id))
        status = quality.final_inspection_status(uow, c["work_order_id"]) if c["stage"] == "final" else None
    return render(p, "mes/quality_check_detail.html", title=c["number"], c=c, status=status,
                  can_quality=p.actor.can(quality.QUALITY_PERMISSION),
                  actions=[(a, quality.disposition_label(a)) for a in quality.ACTIONS])


@router.post("/mes/quality-checks/{check_id}/disposition")
async def dispose(check_id: int, request: Request, p: Page = QUALITY):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            c = quality.dispose(uow, check_id, str(form.get("action") or ""), str(form.get("qty") or "").strip(),
                                str(form.get("reason") or ""))
            label = quality.disposition_label(c.disposition)
            rework = wos.get_work_order(uow, c.rework_work_order_id).number if c.rework_work_order_id else None
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/mes/quality-checks/{check_id}", exc.message, "error")
    message = _("已处置：{d}", d=label) if not rework else _("已处置：返工，返工工单 {n}", n=rework)
    return redirect(f"/mes/quality-checks/{check_id}", message)


# ------------------------------------------------------------------ first-pass yield
@router.get("/mes/quality/yield")
def yield_page(request: Request, p: Page = READ):
    qp = request.query_params
    group_by = qp.get("group_by") if qp.get("group_by") in quality.GROUPS else "product"
    period = qp.get("period") if qp.get("period") in quality.PERIODS else "month"
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            report = quality.first_pass_yield(uow, group_by=group_by, period=period,
                                              date_from=_date(qp.get("date_from")), date_to=_date(qp.get("date_to")))
        except DomainError as exc:
            error = exc.message
            report = quality.first_pass_yield(uow, group_by=group_by, period=period)
    if qp.get("format") in ("xlsx", "csv"):
        header = [_("周期"), _("编码"), _("名称"), _("检验次数"), _("检验数量"), _("不合格数量"), _("一次合格数量"),
                  _("一次合格率(%)")]
        rows = [[r["period"], r["key"], r["name"], r["checks"], r["inspected"], r["failed"], r["passed"],
                 r["fpy_pct"] or ""] for r in report["rows"]]
        return _download(header, rows, qp["format"], "first-pass-yield")
    return render(p, "mes/quality_yield.html", status_code=422 if error else 200, title=_("一次合格率"), r=report,
                  error=error, chart_json=script_json(_chart(report)),
                  keep=urllib.parse.urlencode({k: v for k, v in qp.items() if k != "format" and v}))


def _chart(report: dict) -> dict:
    """ECharts options: one line per product / work center (the eight with most units inspected)."""
    top = sorted(report["totals"], key=lambda r: -float(r["inspected"]))[:8]
    by = {(r["period"], r["key"]): r for r in report["rows"]}
    series = [{"name": f"{t['key']} {t['name']}", "type": "line", "connectNulls": True,
               "data": [float(by[(per, t["key"])]["fpy_pct"]) if (per, t["key"]) in by and
                        by[(per, t["key"])]["fpy_pct"] is not None else None for per in report["periods"]]}
              for t in top]
    return {"tooltip": {"trigger": "axis", "valueFormatter": None}, "legend": {"type": "scroll"},
            "grid": {"left": 48, "right": 24, "bottom": 32, "top": 48},
            "xAxis": {"type": "category", "data": report["periods"]},
            "yAxis": {"type": "value", "min": 0, "max": 100, "name": "%"}, "series": series}


# ------------------------------------------------------------------ checklists
def _blank_item() -> dict:
    return {"name": "", "kind": "check", "min": "", "max": "", "unit": ""}


def _item_rows(items) -> list[dict]:
    rows = []
    for it in items or []:
        rows.append({"name": it.get("name", ""), "kind": it.get("kind") or "check",
                     "min": quality._limit(it.get("min")) if it.get("min") not in (None, "") else "",
                     "max": quality._limit(it.get("max")) if it.get("max") not in (None, "") else "",
                     "unit": it.get("unit") or ""})
    return rows


def _form_items(form) -> list[dict]:
    cols = [form.getlist(k) for k in ("item_name", "item_kind", "item_min", "item_max", "item_unit")]
    items = []
    for name, kind, lo, hi, unit in zip(*cols, strict=False):
        if not (name or "").strip() and not (lo or "").strip() and not (hi or "").strip():
            continue  # an empty row of the form
        item = {"name": name.strip(), "kind": (kind or "check").strip()}
        if item["kind"] == "measure" or (lo or "").strip() or (hi or "").strip():
            item.update({"min": (lo or "").strip(), "max": (hi or "").strip(), "unit": (unit or "").strip()})
        items.append(item)
    return items


def _checklist_form(p: Page, values: dict, rows: list[dict], *, obj_id: int | None = None,
                    error: DomainError | None = None):
    rows = rows + [_blank_item() for _i in range(max(1, BLANK_ITEMS - len(rows)))]
    return render(p, "mes/checklist_form.html", status_code=422 if error else 200, title=str(res.label),
                  values=values, rows=rows, obj_id=obj_id, error=error.message if error else None,
                  error_field=error.field if error else None)


def _checklist_values(form) -> tuple[dict, list[dict], str]:
    values = {k: str(form.get(k) or "").strip() for k in ("code", "name", "items_text")}
    return values, _form_items(form), values["items_text"]


def _save_data(values: dict, rows: list[dict], text: str) -> dict:
    # the pasted text (one item per line) wins when given; otherwise the rows
    items = text if text else json.dumps(rows, ensure_ascii=False)
    return {"code": values["code"], "name": values["name"], "items": items}


@router.get("/mes/checklists/new")
def checklist_new(p: Page = QUALITY):
    return _checklist_form(p, {"code": "", "name": "", "items_text": ""}, [])


@router.post("/mes/checklists/new")
async def checklist_create(request: Request, p: Page = QUALITY):
    values, rows, text = _checklist_values(await request.form())
    data = _save_data(values, rows, text)
    if not text and not rows:
        data["items"] = ""
    try:
        with UnitOfWork(p.actor) as uow:
            obj = rs.create_record(uow, res, data)
    except DomainError as exc:
        return _checklist_form(p, values, rows, error=exc)
    return redirect(f"/mes/checklists/{obj.id}", _("已保存"))


@router.get("/mes/checklists/item-row")
def checklist_item_row(p: Page = QUALITY):
    """One empty item row for the form (htmx "add item")."""
    return render(p, "mes/checklist_item_row.html", row=_blank_item())


@router.get("/mes/checklists/export")
def checklist_export_page(request: Request, format: str = "xlsx", q: str | None = None, archived: bool = False,
                          p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, _t = rs.list_records(uow, res, q=q, filters=filters_from(res, request), limit=1000000,
                                    include_archived=archived)
        return checklist_export(uow, items, "csv" if format == "csv" else "xlsx")


@router.get("/mes/checklists/{id_}/edit")
def checklist_edit(id_: int, p: Page = QUALITY):
    with UnitOfWork(p.actor, readonly=True) as uow:
        obj = rs.get_record(uow, res, id_)
        values = {"code": obj.code, "name": obj.name, "items_text": ""}
        return _checklist_form(p, values, _item_rows(obj.items), obj_id=id_)


@router.post("/mes/checklists/{id_}/edit")
async def checklist_update(id_: int, request: Request, p: Page = QUALITY):
    values, rows, text = _checklist_values(await request.form())
    data = _save_data(values, rows, text)
    if not text and not rows:
        data["items"] = ""
    try:
        with UnitOfWork(p.actor) as uow:
            rs.update_record(uow, res, id_, data)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _checklist_form(p, values, rows, obj_id=id_, error=exc)
    return redirect(f"/mes/checklists/{id_}", _("已保存"))


def _checklist_detail(uow: UnitOfWork, obj) -> dict:
    return {"items": [dict(it, limits=quality.limits_text(it) if it.get("kind") == "measure" else "")
                      for it in obj.items or []], "items_text": quality.format_items(obj.items)}


res.extra["detail_context"] = _checklist_detail
router.include_router(resource_pages(res))
