"""WMS inbound-side pages under /wms/: the PDA shell (/wms/pda) and its scanning flows
(receive, putaway, move, count), receipts and putaway tasks, replenishment, cycle counts and
the in/out reports. Thin: they call the services in inbound.py, putaway.py, internal.py,
counts.py and reports.py."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import render

from .models import WmsTask

router = APIRouter(prefix="/wms", include_in_schema=False)
READ = Depends(page_permission("wms.read"))
WRITE = Depends(page_permission("wms.write"))
APPROVE = Depends(page_permission("wms.approve"))
STATIC = Path(__file__).resolve().parent / "static"


# ------------------------------------------------------------------ PDA shell
@router.get("/pda/pda.js")
def pda_js(p: Page = WRITE):
    return Response((STATIC / "pda.js").read_bytes(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


def _warehouses(uow: UnitOfWork) -> list[md.Warehouse]:
    return list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id)
                                    .order_by(md.Warehouse.id)))


def _open_tasks(uow: UnitOfWork, warehouse_id: int | None) -> dict[str, int]:
    stmt = (select(WmsTask.kind, func.count()).where(WmsTask.company_id == uow.company_id,
                                                     WmsTask.state.in_(("open", "assigned")))
            .group_by(WmsTask.kind))
    if warehouse_id:
        stmt = stmt.where(WmsTask.warehouse_id == warehouse_id)
    return dict(uow.session.execute(stmt).all())


@router.get("/pda")
def pda_home(request: Request, p: Page = WRITE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        warehouses = _warehouses(uow)
        wanted = request.query_params.get("warehouse")
        warehouse_id = int(wanted) if wanted and wanted.isdigit() else (warehouses[0].id if warehouses else None)
        counts = _open_tasks(uow, warehouse_id)
    q = f"?warehouse={warehouse_id}" if warehouse_id else ""
    flows = [
        {"code": "receive", "label": _("收货"), "url": f"/wms/pda/receive{q}", "count": None},
        {"code": "putaway", "label": _("上架"), "url": f"/wms/pda/putaway{q}", "count": counts.get("putaway", 0)},
        {"code": "pick", "label": _("拣货"), "url": f"/wms/pda/pick{q}", "count": counts.get("pick", 0)},
        {"code": "pack", "label": _("打包"), "url": f"/wms/pack{q}", "count": None},
        {"code": "move", "label": _("移库"), "url": f"/wms/pda/move{q}", "count": None},
        {"code": "replenish", "label": _("补货"), "url": f"/wms/pda/replenish{q}",
         "count": counts.get("replenish", 0)},
        {"code": "count", "label": _("盘点"), "url": f"/wms/pda/count{q}", "count": counts.get("count", 0)},
    ]
    return render(p, "wms/pda_home.html", title=_("PDA 扫描"), flows=flows, warehouses=warehouses,
                  warehouse_id=warehouse_id)
