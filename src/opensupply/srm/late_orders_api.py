"""GET /api/v1/srm/late-orders: open purchase orders past their promised (else expected) date."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from opensupply.core.http import require
from opensupply.core.uow import Actor, UnitOfWork

from . import late_orders as svc

router = APIRouter(prefix="/srm", tags=["srm"])
READ = Depends(require("srm.read"))


def row_out(r: dict) -> dict:
    return {"id": r["id"], "number": r["number"], "supplier_id": r["supplier_id"], "supplier_code": r["supplier_code"],
            "supplier": r["supplier"], "order_date": r["order_date"].isoformat(),
            "expected_date": r["expected_date"].isoformat() if r["expected_date"] else None,
            "promised_date": r["promised_date"].isoformat() if r["promised_date"] else None,
            "due_date": r["due_date"].isoformat(), "days_late": r["days_late"], "ordered": str(r["ordered"]),
            "received": str(r["received"]), "open_quantity": str(r["open_quantity"]), "confirmed": r["confirmed"],
            "in_transit": None if r.get("in_transit") is None else str(r["in_transit"]),
            "arriving": r["arriving"].isoformat() if r.get("arriving") else None}


@router.get("/late-orders", summary="Open purchase orders past their promised (else expected) delivery date")
def list_late_orders(q: str | None = None, supplier_id: int | None = None, min_days: int = Query(1, ge=0),
                     limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                     actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = svc.late_orders(uow, q=q, supplier_id=supplier_id, min_days=min_days, limit=limit,
                                      offset=offset)
        return {"items": [row_out(r) for r in rows], "total": total}
