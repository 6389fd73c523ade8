"""The lot trace page (批次追溯) under /mes/trace: search a lot, see backward (what went into it, down to the
supplier lots, receipts and purchase orders) and forward (what was made from it, and which customers and
orders received it) side by side, with the recall list to export. Thin: `mes.genealogy`."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import render

from . import genealogy

router = APIRouter(prefix="/mes", include_in_schema=False)
READ = Depends(page_permission("mes.read"))


@router.get("/trace")
def trace_page(request: Request, p: Page = READ):
    qp = request.query_params
    lot, product, lot_id = (qp.get("lot") or "").strip(), (qp.get("product") or "").strip(), qp.get("lot_id")
    result, error = None, None
    if lot or (lot_id or "").isdigit():
        try:
            with UnitOfWork(p.actor, readonly=True) as uow:
                found = genealogy.find_lot(uow, lot_id=int(lot_id) if (lot_id or "").isdigit() else None, lot=lot,
                                           product=product or None)
                result = genealogy.trace(uow, found.id)
        except DomainError as exc:
            error = exc.message
    keep = urllib.parse.urlencode({"lot_id": result["lot"]["id"]}) if result else ""
    return render(p, "mes/trace.html", status_code=200 if not error else 404, title=_("批次追溯"), result=result,
                  error=error, lot=lot, product=product, keep=keep)
