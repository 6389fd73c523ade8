"""ECO pages under /plm/ecos: list (search, state, product, 我的待办 `mine=1`, pagination, XLSX/CSV export), the
new-ECO form, the line editor of the new version, and the ECO page — base vs new version side by side, cost
impact, approvals per department with comment forms, discussion with @mentions, open work orders still on
the old version, the product's documents, the release button and the printable PDF."""

from __future__ import annotations

import re
import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core import audit
from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from opensupply.masterdata import models as md
from opensupply.mes import work_orders as mes_wo
from opensupply.web import redirect, render
from opensupply.web.pdf import pdf_response

from . import costing, documents, eco, printing
from .eco_api import product_ref
from .models import DEPARTMENTS, DOCUMENT_KINDS, ECO_STATES
from .pages import PAGE_SIZE, act, offset_of, pager

router = APIRouter(prefix="/plm", include_in_schema=False)
READ = Depends(page_permission(eco.READ))
WRITE = Depends(page_permission(eco.WRITE))
BLANK_LINES = 3
EXPORT_LIMIT = 10000


def _departments():
    return [(d, eco.department_label(d)) for d in DEPARTMENTS]


# ------------------------------------------------------------------ list and export
def _filters(uow: UnitOfWork, qp) -> dict:
    return {"q": qp.get("q") or None, "state": qp.get("state") or None,
            "product_id": product_ref(uow, qp.get("product")), "mine": qp.get("mine") == "1"}


@router.get("/ecos")
def eco_list(request: Request, p: Page = READ):
    qp = request.query_params
    offset = offset_of(qp.get("offset"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = eco.list_ecos(uow, **_filters(uow, qp), limit=PAGE_SIZE, offset=offset)
        except DomainError as exc:
            return render(p, "error.html", status_code=422, status=422, message=exc.message)
        items = eco.ecos_to_dicts(uow, rows)
        inbox = eco.inbox_counts(uow)
    export_query = urllib.parse.urlencode({k: v for k, v in qp.items() if k != "offset" and v})
    return render(p, "plm/ecos.html", title=_("工程变更"), items=items, total=total, filters=qp,
                  mine=qp.get("mine") == "1", inbox=inbox, pager=pager(request, total, offset),
                  export_query=export_query, states=[(s, eco.state_label(s)) for s in ECO_STATES],
                  can_write=p.actor.can(eco.WRITE))


@router.get("/ecos/export")
def eco_export(request: Request, format: str = "xlsx", p: Page = READ):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, _total = eco.list_ecos(uow, **_filters(uow, qp), limit=EXPORT_LIMIT, offset=0)
        items = eco.ecos_to_dicts(uow, rows)
    header = [_("变更单号"), _("标题"), _("商品编码"), _("商品名称"), _("基础版本"), _("新版本"), _("状态"),
              _("审批进度"), _("提出人"), _("创建时间"), _("生效日期"), _("原因")]
    data = [[e["number"], e["title"], e["sku"], e["product_name"], e["base_version"] or "", e["new_version"] or "",
             e["state_label"], f"{e['approved_count']}/{len(e['approvals'])}", e["proposer"] or "",
             (e["created_at"] or "")[:19].replace("T", " "), e["effective_date"] or "", e["reason"]] for e in items]
    if format == "csv":
        return Response(write_csv(header, data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="ecos.csv"'})
    if format != "xlsx":
        raise ValidationFailed(_("导出格式无效：{value}", value=format[:10]), field="format")
    return Response(write_xlsx(header, data, "ECO"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="ecos.xlsx"'})


# ------------------------------------------------------------------ new ECO
def _product_options(uow: UnitOfWork) -> list[tuple[str, str]]:
    return list(uow.session.execute(select(md.Product.sku, md.Product.name).where(
        md.Product.company_id == uow.company_id, md.Product.active.is_(True)).order_by(md.Product.sku).limit(5000)))


def _new_form(p: Page, values: dict, error: DomainError | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        versions = []
        pid = product_ref(uow, values.get("product"))
        if pid and pid > 0:
            versions = [boms.bom_to_dict(b, with_lines=False) for b in boms.list_boms(uow, product_id=pid, limit=100)[0]
                        if b.state != "draft"]
        options = _product_options(uow)
    return render(p, "plm/eco_new.html", status_code=422 if error else 200, title=_("新建工程变更"), values=values,
                  versions=versions, product_options=options, departments=_departments(),
                  error=error.message if error else None, error_field=error.field if error else None)


@router.get("/ecos/new")
def eco_new(request: Request, p: Page = WRITE):
    product = request.query_params.get("product") or ""
    return _new_form(p, {"product": product, "departments": list(DEPARTMENTS)})


@router.post("/ecos/new")
async def eco_create(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("product", "title", "reason", "base_bom_id", "version")}
    values["departments"] = [str(d) for d in form.getlist("departments")]

    def run() -> int:
        with UnitOfWork(p.actor) as uow:
            base = values["base_bom_id"]
            if base and not base.isdigit():
                raise ValidationFailed(_("基础版本无效"), field="base_bom_id")
            return eco.create_eco(uow, values["product"], values["title"], values["reason"],
                                  int(base) if base else None, values["version"] or None,
                                  departments=values["departments"]).id

    try:
        eco_id = await run_in_threadpool(run)
    except DomainError as exc:
        if exc.field == "lines":  # no BOM yet: the first version is written on the line editor
            exc = ValidationFailed(exc.message + _("（请先在物料清单页面建立首个版本，或通过接口提交组件）"),
                                   field="product")
        return _new_form(p, values, exc)
    return redirect(f"/plm/ecos/{eco_id}/lines", _("已创建变更单，请修改新版本的物料"))


# ------------------------------------------------------------------ line editor of the new version
def _num(value) -> str:
    return "" if value is None else boms._dec_str(value)


def _line_choices(uow: UnitOfWork) -> dict:
    uoms = uow.session.scalars(select(md.Uom).where(md.Uom.active.is_(True)).order_by(md.Uom.category_id, md.Uom.id))
    return {"product_options": _product_options(uow), "uom_options": [(u.code, u.name) for u in uoms]}


def _form_lines(form) -> list[dict]:
    cols = [form.getlist(k) for k in ("component", "line_quantity", "line_uom", "line_scrap_pct", "line_byproduct")]
    lines = []
    for component, qty, uom, scrap, byproduct in zip(*cols, strict=False):
        if not (component or "").strip() and not (qty or "").strip():
            continue  # an empty row of the form
        lines.append({"component": component.strip(), "quantity": qty.strip(), "uom": (uom or "").strip(),
                      "scrap_pct": (scrap or "").strip(), "is_byproduct": byproduct == "1"})
    return lines


def _lines_form(p: Page, eco_id: int, lines: list[dict] | None = None, quantity: str | None = None,
                error: DomainError | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        e = eco.get_eco(uow, eco_id)
        data = eco.eco_to_dict(uow, e)
        bom = boms.get_bom(uow, e.new_bom_id)
        if lines is None:
            lines = [{"component": ln.component.sku, "quantity": _num(ln.quantity), "uom": ln.uom.code,
                      "scrap_pct": _num(ln.scrap_pct) if ln.scrap_pct else "", "is_byproduct": ln.is_byproduct}
                     for ln in bom.lines]
            quantity = _num(bom.quantity)
        choices = _line_choices(uow)
    err_line = err_col = None
    if error and error.field and error.field.startswith("lines."):
        parts = error.field.split(".")
        if len(parts) == 3 and parts[1].isdigit():
            err_line, err_col = int(parts[1]), parts[2]
    rows = lines + [{"component": "", "quantity": "", "uom": "", "scrap_pct": "", "is_byproduct": False}
                    for _i in range(max(1, BLANK_LINES - len(lines) // 10))]
    return render(p, "plm/eco_lines.html", status_code=422 if error else 200, title=data["number"], eco=data,
                  lines=rows, quantity=quantity, error=error.message if error else None,
                  error_field=error.field if error else None, err_line=err_line, err_col=err_col, **choices)


@router.get("/ecos/line-row")
def line_row(p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        return render(p, "plm/_line_row.html", line={"component": "", "quantity": "", "uom": "", "scrap_pct": "",
                                                     "is_byproduct": False}, index=None, **_line_choices(uow))


@router.get("/ecos/{eco_id}/lines")
def eco_lines(eco_id: int, p: Page = WRITE):
    return _lines_form(p, eco_id)


@router.post("/ecos/{eco_id}/lines")
async def eco_lines_save(eco_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    lines = _form_lines(form)
    quantity = str(form.get("quantity") or "").strip()

    def run():
        with UnitOfWork(p.actor) as uow:
            eco.update_eco_lines(uow, eco_id, lines, quantity=quantity or None)

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _lines_form(p, eco_id, lines, quantity, exc)
    return redirect(f"/plm/ecos/{eco_id}", _("已保存新版本的物料"))


# ------------------------------------------------------------------ the ECO page
def comment_html(body: str) -> Markup:
    """A comment's text, escaped, with @mentions marked."""
    out, last = [], 0
    for m in eco.MENTION_RE.finditer(body or ""):
        out.append(escape(body[last:m.start()]))
        out.append(Markup('<span class="mention">@{}</span>').format(m.group(1)))
        last = m.end()
    out.append(escape((body or "")[last:]))
    return Markup("").join(out)


def _cost_impact(uow: UnitOfWork, e, qty_raw: str | None) -> tuple[dict | None, str | None, str]:
    if not uow.actor.can(costing.COST_PERMISSION):
        return None, None, qty_raw or "1"
    try:
        qty = costing.parse_quantity(qty_raw or "1")
        return costing.compare(uow, e.product_id, e.base_bom_id, e.new_bom_id, qty), None, boms._dec_str(qty)
    except DomainError as exc:
        return None, exc.message, qty_raw or "1"


@router.get("/ecos/{eco_id}")
def eco_page(eco_id: int, request: Request, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        e = eco.get_eco(uow, eco_id)
        unread = eco.has_unread_mentions(uow, eco_id)
    if unread:  # opening the ECO reads the user's mentions in it (a write only when there is one)
        with UnitOfWork(p.actor) as uow:
            eco.mark_mentions_read(uow, eco_id)
    with UnitOfWork(p.actor, readonly=True) as uow:
        e = eco.get_eco(uow, eco_id)
        data = eco.eco_to_dict(uow, e)
        diff = eco.eco_diff(uow, e).as_dict()
        comments = eco.list_comments(uow, eco_id)
        for c in comments:
            c["html"] = comment_html(c["body"])
        open_wos = [mes_wo.work_order_to_dict(uow, wo, detail=False) for wo in eco.open_work_orders(uow, e)]
        impact, impact_error, cost_qty = _cost_impact(uow, e, request.query_params.get("cost_qty"))
        doc_rows, doc_total = documents.list_documents(uow, product_id=e.product_id, limit=100)
        docs = documents.documents_to_dicts(uow, doc_rows)
        versions = [boms.bom_to_dict(b, with_lines=False) for b in boms.list_boms(uow, product_id=e.product_id,
                                                                                   limit=100)[0]]
        history = audit.history(uow.session, "plm_eco", e.id, uow.company_id) if p.actor.can(
            eco.WRITE) or p.actor.can("admin.audit") else []
        today = company_today(uow).isoformat()
    own = data["proposer_id"] is not None and data["proposer_id"] == p.actor.user_id and not p.actor.is_superuser
    for a in data["approvals"]:
        a["can_act"] = (data["state"] == "in_review" and a["state"] == "pending" and not own
                        and p.actor.can(eco.approve_permission(a["department"])))
    return render(p, "plm/eco_detail.html", title=data["number"], eco=data, diff=diff, comments=comments,
                  open_work_orders=open_wos, impact=impact, impact_error=impact_error, cost_qty=cost_qty,
                  can_see_cost=p.actor.can(costing.COST_PERMISSION), documents=docs, documents_total=doc_total,
                  versions=versions, can_write=p.actor.can(eco.WRITE),
                  can_comment=eco.can_collaborate(p.actor), own=own, today=today, departments=_departments(),
                  kinds=[(k, documents.kind_label(k)) for k in DOCUMENT_KINDS],
                  can_confidential=p.actor.can(documents.CONFIDENTIAL), audit_rows=history,
                  audit_dumps=audit.dumps)


def _back(eco_id: int) -> str:
    return f"/plm/ecos/{eco_id}"


@router.post("/ecos/{eco_id}/submit")
async def eco_submit(eco_id: int, p: Page = WRITE):
    return await act(p, _back(eco_id), lambda uow: eco.submit_eco(uow, eco_id), _("已提交审批"))


@router.post("/ecos/{eco_id}/withdraw")
async def eco_withdraw(eco_id: int, p: Page = WRITE):
    return await act(p, _back(eco_id), lambda uow: eco.withdraw_eco(uow, eco_id), _("已撤回为草稿"))


@router.post("/ecos/{eco_id}/approve")
async def eco_approve(eco_id: int, request: Request, p: Page = READ):
    form = await request.form()
    department = str(form.get("department") or "")
    if form.get("decision") == "reject":
        return await act(p, _back(eco_id), lambda uow: eco.reject_eco(uow, eco_id, department,
                                                                       str(form.get("comment") or "")),
                         _("已驳回该变更单"))
    return await act(p, _back(eco_id), lambda uow: eco.approve_eco(uow, eco_id, department,
                                                                    str(form.get("comment") or "") or None),
                     _("已审批同意"))


@router.post("/ecos/{eco_id}/cancel")
async def eco_cancel(eco_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    return await act(p, _back(eco_id), lambda uow: eco.cancel_eco(uow, eco_id, str(form.get("reason") or "") or None),
                     _("已取消"))


@router.post("/ecos/{eco_id}/release")
async def eco_release(eco_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    day = str(form.get("effective_date") or "").strip() or None
    return await act(p, _back(eco_id), lambda uow: eco.release_eco(uow, eco_id, day),
                     _("已发布：新工单将使用新版本，旧版本已作废"))


@router.post("/ecos/{eco_id}/edit")
async def eco_edit(eco_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    return await act(p, _back(eco_id), lambda uow: eco.update_eco(
        uow, eco_id, title=str(form.get("title") or ""), reason=str(form.get("reason") or ""),
        departments=[str(d) for d in form.getlist("departments")]), _("已保存"))


@router.post("/ecos/{eco_id}/comments")
async def eco_comment(eco_id: int, request: Request, p: Page = READ):
    form = await request.form()
    return await act(p, _back(eco_id) + "#comments",
                     lambda uow: eco.add_comment(uow, eco_id, str(form.get("body") or "")), _("已发表评论"))


@router.get("/ecos/{eco_id}/pdf")
async def eco_pdf(eco_id: int, p: Page = READ):
    number, data = await run_in_threadpool(printing.eco_pdf, p.actor, eco_id)
    return pdf_response(data, f"{re.sub(r'[^A-Za-z0-9_-]', '_', number)}.pdf")
