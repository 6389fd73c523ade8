"""Supplier profiles under /api/v1/srm/: suppliers (list with q/status/category, export CSV/XLSX, register,
read, update, status change), onboarding requests and decisions, contacts, bank accounts (masked without
srm.write), certificates and the expiring list / reminder run. Thin: parse, call `srm.suppliers`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from opensupply.core.http import require
from opensupply.core.tabular import table_response as download
from opensupply.core.uow import Actor, UnitOfWork

from . import suppliers as svc

router = APIRouter(prefix="/srm", tags=["srm"])
READ = Depends(require("srm.read"))
WRITE = Depends(require("srm.write"))
APPROVE = Depends(require("srm.approve"))


class SupplierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: int | str | None = None
    grade: str | None = None
    main_products: str | None = Field(None, max_length=300)
    website: str | None = Field(None, max_length=200)
    registered_capital: str | float | int | None = None
    established_on: dt.date | None = None
    notes: str | None = None
    categories: list[str] | str | None = None


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    reason: str | None = None


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = None


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    role: str | None = None
    phone: str | None = None
    email: str | None = None
    is_primary: bool = False


class BankIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_name: str
    bank_name: str
    account_number: str
    is_default: bool = False


class CertificateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cert_type: str
    number: str
    issuer: str | None = None
    issued_on: dt.date | None = None
    expiry_date: dt.date | None = None


def _cert(c) -> dict:
    return {"id": c.id, "supplier_id": c.supplier_id, "cert_type": c.cert_type,
            "cert_type_label": str(svc.CERTIFICATE_LABELS.get(c.cert_type, c.cert_type)), "number": c.number,
            "issuer": c.issuer, "issued_on": c.issued_on.isoformat() if c.issued_on else None,
            "expiry_date": c.expiry_date.isoformat() if c.expiry_date else None, "file_name": c.file_name}


def _detail(uow: UnitOfWork, sup) -> dict:
    d = svc.supplier_dict(sup)
    d["contacts"] = [{"id": c.id, "name": c.name, "role": c.role, "phone": c.phone, "email": c.email,
                      "is_primary": c.is_primary} for c in svc.contacts(uow, sup.id)]
    d["bank_accounts"] = svc.bank_accounts(uow, sup.id)
    d["certificates"] = [_cert(c) for c in svc.certificates(uow, sup.id)]
    d["history"] = [{"from": h.from_status, "to": h.to_status, "reason": h.reason, "by": h.by_username,
                     "at": h.created_at.isoformat() if h.created_at else None} for h in svc.status_history(uow, sup.id)]
    return d




@router.get("/suppliers", summary="List SRM supplier profiles")
def list_suppliers(q: str | None = None, status: str | None = None, category: str | None = None,
                   limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = svc.supplier_rows(uow, q=q, status=status, category=category, limit=limit, offset=offset)
        return {"items": [svc.supplier_dict(s) for s in items], "total": total}


@router.get("/suppliers/export", summary="Export supplier profiles as CSV or XLSX")
def export_suppliers(format: str = Query("xlsx", pattern="^(csv|xlsx)$"), q: str | None = None,
                     status: str | None = None, category: str | None = None, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        items, _total = svc.supplier_rows(uow, q=q, status=status, category=category, limit=100000)
        header, rows = svc.export_rows(items)
    return download(header, rows, format, "suppliers")


@router.get("/certificates/expiring", summary="Certificates expiring within N days (and expired ones)")
def expiring(days: int = Query(30, ge=0, le=3650), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows = svc.expiring_certificates(uow, days)
        return {"items": [dict(_cert(r["certificate"]), supplier=r["supplier"].partner_name,
                               days_left=r["days_left"], expired=r["expired"]) for r in rows], "total": len(rows)}


@router.post("/certificates/remind", summary="Produce expiry reminders (idempotent per certificate and date)")
def remind(days: int = Query(30, ge=0, le=3650), actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        new = svc.remind_expiring(uow, days)
        return {"created": len(new), "reminders": [r.message for r in new]}


@router.post("/suppliers", status_code=201, summary="Register a supplier partner in SRM (as potential)")
def register(body: SupplierIn, actor: Actor = WRITE) -> dict:
    data = body.model_dump(exclude_unset=True)
    partner = data.pop("partner", None)
    with UnitOfWork(actor) as uow:
        sup = svc.register_supplier(uow, svc.resolve_partner(uow, partner), data)
        return _detail(uow, sup)


@router.get("/suppliers/{supplier_id}", summary="One supplier profile with contacts, bank, certificates, history")
def get_supplier(supplier_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _detail(uow, svc.get_supplier(uow, supplier_id))


@router.patch("/suppliers/{supplier_id}", summary="Change a supplier profile")
def update(supplier_id: int, body: SupplierIn, actor: Actor = WRITE) -> dict:
    data = body.model_dump(exclude_unset=True)
    data.pop("partner", None)
    with UnitOfWork(actor) as uow:
        return _detail(uow, svc.update_profile(uow, supplier_id, data))


@router.post("/suppliers/{supplier_id}/status", summary="Suspend, eliminate, reinstate or re-open a supplier")
def change_status(supplier_id: int, body: StatusIn, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        return svc.supplier_dict(svc.change_status(uow, supplier_id, body.status, body.reason))


@router.post("/suppliers/{supplier_id}/onboarding", status_code=201, summary="Request onboarding approval")
def request_onboarding(supplier_id: int, body: NoteIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        ob = svc.request_onboarding(uow, supplier_id, body.note)
        return {"id": ob.id, "state": ob.state, "requested_by": ob.requested_by}


@router.post("/onboarding/{onboarding_id}/approve", summary="Approve an onboarding request (not the requester)")
def approve(onboarding_id: int, body: NoteIn, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        ob = svc.approve_onboarding(uow, onboarding_id, body.note)
        return {"id": ob.id, "state": ob.state, "decided_by": ob.decided_by}


@router.post("/onboarding/{onboarding_id}/reject", summary="Reject an onboarding request")
def reject(onboarding_id: int, body: NoteIn, actor: Actor = APPROVE) -> dict:
    with UnitOfWork(actor) as uow:
        ob = svc.reject_onboarding(uow, onboarding_id, body.note or "")
        return {"id": ob.id, "state": ob.state, "decided_by": ob.decided_by}


@router.post("/suppliers/{supplier_id}/contacts", status_code=201, summary="Add a contact")
def add_contact(supplier_id: int, body: ContactIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return {"id": svc.add_contact(uow, supplier_id, body.model_dump()).id}


@router.post("/suppliers/{supplier_id}/bank-accounts", status_code=201, summary="Add a bank account")
def add_bank(supplier_id: int, body: BankIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return {"id": svc.add_bank_account(uow, supplier_id, body.model_dump()).id}


@router.post("/suppliers/{supplier_id}/certificates", status_code=201, summary="Add a certificate")
def add_certificate(supplier_id: int, body: CertificateIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        return _cert(svc.add_certificate(uow, supplier_id, body.model_dump()))
