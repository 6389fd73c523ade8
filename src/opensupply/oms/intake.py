"""Order intake: channel orders from files, API pulls and webhooks into `oms_order`, exactly once.

* One order per (shop, platform order number). A replayed feed is a no-op: each order carries the
  hash of what the platform sent (`content_hash`); the same hash again is "unchanged" and writes
  nothing (no audit row, no event, no number taken).
* A changed order still 待审核 (pending) is rewritten: header fields, its lines replaced, its intake
  holds re-evaluated. An order past pending keeps its lines; only the platform status, refund
  status and memos follow the platform, and a refund/cancellation is handed to
  `oms.orders.apply_platform_refund` (which releases stock or intercepts the fulfilment).
* Unknown products never lose an order: a line whose 商家编码 matches neither the shop's
  remembered mapping nor a product SKU is stored with `product_id` NULL and the order is held as
  商品未匹配 until `shops.map_sku` maps the code. Only structurally broken rows (the connector's
  `RowError`s, or an order without usable lines) are rejected, with their file line.
* Holds placed at intake: unmatched_product, address (incomplete address or no usable phone),
  price (nothing paid, no goods value, or paid far below the goods value), buyer_message,
  risk (买家未付款: stored, never approvable until paid). Platform-cancelled orders are stored as
  已取消. `auto_approve` shops: orders without holds are approved through `oms.orders`.

Batch first (ARCHITECTURE §7): per batch one SELECT of the existing orders, one of the mappings
and products, bulk INSERTs (orders with RETURNING ids), one audit row per order created or
updated (`record_many`), timeline rows, and one `oms.orders_imported` event.

`import_file` streams a platform export through its connector in batches, each in its own
transaction; re-running it after a crash converges to the state of one clean run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
import logging
import operator
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import JSON, Boolean, Numeric, bindparam, delete, func, insert, select, update

from opensupply.core.audit import record_many
from opensupply.core.i18n import _
from opensupply.core.jobs import JobContext, job
from opensupply.core.sequences import next_numbers, register_sequence
from opensupply.core.types import Qty, UTCDateTime, utcnow
from opensupply.core.uow import Actor, UnitOfWork, atomic
from opensupply.masterdata.models import Product

from .channel_order import ChannelOrder, RowError
from .models import OmsHold, OmsOrder, OmsOrderEvent, OmsOrderLine, OmsShop, OmsSkuMapping

log = logging.getLogger(__name__)
register_sequence("OMS", "SO{year}-", 7)

ORDER = OmsOrder.__table__
LINE = OmsOrderLine.__table__
HOLD = OmsHold.__table__
EVENT = OmsOrderEvent.__table__
MAPPING = OmsSkuMapping.__table__

INTAKE_HOLDS = ("unmatched_product", "address", "price", "buyer_message", "risk")
RELEASABLE = (*INTAKE_HOLDS, "refund")  # holds a newer platform version may lift
OPEN_STATUSES = ("pending", "approved")  # not yet released to the warehouse
DEFAULT_BATCH = 2000
ZERO = Decimal(0)
PRICE_FLOOR = Decimal("0.3")  # paid below 30 % of the goods value: price hold
CANCELLED_PLATFORM = ("cancelled", "closed")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict] = field(default_factory=list)
    order_ids: list[int] = field(default_factory=list)  # created or updated

    def add(self, other: ImportResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "rejected": sorted(self.rejected, key=lambda r: (r["line"] or 0))}


# ------------------------------------------------------------------ normalization of one order
def _n():
    from opensupply.oms import normalize

    return normalize


def _cut(value, n: int):
    if value is None:
        return None
    value = str(value).strip()
    return value[:n] if value else None


_ORDER_HASHED = ("channel", "channel_order_id", "platform_status", "status", "refund_status", "buyer_nick",
                 "receiver_name", "receiver_phone", "address", "province", "city", "district", "address_detail",
                 "goods_amount", "freight", "discount", "paid_amount", "ordered_at", "paid_at", "promised_ship_by",
                 "buyer_message", "seller_memo", "is_presale")
_LINE_HASHED = ("channel_line_id", "channel_sku", "title", "spec", "quantity", "unit_price", "paid_amount",
                "refund_status", "is_presale")
_order_values_of = operator.attrgetter(*_ORDER_HASHED)
_line_values_of = operator.attrgetter(*_LINE_HASHED)


def content_hash(co: ChannelOrder) -> str:
    """What the platform said about the order, hashed: the same export row twice gives the same hash
    (values as read: strings, Decimals, aware datetimes — their repr is stable)."""
    text = repr((_order_values_of(co), [_line_values_of(ln) for ln in co.lines]))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def _first_line(co: ChannelOrder) -> int | None:
    if co.source_lines:
        return co.source_lines[0]
    for ln in co.lines:
        if ln.source_line:
            return ln.source_line
    return None


def _check(co: ChannelOrder) -> str | None:
    """Why an order cannot be stored at all (a structural problem), or None."""
    if not co.channel_order_id or not str(co.channel_order_id).strip():
        return _("缺少订单编号")
    if len(str(co.channel_order_id)) > 80:
        return _("订单编号过长：{v}", v=str(co.channel_order_id)[:20])
    if not co.lines:
        return _("订单 {id} 没有商品行", id=co.channel_order_id)
    for ln in co.lines:
        try:
            if ln.quantity is None or Decimal(ln.quantity) <= 0:
                return _("订单 {id} 的商品数量必须大于 0", id=co.channel_order_id)
        except (ArithmeticError, TypeError, ValueError):
            return _("订单 {id} 的商品数量无法识别", id=co.channel_order_id)
    return None


def _platform_cancelled(co: ChannelOrder) -> bool:
    if co.status in CANCELLED_PLATFORM:
        return True
    if co.status in ("shipped", "delivered") or co.refund_status not in ("refunded", "none"):
        return False
    return co.lines[0].refund_status == "refunded" and all(ln.refund_status == "refunded" for ln in co.lines)


def _holds_for(co: ChannelOrder, row: dict, unmatched: list[str]) -> list[tuple[str, str | None]]:
    holds: list[tuple[str, str | None]] = []
    if co.status == "unpaid":
        holds.append(("risk", _("买家未付款")))
    if unmatched:
        holds.append(("unmatched_product", _("商品未匹配：{codes}", codes="、".join(unmatched))[:300]))
    if not row["address_complete"]:
        holds.append(("address", _("收货地址不完整")))
    elif row["phone"] is None and not row["_phone_masked"]:
        holds.append(("address", _("收货电话无法识别")))
    paid, goods = row["paid_amount"], row["goods_amount"]
    if co.status != "unpaid" and (paid <= 0 or goods <= 0  # a free gift line (赠品) alone is normal
                                  or (goods > 0 and paid < goods * PRICE_FLOOR)):
        holds.append(("price", _("价格异常：实付 {paid}，商品金额 {goods}", paid=paid, goods=goods)))
    if co.buyer_message and co.buyer_message.strip():
        holds.append(("buyer_message", _("买家留言：{m}", m=co.buyer_message.strip())[:300]))
    if co.refund_status == "requested" or any(ln.refund_status == "requested" for ln in co.lines):
        holds.append(("refund", _("买家申请退款")))
    return holds


@dataclass
class _Prepared:
    co: ChannelOrder
    row: dict
    lines: list[dict]
    holds: list[tuple[str, str | None]]
    cancelled: bool


class _Normalizer:
    """Per-batch normalization with caches (phones, addresses repeat across a feed)."""

    def __init__(self, shop: OmsShop):
        self.shop = shop
        self.nm = _n()
        self.addr_cache: dict = {}

    def address(self, co: ChannelOrder):
        key = (co.address, co.province, co.city, co.district, co.address_detail)
        got = self.addr_cache.get(key)
        if got is None:
            got = self.nm.parse_address(co.address, province=co.province, city=co.city, district=co.district,
                                        detail=co.address_detail)
            if len(self.addr_cache) > 50000:
                self.addr_cache.clear()
            self.addr_cache[key] = got
        return got

    def order_row(self, co: ChannelOrder, hashed: str) -> dict:
        phone, masked = self.nm.normalize_phone(co.receiver_phone)
        addr = self.address(co)
        status = "cancelled" if _platform_cancelled(co) else "pending"
        refund = co.refund_status if co.refund_status in ("none", "requested", "refunded", "closed") else "none"
        goods = Decimal(co.goods_amount or 0)
        if not goods:
            goods = sum((Decimal(ln.unit_price or 0) * Decimal(ln.quantity) for ln in co.lines), ZERO)
        return {
            "channel": co.channel or self.shop.channel, "channel_order_id": str(co.channel_order_id).strip(),
            "platform_status": _cut(co.platform_status, 40), "status": status, "refund_status": refund,
            "buyer_nick": _cut(co.buyer_nick, 120), "receiver_name": _cut(co.receiver_name, 120),
            "receiver_phone": _cut(co.receiver_phone, 60), "phone": phone, "_phone_masked": masked,
            "address": _cut(co.address, 400) or _cut(
                "".join(p for p in (co.province, co.city, co.district, co.address_detail) if p), 400),
            "province": _cut(addr.province, 40), "city": _cut(addr.city, 40), "district": _cut(addr.district, 40),
            "address_detail": _cut(addr.detail, 300), "address_complete": bool(addr.complete),
            "merge_key": self.nm.merge_key(self.shop.id, co.receiver_name, phone, addr),
            "goods_amount": goods, "freight": Decimal(co.freight or 0), "discount": Decimal(co.discount or 0),
            "paid_amount": Decimal(co.paid_amount or 0), "ordered_at": co.ordered_at, "paid_at": co.paid_at,
            "promised_ship_by": co.promised_ship_by, "buyer_message": _cut(co.buyer_message, 500),
            "seller_memo": _cut(co.seller_memo, 500), "is_presale": bool(co.is_presale or any(
                ln.is_presale for ln in co.lines)),
            "content_hash": hashed,
            "cancel_reason": _("平台已取消") if status == "cancelled" else None,
        }


def _line_rows(co: ChannelOrder, products: dict[str, int]) -> tuple[list[dict], list[str]]:
    rows, unmatched = [], []
    for i, ln in enumerate(co.lines, start=1):
        sku = _cut(ln.channel_sku, 120)
        pid = products.get(sku) if sku else None
        if pid is None:
            code = sku or _("(无编码)")
            if code not in unmatched:
                unmatched.append(code)
        refund = ln.refund_status if ln.refund_status in ("none", "requested", "refunded", "closed") else "none"
        rows.append({"line_no": i, "channel_line_id": _cut(ln.channel_line_id, 80), "channel_sku": sku,
                     "title": _cut(ln.title, 300) or "", "spec": _cut(ln.spec, 200), "product_id": pid,
                     "quantity": Decimal(ln.quantity), "unit_price": Decimal(ln.unit_price or 0),
                     "paid_amount": Decimal(ln.paid_amount or 0), "refund_status": refund,
                     "is_presale": bool(ln.is_presale)})
    return rows, unmatched


def match_products(uow: UnitOfWork, shop_id: int, skus: Iterable[str]) -> dict[str, int]:
    """Platform codes → product ids: the shop's remembered mapping first, then a product with that SKU."""
    skus = list({s for s in skus if s})
    found: dict[str, int] = {}
    for i in range(0, len(skus), 900):
        chunk = skus[i:i + 900]
        found.update(uow.session.execute(select(MAPPING.c.channel_sku, MAPPING.c.product_id).where(
            MAPPING.c.shop_id == shop_id, MAPPING.c.channel_sku.in_(chunk))).all())
        rest = [s for s in chunk if s not in found]
        if rest:
            found.update(uow.session.execute(select(Product.sku, Product.id).where(
                Product.company_id == uow.company_id, Product.sku.in_(rest), Product.active.is_(True))).all())
    return found


# ------------------------------------------------------------------ the batch
def import_channel_orders(uow: UnitOfWork, shop_id: int, items: Iterable[ChannelOrder | RowError], *,
                          source: str = "file", batch: str | None = None) -> ImportResult:
    """Store one batch of channel orders for a shop: create new ones, update changed ones, skip
    unchanged ones; rejected = the structural errors with their file line (header = 1)."""
    shop = uow.get(OmsShop, shop_id, for_update=True)  # one import per shop at a time (a push racing a pull)
    result = ImportResult()
    latest: dict[str, ChannelOrder] = {}
    for item in items:
        if isinstance(item, RowError):
            result.rejected.append({"line": item.line, "reason": item.reason})
            continue
        problem = _check(item)
        if problem:
            result.rejected.append({"line": _first_line(item), "reason": problem})
            continue
        latest[str(item.channel_order_id).strip()] = item  # a later version in the same feed wins
    if not latest:
        return result

    hashes = {cid: content_hash(co) for cid, co in latest.items()}
    existing: dict[str, tuple] = {}
    ids = list(latest)
    for i in range(0, len(ids), 900):
        for r in uow.session.execute(select(ORDER.c.channel_order_id, ORDER.c.id, ORDER.c.content_hash,
                                            ORDER.c.status, ORDER.c.refund_status, ORDER.c.merged_into_id)
                                     .where(ORDER.c.shop_id == shop.id, ORDER.c.channel_order_id.in_(ids[i:i + 900]))):
            existing[r[0]] = r
    todo = {cid: co for cid, co in latest.items() if cid not in existing or existing[cid][2] != hashes[cid]}
    result.unchanged = len(latest) - len(todo)
    if not todo:  # a replay: nothing normalized, nothing written
        return result

    norm = _Normalizer(shop)
    skus = {ln.channel_sku.strip() for co in todo.values() for ln in co.lines if ln.channel_sku}
    products = match_products(uow, shop.id, skus)
    new, changed = [], []
    for cid, co in todo.items():
        row = norm.order_row(co, hashes[cid])
        lines, unmatched = _line_rows(co, products)
        holds = [] if row["status"] == "cancelled" else _holds_for(co, row, unmatched)
        del row["_phone_masked"]
        p = _Prepared(co, row, lines, holds, row["status"] == "cancelled")
        if cid in existing:
            changed.append((existing[cid], p))
        else:
            new.append(p)

    batch = batch or uuid.uuid4().hex
    now = utcnow()
    ctx = _Ctx(uow, shop, source, batch, now)
    created_ids = _create(ctx, new) if new else []
    updated_ids = _update(ctx, changed) if changed else []
    result.created, result.updated = len(created_ids), len(updated_ids)
    result.order_ids = created_ids + updated_ids
    ctx.flush()
    if shop.auto_approve and created_ids:
        _auto_approve(uow, [oid for oid, p in zip(created_ids, new, strict=True) if not p.holds and not p.cancelled])
    uow.emit("oms.orders_imported", shop_id=shop.id, channel=shop.channel, source=source, batch=batch,
             created=len(created_ids), updated=len(updated_ids), order_ids=result.order_ids)
    return result


@dataclass
class _Ctx:
    uow: UnitOfWork
    shop: OmsShop
    source: str
    batch: str
    now: dt.datetime
    audit: list = field(default_factory=list)
    events: list = field(default_factory=list)
    holds: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    stamp: dict = field(init=False)

    def __post_init__(self):
        uid = self.uow.actor.user_id
        self.stamp = {"created_at": self.now, "updated_at": self.now, "created_by_id": uid, "updated_by_id": uid}

    def event(self, order_id: int, kind: str, message: str, data: dict | None = None) -> None:
        self.events.append({"company_id": self.shop.company_id, "order_id": order_id, "fulfilment_id": None,
                            "kind": kind, "message": message[:500], "data": data, "at": self.now, **self.stamp})

    def hold(self, order_id: int, kind: str, note: str | None) -> None:
        self.holds.append({"company_id": self.shop.company_id, "order_id": order_id, "kind": kind, "note": note,
                           "released_at": None, "released_by_id": None, **self.stamp})

    def flush(self) -> None:
        s = self.uow.session
        if self.holds:
            bulk_insert(self.uow, HOLD, self.holds)
        if self.events:
            bulk_insert(self.uow, EVENT, self.events)
        record_many(s, self.audit)
        apply_refund = _orders_fn("apply_platform_refund")
        for order_id, line_ids, reason, cancelled in self.refunds:
            if apply_refund is None:
                log.warning("oms.orders.apply_platform_refund missing: refund of order %s not applied", order_id)
                continue
            apply_refund(self.uow, order_id, line_ids=line_ids, reason=reason, cancelled=cancelled)


# ------------------------------------------------------------------ bulk writes
def _sqlite_datetime(value):
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use an aware datetime (UTC)")
    v = value.astimezone(dt.UTC)
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}."
            f"{v.microsecond:06d}")


def _sqlite_float(value):
    return None if value is None else float(value)


def _sqlite_bool(value):
    return None if value is None else int(bool(value))


def _sqlite_json(value):
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _sqlite_converters(table) -> list:
    out = []
    for col in table.columns:
        t = col.type
        if isinstance(t, UTCDateTime):
            out.append(_sqlite_datetime)
        elif isinstance(t, Qty | Numeric):
            out.append(_sqlite_float)
        elif isinstance(t, Boolean):
            out.append(_sqlite_bool)
        elif isinstance(t, JSON):
            out.append(_sqlite_json)
        else:
            out.append(None)
    return out


_SQLITE_INSERT: dict[str, tuple[list[str], list, str]] = {}


def bulk_insert(uow: UnitOfWork, table, rows: list[dict]) -> None:
    """INSERT many rows of one of intake's tables. On SQLite the values are converted exactly as
    the column types would (UTC text timestamps, floats for decimals, 0/1) and handed to the
    driver's executemany: SQLAlchemy's per-row parameter processing is most of an import's cost
    there. Elsewhere a plain Core executemany."""
    if not rows:
        return
    if uow.db.dialect != "sqlite":
        uow.session.execute(insert(table), rows)
        return
    spec = _SQLITE_INSERT.get(table.name)
    if spec is None:
        names = [c.name for c in table.columns]
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608 - names from our own table metadata
        spec = _SQLITE_INSERT[table.name] = (names, _sqlite_converters(table), sql)
    names, convs, sql = spec
    missing = [n for n in names if n not in rows[0]]
    if missing:
        for row in rows:
            for n in missing:
                row.setdefault(n, None)
    getter = operator.itemgetter(*names)
    dt_at = [i for i, c in enumerate(convs) if c is _sqlite_datetime]
    num_at = [i for i, c in enumerate(convs) if c is _sqlite_float]
    bool_at = [i for i, c in enumerate(convs) if c is _sqlite_bool]
    json_at = [i for i, c in enumerate(convs) if c is _sqlite_json]
    seen: dict = {}  # the same timestamps repeat across rows: format each once
    data = []
    for row in rows:
        vals = list(getter(row))
        for i in dt_at:
            v = vals[i]
            if v is not None:
                got = seen.get(v)
                if got is None:
                    got = seen[v] = _sqlite_datetime(v)
                vals[i] = got
        for i in num_at:
            v = vals[i]
            if v is not None:
                vals[i] = float(v)
        for i in bool_at:
            v = vals[i]
            if v is not None:
                vals[i] = 1 if v else 0
        for i in json_at:
            vals[i] = _sqlite_json(vals[i])
        data.append(tuple(vals))
    uow.session.connection().exec_driver_sql(sql, data)


def _orders_fn(name: str) -> Callable | None:
    try:
        mod = importlib.import_module("opensupply.oms.orders")
    except ModuleNotFoundError as exc:
        if exc.name != "opensupply.oms.orders":
            raise
        return None
    return getattr(mod, name, None)


def _order_values(ctx: _Ctx, p: _Prepared) -> dict:
    row = p.row  # built for this use only: filled in place
    row["on_hold"] = bool(p.holds)
    return row


def _audit_after(row: dict) -> dict:
    return {"number": row.get("number"), "channel_order_id": row["channel_order_id"], "status": row["status"],
            "paid_amount": str(row["paid_amount"]), "content_hash": row["content_hash"]}


def _create(ctx: _Ctx, new: list[_Prepared]) -> list[int]:
    uow, shop = ctx.uow, ctx.shop
    numbers = next_numbers(uow, "OMS", len(new))
    rows = []
    for p, number in zip(new, numbers, strict=True):
        row = _order_values(ctx, p)
        row.update(number=number, shop_id=shop.id, company_id=shop.company_id, warehouse_id=shop.default_warehouse_id,
                   source=ctx.source, import_batch=ctx.batch, priority=0, manual_edits=0, merged_into_id=None,
                   **ctx.stamp)
        rows.append(row)
    ids = _insert_returning_ids(uow, ORDER, rows)
    lines = []
    stamp = ctx.stamp
    created_msg = _("从{source}导入订单 {id}", source=_source_label(ctx.source), id="{id}")
    for oid, p, row in zip(ids, new, rows, strict=True):
        for ln in p.lines:
            lines.append({**ln, "order_id": oid, **stamp})
        for kind, note in p.holds:
            ctx.hold(oid, kind, note)
        ctx.audit.append({"action": "create", "entity": "oms_order", "entity_id": oid, "after": _audit_after(row),
                          "company_id": shop.company_id})
        ctx.event(oid, "created", created_msg.format(id=row["channel_order_id"]))
    bulk_insert(uow, LINE, lines)
    return ids


def _insert_returning_ids(uow: UnitOfWork, table, rows: list[dict]) -> list[int]:
    """Bulk INSERT, ids in the order of `rows`. SQLite cannot promise the order of a multi-row
    RETURNING, so SQLAlchemy would insert row by row; there the writer lock is already ours
    (BEGIN IMMEDIATE), so the ids are taken after the current maximum and given explicitly."""
    if uow.db.dialect == "sqlite":
        top = uow.session.execute(select(func.max(table.c.id))).scalar() or 0
        ids = list(range(top + 1, top + 1 + len(rows)))
        for i, row in zip(ids, rows, strict=True):
            row["id"] = i
        bulk_insert(uow, table, rows)
        return ids
    res = uow.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    return [r[0] for r in res]


def _source_label(source: str) -> str:
    return {"file": _("文件"), "api": _("平台接口"), "webhook": _("平台推送"), "manual": _("手工")}.get(source, source)


UPDATE_FIELDS = ("platform_status", "refund_status", "buyer_nick", "receiver_name", "receiver_phone", "phone",
                 "address", "province", "city", "district", "address_detail", "address_complete", "merge_key",
                 "goods_amount", "freight", "discount", "paid_amount", "ordered_at", "paid_at", "promised_ship_by",
                 "buyer_message", "seller_memo", "is_presale", "content_hash")
LATE_FIELDS = ("platform_status", "refund_status", "seller_memo", "buyer_message", "content_hash")


def _update(ctx: _Ctx, changed: list[tuple[tuple, _Prepared]]) -> list[int]:
    uow, shop = ctx.uow, ctx.shop
    s = uow.session
    ids = [ex[1] for ex, _p in changed]
    active: dict[int, dict[str, int]] = {}
    for hid, oid, kind in s.execute(select(HOLD.c.id, HOLD.c.order_id, HOLD.c.kind).where(
            HOLD.c.order_id.in_(ids), HOLD.c.released_at.is_(None))):
        active.setdefault(oid, {})[kind] = hid
    old_lines: dict[int, list] = {}
    late_ids = [ex[1] for ex, _p in changed if ex[3] not in ("pending",)]
    if late_ids:
        for lid, oid, line_no, cli, refund in s.execute(select(
                LINE.c.id, LINE.c.order_id, LINE.c.line_no, LINE.c.channel_line_id, LINE.c.refund_status)
                .where(LINE.c.order_id.in_(late_ids)).order_by(LINE.c.order_id, LINE.c.line_no)):
            old_lines.setdefault(oid, []).append((lid, line_no, cli, refund))
    pending_rows, late_rows, line_refunds, release, replace = [], [], [], [], []
    updated = []
    for (_cid, oid, _hash, status, old_refund, _merged), p in changed:
        row = _order_values(ctx, p)
        before = {"status": status, "refund_status": old_refund, "content_hash": _hash}
        if status == "pending":
            new_status = "cancelled" if p.cancelled else "pending"
            kinds = {k for k, _n in p.holds}
            held = active.get(oid, {})
            for kind, hid in held.items():
                if kind in RELEASABLE and (kind not in kinds or p.cancelled):
                    release.append(hid)
            for kind, note in p.holds:
                if kind not in held:
                    ctx.hold(oid, kind, note)
            still = {k for k in held if k not in RELEASABLE} | kinds
            vals = {k: row[k] for k in UPDATE_FIELDS}
            vals.update(status=new_status, on_hold=bool(still) and not p.cancelled,
                        cancel_reason=row["cancel_reason"] if p.cancelled else None)
            pending_rows.append({"_id": oid, **vals})
            replace.append((oid, p.lines))
            after = {"status": new_status, "refund_status": vals["refund_status"], "content_hash": vals["content_hash"]}
        else:
            vals = {k: row[k] for k in LATE_FIELDS}
            late_rows.append({"_id": oid, **vals})
            lines = old_lines.get(oid, [])
            refunded_now = []
            by_cli = {cli: (lid, ln_no, refund) for lid, ln_no, cli, refund in lines if cli}
            by_no = {ln_no: (lid, ln_no, refund) for lid, ln_no, _cli, refund in lines}
            for ln in p.lines:
                old = by_cli.get(ln["channel_line_id"]) if ln["channel_line_id"] else None
                old = old or by_no.get(ln["line_no"])
                if old is None or old[2] == ln["refund_status"]:
                    continue
                line_refunds.append({"_id": old[0], "refund_status": ln["refund_status"]})
                if ln["refund_status"] in ("requested", "refunded") and old[2] not in ("requested", "refunded"):
                    refunded_now.append(old[0])
            whole = p.cancelled or (vals["refund_status"] in ("requested", "refunded")
                                    and old_refund not in ("requested", "refunded"))
            if status not in ("cancelled",) and (whole or refunded_now):
                reason = _("平台取消订单") if p.cancelled else _("平台退款：{s}", s=p.row["platform_status"] or "")
                ctx.refunds.append((oid, None if whole else refunded_now, reason, p.cancelled))
            after = {"status": status, "refund_status": vals["refund_status"], "content_hash": vals["content_hash"]}
        ctx.audit.append({"action": "update", "entity": "oms_order", "entity_id": oid, "before": before,
                          "after": after, "company_id": shop.company_id})
        ctx.event(oid, "updated", _("平台订单有更新：{s}", s=p.row["platform_status"] or p.co.status),
                  {"source": ctx.source})
        updated.append(oid)
    stamp = {"updated_at": ctx.now, "updated_by_id": uow.actor.user_id}
    if pending_rows:
        cols = [*UPDATE_FIELDS, "status", "on_hold", "cancel_reason"]
        s.execute(update(ORDER).where(ORDER.c.id == bindparam("_id"))
                  .values({c: bindparam(c) for c in cols} | stamp), pending_rows,
                  execution_options={"synchronize_session": False})
        s.execute(delete(LINE).where(LINE.c.order_id.in_([oid for oid, _l in replace])))
        bulk_insert(uow, LINE, [{**ln, "order_id": oid, **ctx.stamp} for oid, lns in replace for ln in lns])
    if late_rows:
        s.execute(update(ORDER).where(ORDER.c.id == bindparam("_id"))
                  .values({c: bindparam(c) for c in LATE_FIELDS} | stamp), late_rows,
                  execution_options={"synchronize_session": False})
    if line_refunds:
        s.execute(update(LINE).where(LINE.c.id == bindparam("_id")).values(refund_status=bindparam("refund_status")),
                  line_refunds, execution_options={"synchronize_session": False})
    if release:
        s.execute(update(HOLD).where(HOLD.c.id.in_(release)).values(released_at=ctx.now,
                                                                      released_by_id=uow.actor.user_id,
                                                                      updated_at=ctx.now))
    return updated


def _auto_approve(uow: UnitOfWork, order_ids: list[int]) -> None:
    if not order_ids:
        return
    approve = _orders_fn("approve_orders") or _orders_fn("approve")
    if approve is None:
        log.info("oms.orders.approve not available: %s orders stay pending", len(order_ids))
        return
    approve(uow, order_ids)


# ------------------------------------------------------------------ holds released by a mapping
def release_intake_holds(uow: UnitOfWork, order_ids: list[int], kind: str) -> int:
    """Release the active `kind` holds of these orders (through `oms.orders.release_hold` when
    it exists) and clear `on_hold` where nothing else holds them. Returns holds released."""
    if not order_ids:
        return 0
    s = uow.session
    hold_ids = list(s.scalars(select(HOLD.c.id).where(HOLD.c.order_id.in_(order_ids), HOLD.c.kind == kind,
                                                      HOLD.c.released_at.is_(None))))
    release_one = _orders_fn("release_hold")
    if release_one is not None:
        for hid in hold_ids:
            release_one(uow, hid)
        return len(hold_ids)
    now = utcnow()
    if hold_ids:
        s.execute(update(HOLD).where(HOLD.c.id.in_(hold_ids)).values(released_at=now, updated_at=now,
                                                                     released_by_id=uow.actor.user_id))
    still = set(s.scalars(select(HOLD.c.order_id).where(HOLD.c.order_id.in_(order_ids),
                                                         HOLD.c.released_at.is_(None))))
    free = [i for i in order_ids if i not in still]
    if free:
        s.execute(update(ORDER).where(ORDER.c.id.in_(free)).values(on_hold=False, updated_at=now))
    return len(hold_ids)


# ------------------------------------------------------------------ a whole file
def import_file(db, actor: Actor, shop: OmsShop | int, path, channel: str | None = None, *,
                batch_size: int = DEFAULT_BATCH, filename: str | None = None,
                progress: Callable[[ImportResult, int], None] | None = None, source: str = "file") -> ImportResult:
    """Stream a platform export through its connector; every `batch_size` orders are imported in
    their own transaction (bounded retries), so memory stays flat and a crash loses at most the
    batch in flight — running the file again converges (imports are idempotent)."""
    from opensupply.oms.connectors import get_connector

    shop_id = shop if isinstance(shop, int) else shop.id
    if channel is None:
        with UnitOfWork(actor, db=db, readonly=True) as uow:
            channel = uow.get(OmsShop, shop_id).channel
    connector = get_connector(channel)
    total = ImportResult()
    pending: list = []
    n_orders = 0
    name = filename or (Path(path).name if isinstance(path, str | Path) else None)
    tag = hashlib.sha1(f"{shop_id}:{name}".encode(), usedforsecurity=False).hexdigest()[:16]

    def run(chunk: list, no: int) -> None:
        res = atomic(actor, import_channel_orders, shop_id, chunk, source=source, batch=f"{tag}-{no}", db=db)
        total.add(res)
        if progress:
            progress(total, n_orders)

    no = 0
    for item in connector.iter_file(path, filename=name):
        pending.append(item)
        if isinstance(item, ChannelOrder):
            n_orders += 1
            if n_orders % batch_size == 0:
                no += 1
                run(pending, no)
                pending = []
    if pending:
        no += 1
        run(pending, no)
    return total



# ------------------------------------------------------------------ preview (upload page)
@dataclass
class Preview:
    orders: list[ChannelOrder]  # the first `limit` orders as read
    errors: list[dict]  # every rejected row: {"line", "reason"}
    total_orders: int = 0
    total_lines: int = 0


def preview_file(channel: str, data, *, filename: str | None = None, limit: int = 20) -> Preview:
    """Read an export without storing anything: the first orders and every row error."""
    from opensupply.oms.connectors import get_connector

    out = Preview([], [])
    for item in get_connector(channel).iter_file(data, filename=filename):
        if isinstance(item, RowError):
            out.errors.append({"line": item.line, "reason": item.reason})
            continue
        problem = _check(item)
        if problem:
            out.errors.append({"line": _first_line(item), "reason": problem})
            continue
        out.total_orders += 1
        out.total_lines += len(item.lines)
        if len(out.orders) < limit:
            out.orders.append(item)
    out.errors.sort(key=lambda e: e["line"] or 0)
    return out


# ------------------------------------------------------------------ a big upload runs as a job
@job("oms.import_file")
def _import_file_job(ctx: JobContext) -> dict:
    """params: path (the stored upload), shop_id, channel, filename, result_path (JSON written at the end)."""
    p = ctx.params

    def progress(total: ImportResult, read: int) -> None:
        ctx.progress(min(95, 5 + read // 1000), _("已读取 {n} 个订单：新增 {c}，更新 {u}，未变 {s}",
                                                   n=read, c=total.created, u=total.updated, s=total.unchanged))

    result = import_file(ctx.db, ctx.actor, int(p["shop_id"]), p["path"], p["channel"], filename=p.get("filename"),
                         progress=progress)
    out = result.as_dict()
    if p.get("result_path"):
        Path(p["result_path"]).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return {k: v if k != "rejected" else len(v) for k, v in out.items()}
