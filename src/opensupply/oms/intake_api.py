"""Intake endpoints under /api/v1/oms/: file imports (multipart), shops and their settings, the
pull button, SKU mappings and the unmatched codes. Thin: parse, call the services, return JSON."""

from __future__ import annotations

import io

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from opensupply.core.db import get_database
from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.resource_api import read_upload
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata.models import Product

from . import intake, pull, shops
from .models import OmsShop

router = APIRouter(prefix="/oms", tags=["oms intake"])
READ = Depends(require("oms.read"))
WRITE = Depends(require("oms.write"))
ADMIN = Depends(require("oms.admin"))


# ------------------------------------------------------------------ imports
def _import(actor: Actor, channel: str | None, shop_id: int | None, shop_name: str | None, name: str,
            data: bytes) -> dict:
    with UnitOfWork(actor) as uow:
        if shop_id:
            shop = uow.get(OmsShop, shop_id)
        elif channel:
            shop = shops.get_or_create_shop(uow, channel=channel, name=shop_name)
        else:
            raise ValidationFailed(_("请选择店铺或渠道"), field="channel")
        if channel and channel != shop.channel:
            raise ValidationFailed(_("店铺 {name} 属于渠道 {ch}", name=shop.name, ch=shops.channel_label(shop.channel)),
                                   field="channel")
        sid, ch = shop.id, shop.channel
    result = intake.import_file(get_database(), actor, sid, io.BytesIO(data), ch, filename=name)
    return {"shop_id": sid, "channel": ch, **result.as_dict()}


@router.post("/imports", summary="Import a platform order export (CSV/XLSX, multipart); idempotent")
async def import_orders(file: UploadFile = File(...), channel: str | None = Form(None),
                        shop_id: int | None = Form(None), shop: str | None = Form(None, description="shop name"),
                        actor: Actor = WRITE) -> dict:
    name, data = read_upload(file)
    return await run_in_threadpool(_import, actor, (channel or "").strip().lower() or None, shop_id, shop, name, data)


# ------------------------------------------------------------------ shops
class ShopIn(BaseModel):
    channel: str
    name: str | None = None
    code: str | None = None


class ShopPatch(BaseModel):
    name: str | None = None
    default_warehouse_id: int | None = None
    auto_approve: bool | None = None
    merge_enabled: bool | None = None
    price_includes_tax: bool | None = None
    tax_rate: str | None = None
    api_base_url: str | None = None
    app_key: str | None = None
    app_secret: str | None = None
    access_token: str | None = None
    active: bool | None = None


@router.get("/shops", summary="Shops (sales channels' stores)")
def list_shops(q: str | None = None, limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0),
               actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = shops.list_shops(uow, q=q, limit=limit, offset=offset)
        return {"items": [shops.shop_out(s) for s in rows], "total": total}


@router.post("/shops", status_code=201, summary="Create a shop (or return the existing one with that name)")
def create_shop(body: ShopIn, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return shops.shop_out(shops.get_or_create_shop(uow, channel=body.channel, name=body.name, code=body.code))


@router.get("/shops/{shop_id}", summary="One shop; credentials masked")
def get_shop(shop_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return shops.shop_out(uow.get(OmsShop, shop_id))


@router.patch("/shops/{shop_id}", summary="Change a shop's settings (empty secrets keep their value)")
def update_shop(shop_id: int, body: ShopPatch, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return shops.shop_out(shops.update_shop(uow, shop_id, shops.ShopSettings(**body.model_dump())))


@router.post("/shops/{shop_id}/pull", status_code=202, summary="Pull the shop's orders from the platform (a job)")
def pull_shop(shop_id: int, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        j = pull.queue_pull(uow, shop_id)
        return {"job_id": j.id, "status": j.status}


# ------------------------------------------------------------------ SKU mapping
class MappingIn(BaseModel):
    shop_id: int
    channel_sku: str
    product_id: int | None = None
    sku: str | None = None
    quantity: str = "1"


@router.get("/sku-mappings", summary="Remembered platform code → product mappings")
def list_mappings(shop_id: int | None = None, q: str | None = None, limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items, total = shops.list_mappings(uow, shop_id, q=q, limit=limit, offset=offset)
        return {"items": items, "total": total}


@router.get("/sku-mappings/unmatched", summary="Codes on open orders that match no product, with counts")
def unmatched(shop_id: int | None = None, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        items = shops.unmatched_skus(uow, shop_id)
        return {"items": items, "total": len(items)}


@router.post("/sku-mappings", summary="Map a platform code to a product; fixes and releases open orders")
def map_sku(body: MappingIn, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        product_id = body.product_id
        if product_id is None:
            if not body.sku:
                raise ValidationFailed(_("请选择商品"), field="product_id")
            from sqlalchemy import select

            product_id = uow.session.scalar(select(Product.id).where(Product.company_id == uow.company_id,
                                                                     Product.sku == body.sku.strip()))
            if product_id is None:
                raise ValidationFailed(_("商品不存在：{sku}", sku=body.sku), field="sku")
        fixed = shops.map_sku(uow, body.shop_id, body.channel_sku, product_id, body.quantity)
        return {"shop_id": body.shop_id, "channel_sku": body.channel_sku.strip(), "product_id": product_id,
                "orders_fixed": fixed}


@router.delete("/sku-mappings/{mapping_id}", status_code=204,
               summary="Forget a mapping (orders already matched keep their product)")
def delete_mapping(mapping_id: int, actor: Actor = WRITE) -> None:
    with UnitOfWork(actor) as uow:
        shops.delete_mapping(uow, mapping_id)
