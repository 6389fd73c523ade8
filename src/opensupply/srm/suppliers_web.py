"""Supplier pages under /srm/: the list (/srm/suppliers: search, status and category filters, pagination,
XLSX/CSV export), registration form, the supplier page with tabs (profile, status history, certificates,
contracts, complaints) and its forms (status change, onboarding request, contact, bank account, certificate
with optional file), onboarding approvals (/srm/onboarding) and the expiring certificates (/srm/certificates/
expiring). Thin: `srm.suppliers` in one unit of work; errors come back on the page."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import complaints, contracts
from . import suppliers as svc
from .models import CERTIFICATE_TYPES, SUPPLIER_STATUSES
from .suppliers_api import download

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission("srm.read"))
WRITE = Depends(page_permission("srm.write"))
APPROVE = Depends(page_permission("srm.approve"))
PAGE_SIZE = 50
TABS = ("profile", "history", "certificates", "contracts", "complaints")


def _int(value) -> int | None:
    return int(value) if str(value or "").strip().isdigit() else None


def _filters(qp) -> dict:
    return {k: (qp.get(k) or "").strip() for k in ("q", "status", "category")}


@router.get("/srm/suppliers")
def suppliers_page(request: Request, p: Page = READ):
    qp = request.query_params
    offset = _int(qp.get("offset")) or 0
    f = _filters(qp)
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            items, total = svc.supplier_rows(uow, q=f["q"] or None, status=f["status"] or None,
                                             category=f["category"] or None, limit=PAGE_SIZE, offset=offset)
        except DomainError as exc:
            items, total, error = [], 0, exc.message
        rows = [svc.supplier_dict(s) for s in items]
        categories = svc.all_categories(uow)
    keep = urllib.parse.urlencode({k: v for k, v in f.items() if v})
    return render(p, "srm/suppliers.html", status_code=422 if error else 200, title=_("供应商档案"), items=rows,
                  total=total, offset=offset, limit=PAGE_SIZE, filters=f, keep=keep, error=error,
                  statuses=[(s, svc.status_label(s)) for s in SUPPLIER_STATUSES], categories=categories,
                  can_write=p.actor.can("srm.write"))


@router.get("/srm/suppliers/export")
def suppliers_export(request: Request, format: str = "xlsx", p: Page = READ):
    f = _filters(request.query_params)
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, _total = svc.supplier_rows(uow, q=f["q"] or None, status=f["status"] or None,
                                          category=f["category"] or None, limit=100000)
        header, rows = svc.export_rows(items)
    return download(header, rows, "csv" if format == "csv" else "xlsx", "suppliers")


def _form(p: Page, values: dict, error: DomainError | None = None, supplier_id: int | None = None):
    return render(p, "srm/supplier_form.html", status_code=422 if error else 200,
                  title=_("编辑供应商档案") if supplier_id else _("供应商建档"), values=values, supplier_id=supplier_id,
                  error=error.message if error else None, error_field=error.field if error else None)


FORM_KEYS = ("partner", "grade", "main_products", "website", "registered_capital", "established_on", "notes",
             "categories")


@router.get("/srm/suppliers/new")
def new_supplier_page(request: Request, p: Page = WRITE):
    return _form(p, {"partner": request.query_params.get("partner", "")})


@router.post("/srm/suppliers/new")
async def create_supplier(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in FORM_KEYS}
    data = {k: v for k, v in values.items() if k != "partner"}
    try:
        with UnitOfWork(p.actor) as uow:
            sup = svc.register_supplier(uow, svc.resolve_partner(uow, values["partner"]), data)
            sup_id, name = sup.id, sup.partner_name
    except DomainError as exc:
        return _form(p, values, exc)
    return redirect(f"/srm/suppliers/{sup_id}", _("供应商 {name} 已建档（潜在）", name=name))


@router.get("/srm/suppliers/{supplier_id}/edit")
def edit_supplier_page(supplier_id: int, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        d = svc.supplier_dict(svc.get_supplier(uow, supplier_id))
    values = {k: ("" if d.get(k) is None else d[k]) for k in FORM_KEYS if k != "partner"}
    values["categories"] = "，".join(d["categories"])
    values["partner"] = d["partner_code"]
    return _form(p, values, supplier_id=supplier_id)


@router.post("/srm/suppliers/{supplier_id}/edit")
async def update_supplier(supplier_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in FORM_KEYS}
    data = {k: v for k, v in values.items() if k != "partner"}
    try:
        with UnitOfWork(p.actor) as uow:
            svc.update_profile(uow, supplier_id, data)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return _form(p, values, exc, supplier_id)
    return redirect(f"/srm/suppliers/{supplier_id}", _("已保存"))


@router.get("/srm/suppliers/{supplier_id}")
def supplier_page(supplier_id: int, request: Request, p: Page = READ):
    tab = request.query_params.get("tab") or "profile"
    tab = tab if tab in TABS else "profile"
    with UnitOfWork(p.actor, readonly=True) as uow:
        sup = svc.get_supplier(uow, supplier_id)
        today = company_today(uow)
        ctx = {"s": svc.supplier_dict(sup), "tab": tab,
               "contacts": svc.contacts(uow, sup.id), "banks": svc.bank_accounts(uow, sup.id),
               "history": [{"at": h.created_at, "from_label": svc.status_label(h.from_status) if h.from_status else "",
                            "to_label": svc.status_label(h.to_status), "reason": h.reason, "by": h.by_username}
                           for h in svc.status_history(uow, sup.id)],
               "pending": [ob for ob, _s in svc.onboarding_rows(uow, "pending") if ob.supplier_id == sup.id],
               "certs": [{"c": c, "label": str(svc.CERTIFICATE_LABELS.get(c.cert_type, c.cert_type)),
                          "days_left": (c.expiry_date - today).days if c.expiry_date else None}
                         for c in svc.certificates(uow, sup.id)],
               "contracts": [contracts.contract_dict(uow, c) for c, _s in
                             contracts.contract_rows(uow, partner_id=sup.partner_id, limit=200)[0]],
               "complaints": [complaints.complaint_dict(c, today) for c in
                              complaints.complaint_rows(uow, partner_id=sup.partner_id, limit=200)[0]]}
    targets = [(s, svc.status_label(s)) for s in svc.TRANSITIONS[ctx["s"]["status"]]]
    return render(p, "srm/supplier_detail.html", title=ctx["s"]["partner_name"], targets=targets,
                  cert_types=[(c, str(svc.CERTIFICATE_LABELS[c])) for c in CERTIFICATE_TYPES],
                  can_write=p.actor.can("srm.write"), can_approve=p.actor.can("srm.approve"),
                  tabs=[("profile", _("档案")), ("history", _("状态历史")), ("certificates", _("资质证书")),
                        ("contracts", _("合同")), ("complaints", _("投诉"))], **ctx)


def _back(supplier_id: int, tab: str, exc: DomainError) -> Response:
    if exc.status == 404:
        raise exc
    return redirect(f"/srm/suppliers/{supplier_id}?tab={tab}", exc.message, "error")


@router.post("/srm/suppliers/{supplier_id}/status")
async def change_status(supplier_id: int, request: Request, p: Page = APPROVE):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            sup = svc.change_status(uow, supplier_id, str(form.get("status") or ""), str(form.get("reason") or ""))
            label = svc.status_label(sup.status)
    except DomainError as exc:
        return _back(supplier_id, "history", exc)
    return redirect(f"/srm/suppliers/{supplier_id}?tab=history", _("供应商状态已变更为{status}", status=label))


@router.post("/srm/suppliers/{supplier_id}/onboarding")
async def request_onboarding(supplier_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            svc.request_onboarding(uow, supplier_id, str(form.get("note") or ""))
    except DomainError as exc:
        return _back(supplier_id, "profile", exc)
    return redirect(f"/srm/suppliers/{supplier_id}", _("已提交准入申请，等待他人审批"))


@router.post("/srm/suppliers/{supplier_id}/contacts")
async def add_contact(supplier_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    data = {k: str(form.get(k) or "") for k in ("name", "role", "phone", "email")}
    data["is_primary"] = form.get("is_primary") == "1"
    try:
        with UnitOfWork(p.actor) as uow:
            svc.add_contact(uow, supplier_id, data)
    except DomainError as exc:
        return _back(supplier_id, "profile", exc)
    return redirect(f"/srm/suppliers/{supplier_id}", _("联系人已添加"))


@router.post("/srm/suppliers/{supplier_id}/bank-accounts")
async def add_bank(supplier_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    data = {k: str(form.get(k) or "") for k in ("account_name", "bank_name", "account_number")}
    try:
        with UnitOfWork(p.actor) as uow:
            svc.add_bank_account(uow, supplier_id, data)
    except DomainError as exc:
        return _back(supplier_id, "profile", exc)
    return redirect(f"/srm/suppliers/{supplier_id}", _("银行账户已添加"))


@router.post("/srm/suppliers/{supplier_id}/certificates")
async def add_certificate(supplier_id: int, request: Request, p: Page = WRITE):
    form = await request.form()
    data = {k: str(form.get(k) or "") for k in ("cert_type", "number", "issuer", "issued_on", "expiry_date")}
    upload = form.get("file")
    file = None
    if upload is not None and getattr(upload, "filename", ""):
        from opensupply.core.config import get_settings

        content = await upload.read(get_settings().max_upload_mb * 1024 * 1024 + 1)
        if len(content) > get_settings().max_upload_mb * 1024 * 1024:
            return redirect(f"/srm/suppliers/{supplier_id}?tab=certificates",
                            _("文件过大（上限 {n} MB）", n=get_settings().max_upload_mb), "error")
        file = (upload.filename, content)
    try:
        with UnitOfWork(p.actor) as uow:
            svc.add_certificate(uow, supplier_id, data, file=file)
    except DomainError as exc:
        return _back(supplier_id, "certificates", exc)
    return redirect(f"/srm/suppliers/{supplier_id}?tab=certificates", _("资质已添加"))


@router.get("/srm/certificates/{cert_id}/file")
def certificate_file(cert_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        name, data = svc.certificate_file(uow, cert_id)
    quoted = urllib.parse.quote(name)
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quoted}"})


@router.get("/srm/onboarding")
def onboarding_page(request: Request, p: Page = READ):
    state = request.query_params.get("state", "pending")
    state = state if state in ("pending", "approved", "rejected", "") else "pending"
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows = svc.onboarding_rows(uow, state or None)
    return render(p, "srm/onboarding.html", title=_("准入审批"), rows=rows, state=state,
                  labels=svc.ONBOARDING_LABELS, can_approve=p.actor.can("srm.approve"))


@router.post("/srm/onboarding/{onboarding_id}/{decision}")
async def decide(onboarding_id: int, decision: str, request: Request, p: Page = APPROVE):
    form = await request.form()
    note = str(form.get("note") or "")
    try:
        with UnitOfWork(p.actor) as uow:
            if decision == "approve":
                svc.approve_onboarding(uow, onboarding_id, note)
                message = _("已批准准入，供应商成为合格供应商")
            elif decision == "reject":
                svc.reject_onboarding(uow, onboarding_id, note)
                message = _("已驳回准入申请")
            else:
                return redirect("/srm/onboarding", _("页面或记录不存在"), "error")
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect("/srm/onboarding", exc.message, "error")
    return redirect("/srm/onboarding", message)


@router.get("/srm/certificates/expiring")
def expiring_page(request: Request, p: Page = READ):
    days = _int(request.query_params.get("days"))
    days = 30 if days is None else days
    error = None
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows = svc.expiring_certificates(uow, days)
        except DomainError as exc:
            rows, error = [], exc.message
        reminders = svc.reminders(uow)
    return render(p, "srm/certificates_expiring.html", status_code=422 if error else 200, title=_("资质到期提醒"),
                  rows=[dict(r, label=str(svc.CERTIFICATE_LABELS.get(r["certificate"].cert_type, "")))
                        for r in rows], days=days, error=error, reminders=reminders,
                  can_write=p.actor.can("srm.write"))


@router.post("/srm/certificates/remind")
async def remind(request: Request, p: Page = WRITE):
    form = await request.form()
    days = _int(form.get("days"))
    try:
        with UnitOfWork(p.actor) as uow:
            n = len(svc.remind_expiring(uow, 30 if days is None else days))
    except DomainError as exc:
        return redirect("/srm/certificates/expiring", exc.message, "error")
    return redirect(f"/srm/certificates/expiring?days={days if days is not None else 30}",
                    _("已生成 {n} 条到期提醒", n=n))
