"""Channel orders for intake tests, built by hand (connector-independent), and a table dump to
compare database states (ids kept, timestamps left out)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from opensupply.core.db import Base
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.oms import shops
from opensupply.oms.channel_order import ChannelOrder, ChannelOrderLine

PAID = dt.datetime(2026, 11, 20, 2, 30, tzinfo=dt.UTC)
STAMPS = {"created_at", "updated_at", "at", "released_at", "processed_at", "dispatched_at", "next_attempt_at"}
INTAKE_TABLES = ("oms_order", "oms_order_line", "oms_hold", "oms_order_event", "audit_log", "outbox_event",
                 "sequence", "oms_shop", "partner")


def order(cid: str, *lines: tuple[str | None, int | str, str | int], channel="taobao", **kw) -> ChannelOrder:
    """An order with lines (sku, quantity, unit price); a complete Hangzhou address by default."""
    lns = [ChannelOrderLine(quantity=Decimal(str(q)), channel_sku=sku, title=f"商品 {sku}", unit_price=Decimal(str(p)),
                            paid_amount=Decimal(str(p)) * Decimal(str(q)), channel_line_id=f"{cid}-{i}",
                            source_line=i + 2)
           for i, (sku, q, p) in enumerate(lines or [("SKU-A", 1, "99")])]
    total = sum((ln.paid_amount for ln in lns), Decimal(0))
    data = dict(channel=channel, channel_order_id=cid, lines=lns, platform_status="买家已付款，等待卖家发货",
                status="paid", buyer_nick="tb_buyer", receiver_name="张三", receiver_phone="+86-138 0013 8000",
                address="浙江省杭州市余杭区文一西路969号", goods_amount=total, paid_amount=total, paid_at=PAID,
                ordered_at=PAID, source_lines=[ln.source_line for ln in lns])
    data.update(kw)
    return ChannelOrder(**data)


def shop(db, company_id: int, channel: str = "taobao", name: str | None = None, **settings) -> int:
    with UnitOfWork(Actor.system(company_id), db=db) as uow:
        s = shops.get_or_create_shop(uow, channel=channel, name=name)
        for k, v in settings.items():
            setattr(s, k, v)
        return s.id


def dump(db, tables=INTAKE_TABLES, *, skip=STAMPS) -> dict[str, list[tuple]]:
    out = {}
    with db.sessionmaker() as s:
        for name in tables:
            t = Base.metadata.tables[name]
            cols = [c for c in t.columns if c.name not in skip]
            out[name] = [tuple(r) for r in s.execute(select(*cols).order_by(*t.primary_key.columns))]
    return out
