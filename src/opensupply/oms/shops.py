"""Shops (a store on a channel) and their intake settings, and the SKU mapping that teaches the
OMS which of our products a platform item code (商家编码 / 平台SKU) means.

* `get_or_create_shop` — the shop an import or the CLI `--shop NAME` names, created on first use
  together with its platform-customer partner (through master data's service): the ERP sales
  orders of the shop's channel orders are made out to that partner.
* `update_shop` — settings: default warehouse, auto-approve, merge, tax, platform API
  credentials (shown masked), webhook secret.
* `unmatched_skus` — the codes of open orders that match no product, with their counts.
* `map_sku` — remember code → product for the shop, fix the open orders' lines, and release
  their 商品未匹配 holds when nothing else is unmatched.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.types import to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata import resources as mdr

from .models import CHANNELS, OmsOrder, OmsOrderEvent, OmsOrderLine, OmsShop, OmsSkuMapping

CHANNEL_LABELS = {"taobao": _l("淘宝"), "tmall": _l("天猫"), "jd": _l("京东"), "pdd": _l("拼多多"),
                  "miniapp": _l("小程序"), "generic": _l("通用")}
SECRET_FIELDS = ("app_secret", "access_token")
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))


def mask(value: str | None) -> str:
    """A credential as a settings page shows it: the last 4 characters."""
    if not value:
        return ""
    return "******" + value[-4:] if len(value) > 8 else "******"


def _check_channel(channel: str) -> str:
    channel = (channel or "").strip().lower()
    if channel not in CHANNELS:
        raise ValidationFailed(_("渠道只能是：{v}", v=" / ".join(CHANNELS)), field="channel")
    return channel


def shop_by_code(uow: UnitOfWork, code: str) -> OmsShop:
    shop = uow.session.scalars(select(OmsShop).where(OmsShop.company_id == uow.company_id,
                                                     OmsShop.code == code)).first()
    if shop is None:
        raise NotFound(_("店铺不存在：{code}", code=code))
    return shop


def list_shops(uow: UnitOfWork, *, q: str | None = None, limit: int = 100,
               offset: int = 0) -> tuple[list[OmsShop], int]:
    stmt = select(OmsShop).where(OmsShop.company_id == uow.company_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(OmsShop.code.ilike(like) | OmsShop.name.ilike(like) | OmsShop.channel.ilike(like))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(OmsShop.code).limit(limit).offset(offset)))
    return rows, total


def _new_code(uow: UnitOfWork, channel: str) -> str:
    base = channel.upper()
    taken = set(uow.session.scalars(select(OmsShop.code).where(OmsShop.company_id == uow.company_id,
                                                               OmsShop.code.like(f"{base}%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def get_or_create_shop(uow: UnitOfWork, *, channel: str, name: str | None = None, code: str | None = None) -> OmsShop:
    """The shop called `name` (or with `code`) on `channel`; created on first use with its
    platform-customer partner. Default name: the channel's label (淘宝, 京东 …)."""
    channel = _check_channel(channel)
    name = (name or "").strip() or channel_label(channel)
    stmt = select(OmsShop).where(OmsShop.company_id == uow.company_id)
    if code:
        stmt = stmt.where(OmsShop.code == code.strip())
    else:
        stmt = stmt.where(OmsShop.channel == channel, OmsShop.name == name)
    shop = uow.session.scalars(stmt.order_by(OmsShop.id)).first()
    if shop is not None:
        if shop.channel != channel:
            raise Conflict(_("店铺 {code} 属于渠道 {ch}，不是 {want}", code=shop.code, ch=channel_label(shop.channel),
                             want=channel_label(channel)), field="channel")
        return shop
    code = (code or "").strip() or _new_code(uow, channel)
    if not CODE_RE.match(code):
        raise ValidationFailed(_("店铺编码只能包含字母、数字、-、_、.（最多 40 位）：{v}", v=code), field="code")
    partner = _platform_customer(uow, code, name, channel)
    shop = OmsShop(company_id=uow.company_id, code=code, name=name[:120], channel=channel, customer_id=partner.id,
                   default_warehouse_id=_default_warehouse(uow), auto_approve=False, merge_enabled=True,
                   price_includes_tax=True, tax_rate=Decimal("0.13"), app_secret=secrets.token_hex(16), active=True)
    uow.session.add(shop)
    uow.session.flush()
    return shop


def _platform_customer(uow: UnitOfWork, code: str, name: str, channel: str) -> md.Partner:
    pcode = f"SHOP-{code}"[:40]
    found = uow.session.scalars(select(md.Partner).where(md.Partner.company_id == uow.company_id,
                                                         md.Partner.code == pcode)).first()
    if found is not None:
        return found
    return rs.create_record(uow, mdr.partners, {
        "code": pcode, "name": _("{name}（{channel}平台消费者）", name=name, channel=channel_label(channel))[:200],
        "is_customer": True, "notes": _("OMS 店铺 {code} 的渠道订单开给此客户", code=code)})


def _default_warehouse(uow: UnitOfWork) -> int | None:
    return uow.session.scalar(select(md.Warehouse.id).where(md.Warehouse.company_id == uow.company_id)
                              .order_by(md.Warehouse.id).limit(1))


@dataclass
class ShopSettings:
    name: str | None = None
    default_warehouse_id: int | None = None
    auto_approve: bool | None = None
    merge_enabled: bool | None = None
    price_includes_tax: bool | None = None
    tax_rate: str | Decimal | None = None
    api_base_url: str | None = None
    app_key: str | None = None
    app_secret: str | None = None  # None or "" = keep; also the webhook signing secret
    access_token: str | None = None
    active: bool | None = None


def update_shop(uow: UnitOfWork, shop_id: int, data: ShopSettings) -> OmsShop:
    """Change a shop's settings; secrets left empty keep their current value."""
    shop = uow.get(OmsShop, shop_id, for_update=True)
    if data.name is not None:
        if not data.name.strip():
            raise ValidationFailed(_("店铺名称不能为空"), field="name")
        shop.name = data.name.strip()[:120]
    if data.default_warehouse_id is not None:
        wh = uow.session.get(md.Warehouse, data.default_warehouse_id)
        if wh is None or wh.company_id != uow.company_id:
            raise ValidationFailed(_("仓库不存在：#{id}", id=data.default_warehouse_id), field="default_warehouse_id")
        shop.default_warehouse_id = wh.id
    for flag in ("auto_approve", "merge_enabled", "price_includes_tax", "active"):
        value = getattr(data, flag)
        if value is not None:
            setattr(shop, flag, bool(value))
    if data.tax_rate is not None and str(data.tax_rate).strip() != "":
        try:
            rate = to_decimal(data.tax_rate)
        except ArithmeticError:
            raise ValidationFailed(_("税率无法识别：{v}", v=data.tax_rate), field="tax_rate") from None
        if rate > 1:
            rate = rate / 100  # 13 → 0.13
        if not 0 <= rate < 1:
            raise ValidationFailed(_("税率应在 0 到 100% 之间"), field="tax_rate")
        shop.tax_rate = rate
    if data.api_base_url is not None:
        url = data.api_base_url.strip()
        if url and not url.startswith(("http://", "https://")):
            raise ValidationFailed(_("接口地址应以 http:// 或 https:// 开头"), field="api_base_url")
        shop.api_base_url = url or None
    if data.app_key is not None:
        shop.app_key = data.app_key.strip() or None
    for secret in SECRET_FIELDS:
        value = getattr(data, secret)
        if value:
            setattr(shop, secret, value.strip())
    uow.session.flush()
    return shop


def rotate_webhook_secret(uow: UnitOfWork, shop_id: int) -> str:
    shop = uow.get(OmsShop, shop_id, for_update=True)
    shop.app_secret = secrets.token_hex(16)
    uow.session.flush()
    return shop.app_secret


def shop_out(shop: OmsShop) -> dict:
    return {"id": shop.id, "code": shop.code, "name": shop.name, "channel": shop.channel,
            "channel_label": channel_label(shop.channel), "customer_id": shop.customer_id,
            "default_warehouse_id": shop.default_warehouse_id, "auto_approve": shop.auto_approve,
            "merge_enabled": shop.merge_enabled, "price_includes_tax": shop.price_includes_tax,
            "tax_rate": str(shop.tax_rate), "api_base_url": shop.api_base_url, "app_key": shop.app_key,
            "app_secret": mask(shop.app_secret), "access_token": mask(shop.access_token),
            "fetch_cursor": shop.fetch_cursor, "fetched_at": shop.fetched_at.isoformat() if shop.fetched_at else None,
            "active": shop.active, "webhook_path": f"/api/v1/webhooks/oms/{shop.code}"}


# ------------------------------------------------------------------ SKU mapping
OPEN = ("pending", "approved")


def unmatched_skus(uow: UnitOfWork, shop_id: int | None = None, *, limit: int = 500) -> list[dict]:
    """Codes on lines of open orders that match no product: code, shop, a title, line and order counts."""
    line, order = OmsOrderLine, OmsOrder
    stmt = (select(order.shop_id, line.channel_sku, func.max(line.title), func.count(line.id),
                   func.count(func.distinct(order.id)))
            .join(order, order.id == line.order_id)
            .where(order.company_id == uow.company_id, order.status.in_(OPEN), line.product_id.is_(None))
            .group_by(order.shop_id, line.channel_sku).order_by(func.count(line.id).desc()).limit(limit))
    if shop_id:
        stmt = stmt.where(order.shop_id == shop_id)
    return [{"shop_id": s, "channel_sku": sku, "title": title, "lines": n, "orders": o}
            for s, sku, title, n, o in uow.session.execute(stmt)]


def list_mappings(uow: UnitOfWork, shop_id: int | None = None, *, q: str | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[list[dict], int]:
    m, p = OmsSkuMapping, md.Product
    stmt = (select(m.id, m.shop_id, m.channel_sku, m.product_id, m.quantity, p.sku, p.name)
            .join(p, p.id == m.product_id).where(m.company_id == uow.company_id))
    if shop_id:
        stmt = stmt.where(m.shop_id == shop_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(m.channel_sku.ilike(like) | p.sku.ilike(like) | p.name.ilike(like))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.execute(stmt.order_by(m.shop_id, m.channel_sku).limit(limit).offset(offset))
    return [{"id": i, "shop_id": s, "channel_sku": c, "product_id": pid, "quantity": str(qty), "product_sku": sku,
             "product_name": name} for i, s, c, pid, qty, sku, name in rows], total


def map_sku(uow: UnitOfWork, shop_id: int, channel_sku: str, product_id: int, quantity=1) -> int:
    """Remember that `channel_sku` of this shop is `quantity` × product, put the product on the
    open orders' unmatched lines with that code, and release their 商品未匹配 hold where no other
    line is unmatched. Returns how many orders had lines fixed."""
    from .intake import release_intake_holds

    shop = uow.get(OmsShop, shop_id)
    code = (channel_sku or "").strip()
    if not code:
        raise ValidationFailed(_("请填写平台商品编码"), field="channel_sku")
    product = uow.get(md.Product, int(product_id))
    try:
        qty = to_decimal(quantity)
    except ArithmeticError:
        raise ValidationFailed(_("数量无法识别：{v}", v=quantity), field="quantity") from None
    if qty <= 0:
        raise ValidationFailed(_("每件平台商品对应的数量必须大于 0"), field="quantity")
    mapping = uow.session.scalars(select(OmsSkuMapping).where(OmsSkuMapping.shop_id == shop.id,
                                                              OmsSkuMapping.channel_sku == code)).first()
    if mapping is None:
        uow.add(OmsSkuMapping(shop_id=shop.id, channel_sku=code[:120], product_id=product.id, quantity=qty))
    else:
        mapping.product_id, mapping.quantity = product.id, qty
    uow.session.flush()
    s = uow.session
    order_ids = sorted(set(s.scalars(select(OmsOrderLine.order_id).join(
        OmsOrder, OmsOrder.id == OmsOrderLine.order_id).where(
        OmsOrder.shop_id == shop.id, OmsOrder.status.in_(OPEN), OmsOrderLine.channel_sku == code,
        OmsOrderLine.product_id.is_(None)))))
    if not order_ids:
        return 0
    now = utcnow()
    s.execute(update(OmsOrderLine).where(OmsOrderLine.order_id.in_(order_ids), OmsOrderLine.channel_sku == code,
                                         OmsOrderLine.product_id.is_(None))
              .values(product_id=product.id, updated_at=now), execution_options={"synchronize_session": False})
    still = set(s.scalars(select(OmsOrderLine.order_id).where(OmsOrderLine.order_id.in_(order_ids),
                                                               OmsOrderLine.product_id.is_(None))))
    fixed = [i for i in order_ids if i not in still]
    release_intake_holds(uow, fixed, "unmatched_product")
    from opensupply.core.audit import record_many

    record_many(s, [{"action": "update", "entity": "oms_order", "entity_id": i,
                     "after": {"mapped_sku": code, "product_id": product.id}} for i in order_ids])
    s.add_all([OmsOrderEvent(company_id=uow.company_id, order_id=i, kind="sku_mapped",
                             message=_("商品编码 {code} 已对应到 {sku} {name}", code=code, sku=product.sku,
                                       name=product.name)[:500], at=now) for i in order_ids])
    s.flush()
    s.expire_all()
    uow.emit("oms.sku_mapped", shop_id=shop.id, channel_sku=code, product_id=product.id, order_ids=order_ids)
    return len(order_ids)


def delete_mapping(uow: UnitOfWork, mapping_id: int) -> None:
    mapping = uow.get(OmsSkuMapping, mapping_id)
    uow.session.delete(mapping)
    uow.session.flush()
