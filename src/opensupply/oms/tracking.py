"""Tracking numbers back to the platform (回传运单号).

``ship`` queues the job ``oms.push_tracking`` (``queue_push``); the job writes the tracking number of
every channel order on the fulfilment back through ``oms.connectors.get_connector(channel).push_shipment``
when the shop has API settings, else it records that the number has to be uploaded by hand
(批量发货 file on the platform's seller centre). Each order gets a timeline row either way; the
fulfilment's ``pushed_at`` is set once every order of it went through.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from opensupply.core import jobs
from opensupply.core.i18n import _
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork

from . import orders as oo
from .models import OmsFulfilment, OmsOrder, OmsOrderEvent, OmsShop

log = logging.getLogger(__name__)
JOB = "oms.push_tracking"


def queue_push(uow: UnitOfWork, fulfilment: OmsFulfilment) -> None:
    """Queue the push-back of a shipped fulfilment's tracking number (channel orders only)."""
    if fulfilment.shop_id is None:
        return
    jobs.enqueue(uow, JOB, {"fulfilment_id": fulfilment.id})


def carrier_code(uow: UnitOfWork, carrier_id: int | None) -> str:
    if not carrier_id:
        return "OTHER"
    from opensupply.masterdata.models import Partner

    p = uow.session.get(Partner, carrier_id)
    return (p.code if p is not None else "OTHER") or "OTHER"


def _client(shop: OmsShop):
    from opensupply.oms.connectors import client_for_shop

    return client_for_shop(shop)


def has_api(shop: OmsShop) -> bool:
    """Push-back needs the shop's app key and access token (the platform's endpoint is the default)."""
    return bool(shop.app_key and shop.access_token)


def push_fulfilment(uow: UnitOfWork, fulfilment_id: int) -> dict:
    """Write the tracking number back for each channel order on the fulfilment. Returns counts
    {"pushed", "manual", "failed"}; a platform error is recorded on the order and retried on the
    next run (orders already pushed are skipped)."""
    f = uow.get(OmsFulfilment, int(fulfilment_id))
    out = {"pushed": 0, "manual": 0, "failed": 0}
    if f.shop_id is None or not f.tracking_number or f.status not in ("shipped", "delivered"):
        return out
    shop = uow.get(OmsShop, f.shop_id)
    order_ids = sorted({fl.order_id for fl in f.lines if fl.order_id})
    done = {oid for (oid,) in uow.session.execute(select(OmsOrderEvent.order_id).where(
        OmsOrderEvent.fulfilment_id == f.id, OmsOrderEvent.kind == "tracking_pushed"))}
    client = None
    for oid in order_ids:
        if oid in done:
            continue
        order = uow.get(OmsOrder, oid)
        if not has_api(shop):
            oo.add_event(uow, order_id=oid, fulfilment_id=f.id, kind="tracking_manual",
                         message=_("店铺未配置接口，请在平台后台手工上传运单号 {t}", t=f.tracking_number))
            out["manual"] += 1
            continue
        try:
            from opensupply.oms.connectors import get_connector

            client = client or _client(shop)
            get_connector(shop.channel).push_shipment(client, order.channel_order_id,
                                                      carrier_code(uow, f.carrier_id), f.tracking_number)
        except Exception as exc:  # any platform failure is recorded on the order and retried later
            msg = getattr(exc, "message", None) or str(exc)
            oo.add_event(uow, order_id=oid, fulfilment_id=f.id, kind="tracking_failed",
                         message=_("运单号回传失败：{e}", e=msg[:300]))
            out["failed"] += 1
            continue
        oo.add_event(uow, order_id=oid, fulfilment_id=f.id, kind="tracking_pushed",
                     message=_("运单号 {t} 已回传平台", t=f.tracking_number))
        out["pushed"] += 1
    if client is not None and hasattr(client, "close"):
        client.close()
    if out["failed"] == 0 and out["manual"] == 0:
        f.pushed_at = utcnow()
    uow.flush()
    return out


@jobs.job(JOB)
def _push_job(ctx: jobs.JobContext) -> dict:
    from opensupply.core.uow import atomic

    return atomic(ctx.actor, push_fulfilment, int(ctx.params["fulfilment_id"]), db=ctx.db)


def manual_upload_rows(uow: UnitOfWork, shop_id: int) -> list[list[str]]:
    """订单编号, 物流公司, 运单号 of shipped fulfilments not pushed yet (a platform bulk-ship file)."""
    from .models import OmsFulfilmentLine

    f, fl = OmsFulfilment, OmsFulfilmentLine
    rows = uow.session.execute(
        select(OmsOrder.channel_order_id, f.carrier_id, f.tracking_number).join(fl, fl.order_id == OmsOrder.id)
        .join(f, f.id == fl.fulfilment_id)
        .where(f.company_id == uow.company_id, f.shop_id == shop_id, f.status.in_(("shipped", "delivered")),
               f.pushed_at.is_(None)).distinct()).all()
    return [[coid, carrier_code(uow, cid), tn] for coid, cid, tn in rows]
