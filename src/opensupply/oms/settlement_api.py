"""Settlement reconciliation endpoints under /api/v1/oms/settlements: list, upload a platform
bill (multipart), detail with lines and exceptions, reconcile again, post to the ledger.
Thin: parse, call `oms.settlement` in one unit of work, return plain JSON. Needs `oms.settle`."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from opensupply.core.config import get_settings
from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, UnitOfWork

from . import settlement as svc
from .models import OmsShop

router = APIRouter(prefix="/oms", tags=["oms settlements"])
SETTLE = Depends(require("oms.settle"))


def read_bill_upload(file) -> tuple[str, bytes]:
    """The uploaded bill: CSV, XLSX, or the .zip 支付宝 downloads come in; within the upload size limit."""
    limit = get_settings().max_upload_mb * 1024 * 1024
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(_("文件过大（上限 {n} MB）", n=get_settings().max_upload_mb), field="file")
    name = file.filename or ""
    if not name.lower().endswith((".csv", ".xlsx", ".txt", ".zip")):
        raise ValidationFailed(_("只支持 CSV、XLSX 或支付宝下载的 ZIP 文件"), field="file")
    return name, data


def _detail(uow: UnitOfWork, settlement_id: int, result: dict | None = None) -> dict:
    st = uow.get(svc.OmsSettlement, settlement_id)
    d = svc.settlement_out(st, shop=uow.session.get(OmsShop, st.shop_id), lines=True)
    d["reconciliation"] = result or svc.reconciliation(uow, settlement_id)
    return d


@router.get("/settlements", summary="Imported platform settlements (filter by shop, state, period)")
def list_settlements(q: str | None = None, shop_id: int | None = None, state: str | None = None,
                     date_from: dt.date | None = None, date_to: dt.date | None = None,
                     limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                     actor: Actor = SETTLE) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.list_settlements(uow, q=q, shop_id=shop_id, state=state, date_from=date_from,
                                           date_to=date_to, limit=limit, offset=offset)
        shops = {s.id: s for s in svc.shops(uow)}
        flagged = svc.flagged_lines(uow, [st.id for st in rows])
        return {"items": [svc.settlement_out(st, shop=shops.get(st.shop_id)) | {"flagged_lines": flagged.get(st.id, 0)}
                          for st in rows], "total": total}


@router.post("/settlements", status_code=201,
             summary="Upload a settlement file (Alipay statement, JD, PDD or generic CSV); idempotent per file")
def upload_settlement(shop_id: int = Form(...), file: UploadFile = File(...),
                      fmt: str | None = Form(None, description="alipay | jd | pdd | generic; detected when empty"),
                      actor: Actor = SETTLE) -> dict:
    name, data = read_bill_upload(file)
    with UnitOfWork(actor) as uow:
        st = svc.import_settlement(uow, shop_id, data, name, fmt=fmt or None)
        return _detail(uow, st.id)


@router.get("/settlements/{settlement_id}", summary="One settlement with its lines and exceptions")
def get_settlement(settlement_id: int, actor: Actor = SETTLE) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return _detail(uow, settlement_id)


@router.post("/settlements/{settlement_id}/reconcile", summary="Match the lines to orders again and list exceptions")
def reconcile(settlement_id: int, actor: Actor = SETTLE) -> dict:
    with UnitOfWork(actor) as uow:
        return svc.reconcile(uow, settlement_id)


@router.post("/settlements/{settlement_id}/post", summary="Post the settlement to the ledger (once)")
def post(settlement_id: int, actor: Actor = SETTLE) -> dict:
    with UnitOfWork(actor) as uow:
        svc.post_settlement(uow, settlement_id)
        return _detail(uow, settlement_id)
