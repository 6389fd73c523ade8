"""Demo OMS data: three shops (淘宝 旗舰店, 京东 自营店, 拼多多 店) with about 40 channel orders
imported through intake — most approved and allocated (so the warehouse has fulfilments to wave),
a few held (unmatched 商家编码, incomplete address), one merged pair, one order shipped and
signed for, one with an after-sales return."""

from __future__ import annotations

import logging

from opensupply.core.errors import DomainError
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

log = logging.getLogger(__name__)

SHOPS = (("taobao", "云杉家居淘宝旗舰店", 16), ("jd", "云杉家居京东自营店", 14), ("pdd", "云杉家居拼多多店", 10))
SKUS = ["YS-CUP-350", "YS-CUP-500", "YS-TOWEL-01", "YS-PILLOW-48", "YS-BOX-L", "YS-HANGER-10"]


def seed(uow: UnitOfWork, company: md.Company) -> None:
    from sqlalchemy import select

    from opensupply.oms import allocation, intake, samples, shops
    from opensupply.oms import fulfilments as ful
    from opensupply.oms import orders as oo
    from opensupply.oms.models import OmsOrder

    have = set(uow.session.scalars(select(md.Product.sku).where(md.Product.company_id == company.id,
                                                               md.Product.sku.in_(SKUS))))
    skus = [s for s in SKUS if s in have]
    if not skus:
        return
    all_ids: list[int] = []
    for channel, name, n in SHOPS:
        shop = shops.get_or_create_shop(uow, channel=channel, name=name)
        orders = list(samples.sample_orders(channel, orders=n, seed=11, skus=skus, messy=True, mergeable=0.2))
        intake.import_channel_orders(uow, shop.id, orders, source="file", batch="demo")
        ids = list(uow.session.scalars(select(OmsOrder.id).where(OmsOrder.company_id == company.id,
                                                                 OmsOrder.shop_id == shop.id)
                                       .order_by(OmsOrder.id)))
        if channel == "jd":
            for o in uow.session.scalars(select(OmsOrder).where(OmsOrder.id.in_(ids[:3]))):
                o.priority = 10  # 京东 PLUS members first
        all_ids += ids
    uow.flush()

    # a clerk has read most buyer messages already (two are left to read)
    from opensupply.oms.models import OmsHold

    notes = list(uow.session.scalars(select(OmsHold).where(
        OmsHold.company_id == company.id, OmsHold.kind == "buyer_message", OmsHold.released_at.is_(None))
        .order_by(OmsHold.id)))
    for h in notes[:-2]:
        oo.release_hold(uow, h.id)

    def pending_free() -> list[OmsOrder]:
        return list(uow.session.scalars(select(OmsOrder).where(
            OmsOrder.company_id == company.id, OmsOrder.status == "pending", OmsOrder.on_hold.is_(False))
            .order_by(OmsOrder.id)))

    # one merged pair: two orders of one recipient in one shop
    seen: dict[tuple, int] = {}
    merged = None
    for o in pending_free():
        key = (o.shop_id, o.merge_key)
        if o.merge_key and key in seen:
            try:
                with uow.session.begin_nested():
                    merged = oo.merge_orders(uow, [seen[key], o.id])
                break
            except DomainError:
                continue
        seen[key] = o.id
    # an address to fix by hand (when intake found none)
    if not uow.session.scalar(select(OmsOrder.id).where(OmsOrder.company_id == company.id,
                                                         OmsOrder.on_hold.is_(True)).limit(1)):
        free = pending_free()
        if free:
            oo.place_hold(uow, free[-1].id, "address", "门牌号缺失，请联系买家确认")
    free = pending_free()
    keep_pending = {o.id for o in free[-4:]}  # a few left for the 审核 button
    oo.approve_orders(uow, [o.id for o in free if o.id not in keep_pending])
    approved = list(uow.session.scalars(select(OmsOrder.id).where(OmsOrder.company_id == company.id,
                                                                  OmsOrder.status == "approved")
                                        .order_by(OmsOrder.id)))
    to_allocate = approved[:-3] if len(approved) > 6 else approved  # a few stay 已审核
    if merged is not None:
        to_allocate = sorted(set(to_allocate) | {merged.id})
    allocation.allocate_orders(uow, to_allocate)
    # one parcel already out and signed for, one out with a return on its way back
    fids = [f.id for f in ful.list_fulfilments(uow, status="allocated", limit=50)[0]]
    fids = [fid for fid in fids if all(to_ship > 0 for to_ship in
                                      (fl.qty_reserved for fl in ful.get_fulfilment(uow, fid).lines))]
    for i, fid in enumerate(sorted(fids)[:2]):
        try:
            with uow.session.begin_nested():
                f = ful.ship(uow, fid, tracking_number=f"SF14{company.id:03d}{i:07d}")
                if i == 0:
                    ful.mark_delivered(uow, f.id)
                else:
                    oid = next(fl.order_id for fl in f.lines if fl.order_id)
                    from opensupply.oms import returns

                    returns.create_return(uow, oid, reason="七天无理由退货", tracking_number="YT9988776655")
        except DomainError as exc:  # demo data must not stop the demo
            log.warning("OMS demo could not ship %s: %s", fid, exc.message)
    uow.flush()
