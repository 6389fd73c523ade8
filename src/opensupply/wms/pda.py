"""Shared PDA (handheld scanner) helpers for every scanning flow: receive, putaway, move, count
(this area) and pick/pack (outbound).

How a PDA page works (templates extend `wms/pda_base.html`, whose script is served at
`/wms/pda/pda.js`):

* A scan is a `<form data-pda method="post">`. The script submits it with fetch, adding a fresh
  `client_scan_id` (crypto.randomUUID) and the CSRF header; if the network drops, the same
  submission (same id) is queued in localStorage and resubmitted when the device is back
  online, so `scans.scan_once` records it once.
* The endpoint answers JSON built here: `ok(message, **extra)` or, for a refused scan,
  `refused(exc)` → `{"ok": false, "message": …}` (status 422). Extra keys understood by the
  script: `next` (URL to go to; the banner survives the navigation), `html` (replaces the
  element named by the form's `data-target`), `focus` (name of the input to focus).
* The banner turns green with a short beep on success, red with a low double beep and a
  vibration on a refused scan. Without JavaScript the same form posts normally and the
  endpoint (see `wants_json`) renders the page with the banner instead.
* Inputs: `data-next="qty"` on an input makes Enter (what a keyboard-wedge scanner sends after
  the code) move to that field instead of submitting; `data-keep` keeps a value after a
  successful scan (e.g. the bin while scanning many items into it).

Server side, `run_scan(actor, client_scan_id, flow, code, handle)` opens the unit of work,
runs `handle(uow)` through `scan_once` and turns a DomainError into a refused reply (nothing
is written for a refused scan).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, update

from opensupply.core.db import Database
from opensupply.core.errors import DomainError, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import models as md

from .models import WmsScan
from .scans import scan_once

SCAN = WmsScan.__table__


# ------------------------------------------------------------------ replies
def ok(message: str, **extra) -> dict:
    """A successful scan's reply (JSON-able)."""
    return {"ok": True, "message": str(message), **extra}


def refused(exc: DomainError) -> dict:
    return {"ok": False, "message": exc.message, "code": exc.code, "field": exc.field, "status": exc.status}


def reply(result: dict) -> JSONResponse:
    return JSONResponse(result, status_code=200 if result.get("ok") else int(result.get("status") or 422))


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.headers.get("x-pda") == "1"


# ------------------------------------------------------------------ checks with clear messages
def wrong_product(scanned: str, expected: str) -> ValidationFailed:
    return ValidationFailed(_("扫描的商品 {scanned} 与任务要求的 {expected} 不符", scanned=scanned, expected=expected),
                            field="item", code="wrong_item")


def wrong_bin(scanned: str, expected: str) -> ValidationFailed:
    return ValidationFailed(_("扫描的库位 {scanned} 与任务要求的 {expected} 不符", scanned=scanned, expected=expected),
                            field="bin", code="wrong_bin")


def scan_product(uow: UnitOfWork, code: str | None) -> md.Product:
    """The product behind a scanned barcode or typed SKU (barcode first, then SKU)."""
    text = (code or "").strip()
    if not text:
        raise ValidationFailed(_("请扫描商品条码或 SKU"), field="item")
    base = select(md.Product).where(md.Product.company_id == uow.company_id, md.Product.active.is_(True))
    prod = uow.session.scalars(base.where(md.Product.barcode == text)).first() \
        or uow.session.scalars(base.where(md.Product.sku == text)).first()
    if prod is None:
        raise NotFound(_("未找到商品：{code}（请确认条码或 SKU）", code=text), field="item")
    return prod


def expect_product(uow: UnitOfWork, code: str | None, expected: md.Product) -> md.Product:
    """The scanned product, which must be `expected` (else the wrong-SKU message)."""
    text = (code or "").strip()
    try:
        prod = scan_product(uow, text)
    except NotFound:
        raise wrong_product(text, expected.sku) from None
    if prod.id != expected.id:
        raise wrong_product(prod.sku, expected.sku)
    return prod


def scan_qty(raw: str | Decimal | int | None, *, default: Decimal | None = None, allow_zero: bool = False) -> Decimal:
    """A quantity typed on the PDA (positive, or ≥ 0 for counts)."""
    text = str(raw).strip() if raw is not None else ""
    if not text:
        if default is not None:
            return default
        raise ValidationFailed(_("请输入数量"), field="qty")
    try:
        qty = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(_("数量格式不正确：{value}", value=text[:20]), field="qty") from None
    if not qty.is_finite() or qty < 0 or (qty == 0 and not allow_zero):
        raise ValidationFailed(_("数量必须大于 0") if not allow_zero else _("数量不能为负"), field="qty")
    return qty


def norm(code: str | None) -> str:
    return (code or "").strip()


# ------------------------------------------------------------------ running a scan
def run_scan(actor: Actor, client_scan_id: str | None, flow: str, code: str,
             handle: Callable[[UnitOfWork], dict], *, task_id: int | None = None, db: Database | None = None,
             note: str | None = None) -> dict:
    """Run one scan in its own transaction, recorded once per client scan id (a scan without an
    id — a plain form post — gets a server-made id, so every accepted scan is on record).
    `note` is stored on the scan row (`message`), e.g. the draft it belongs to. A refused scan
    returns `refused(...)` and changes nothing."""
    scan_id = (client_scan_id or "").strip()[:64] or f"srv-{uuid.uuid4().hex}"
    try:
        with UnitOfWork(actor, db=db) as uow:
            result = scan_once(uow, scan_id, flow, code, lambda: handle(uow), task_id=task_id)
            if note is not None and not result.get("replayed"):
                uow.session.execute(update(SCAN).where(SCAN.c.company_id == uow.company_id,
                                                       SCAN.c.client_scan_id == scan_id).values(message=note[:300]))
            return result
    except DomainError as exc:
        return refused(exc)


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: (v if isinstance(v, str) else "").strip() for k, v in form.items()}
