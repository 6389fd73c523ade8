"""Intake pages under /oms/: upload an export (preview with the first orders and every row
error → confirm → result with counts and the rejected rows as CSV; big files run as a job),
shops and their settings (credentials masked, webhook address, "拉取订单"), and SKU mapping
(unmatched codes with counts → map to a product). Same services as the API."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.config import get_settings
from opensupply.core.db import get_database
from opensupply.core.errors import DomainError, NotFound, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.jobs import Job, enqueue
from opensupply.core.resource_api import read_upload
from opensupply.core.tabular import write_csv
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render

from . import intake, pull, shops
from .models import CHANNELS, OmsShop

router = APIRouter(prefix="/oms", include_in_schema=False)
READ = Depends(page_permission("oms.read"))
WRITE = Depends(page_permission("oms.write"))
ADMIN = Depends(page_permission("oms.admin"))
TOKEN = re.compile(r"^[0-9a-f]{32}$")
JOB_THRESHOLD_BYTES = 2 * 1024 * 1024  # bigger uploads are imported by a background job
PREVIEW_ORDERS = 20


def _channels() -> list[tuple[str, str]]:
    return [(c, shops.channel_label(c)) for c in CHANNELS]


def _shops(uow: UnitOfWork) -> list[OmsShop]:
    return list(uow.session.scalars(select(OmsShop).where(OmsShop.company_id == uow.company_id,
                                                          OmsShop.active.is_(True)).order_by(OmsShop.code)))


# ------------------------------------------------------------------ stored uploads
def _dir() -> Path:
    path = get_settings().ensure_data_dir() / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _meta(p: Page, token: str) -> dict:
    if not TOKEN.match(token or ""):
        raise NotFound(_("导入记录不存在"))
    path = _dir() / f"{token}.meta.json"
    if not path.is_file():
        raise NotFound(_("导入记录不存在"))
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("company_id") != p.actor.company_id:
        raise NotFound(_("导入记录不存在"))
    return meta


def _save_meta(token: str, meta: dict) -> None:
    (_dir() / f"{token}.meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _result(token: str) -> dict | None:
    path = _dir() / f"{token}.result.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


# ------------------------------------------------------------------ upload → preview → confirm
def _form(p: Page, *, error: str | None = None, values: dict | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        shop_list = _shops(uow)
    return render(p, "oms/intake_new.html", status_code=status, title=_("导入订单"), shops=shop_list,
                  channels=_channels(), error=error, values=values or {},
                  max_mb=get_settings().max_upload_mb)


@router.get("/imports/new")
def new_import(p: Page = WRITE):
    return _form(p)


def _resolve_shop(p: Page, values: dict) -> tuple[int, str, str]:
    with UnitOfWork(p.actor) as uow:
        if values["shop"].isdigit():
            shop = uow.get(OmsShop, int(values["shop"]))
        elif values["channel"] in CHANNELS:
            shop = shops.get_or_create_shop(uow, channel=values["channel"], name=values["shop_name"] or None)
        else:
            raise ValidationFailed(_("请选择店铺，或选择渠道以新建店铺"), field="shop")
        return shop.id, shop.channel, shop.name


@router.post("/imports/preview")
async def preview(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: (form.get(k) or "").strip() for k in ("shop", "channel", "shop_name")}
    upload = form.get("file")

    def run():
        if upload is None or not hasattr(upload, "filename") or not upload.filename:
            raise ValidationFailed(_("请选择文件"), field="file")
        name, data = read_upload(upload)
        shop_id, channel, shop_name = _resolve_shop(p, values)
        pv = intake.preview_file(channel, data, filename=name, limit=PREVIEW_ORDERS)
        token = uuid.uuid4().hex
        suffix = ".xlsx" if name.lower().endswith(".xlsx") else ".csv"
        (_dir() / f"{token}{suffix}").write_bytes(data)
        _save_meta(token, {"company_id": p.actor.company_id, "user_id": p.actor.user_id, "shop_id": shop_id,
                           "channel": channel, "filename": name, "file": f"{token}{suffix}", "size": len(data),
                           "orders": pv.total_orders, "errors": len(pv.errors)})
        return token, shop_name, channel, name, pv

    try:
        token, shop_name, channel, name, pv = await run_in_threadpool(run)
    except DomainError as exc:
        return _form(p, error=exc.message, values=values, status=422)
    return render(p, "oms/intake_preview.html", title=_("导入预览"), token=token, shop_name=shop_name,
                  channel_label=shops.channel_label(channel), filename=name, preview=pv,
                  show_buyer=p.actor.can("oms.buyer_data"))


@router.post("/imports/{token}/confirm")
async def confirm(token: str, p: Page = WRITE):
    meta = _meta(p, token)
    path = _dir() / meta["file"]
    if meta.get("job_id") or _result(token) is not None:
        return redirect(f"/oms/imports/{token}")
    if meta["size"] > JOB_THRESHOLD_BYTES:
        with UnitOfWork(p.actor) as uow:
            j = enqueue(uow, "oms.import_file", {"path": str(path), "shop_id": meta["shop_id"],
                                                 "channel": meta["channel"], "filename": meta["filename"],
                                                 "result_path": str(_dir() / f"{token}.result.json")})
            meta["job_id"] = j.id
        _save_meta(token, meta)
        return redirect(f"/oms/imports/{token}", _("文件较大，已转入后台导入"))

    def run() -> dict:
        result = intake.import_file(get_database(), p.actor, meta["shop_id"], path, meta["channel"],
                                    filename=meta["filename"])
        out = result.as_dict()
        (_dir() / f"{token}.result.json").write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
        return out

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect(f"/oms/imports/{token}", exc.message, kind="error")
    return redirect(f"/oms/imports/{token}", _("导入完成"))


@router.get("/imports/{token}")
def result_page(token: str, p: Page = WRITE):
    meta = _meta(p, token)
    result = _result(token)
    job = None
    if result is None and meta.get("job_id"):
        with UnitOfWork(p.actor, readonly=True) as uow:
            job = uow.session.get(Job, meta["job_id"])
    with UnitOfWork(p.actor, readonly=True) as uow:
        shop = uow.session.get(OmsShop, meta["shop_id"])
    return render(p, "oms/intake_result.html", title=_("导入结果"), token=token, meta=meta, result=result, job=job,
                  shop=shop, channel_label=shops.channel_label(meta["channel"]))


@router.get("/imports/{token}/rejected.csv")
def rejected_csv(token: str, p: Page = WRITE):
    _meta(p, token)
    result = _result(token) or {"rejected": []}
    body = write_csv([_("行号"), _("原因")], [[r["line"], r["reason"]] for r in result["rejected"]])
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="rejected-{token[:8]}.csv"'})


# ------------------------------------------------------------------ shops
@router.get("/shops")
def shops_page(request: Request, p: Page = ADMIN):
    q = request.query_params.get("q") or None
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = shops.list_shops(uow, q=q, limit=500)
        items = [shops.shop_out(s) for s in rows]
    return render(p, "oms/shop_list.html", title=_("店铺设置"), items=items, total=total, q=q or "",
                  channels=_channels())


@router.post("/shops")
async def create_shop(request: Request, p: Page = ADMIN):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            shop = shops.get_or_create_shop(uow, channel=(form.get("channel") or "").strip(),
                                            name=(form.get("name") or "").strip() or None,
                                            code=(form.get("code") or "").strip() or None)
            sid = shop.id
    except DomainError as exc:
        return redirect("/oms/shops", exc.message, kind="error")
    return redirect(f"/oms/shops/{sid}", _("店铺已保存"))


def _shop_page(p: Page, shop_id: int, *, error: str | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        shop = uow.get(OmsShop, shop_id)
        out = shops.shop_out(shop)
        warehouses = list(uow.session.scalars(select(md.Warehouse).where(md.Warehouse.company_id == uow.company_id)
                                              .order_by(md.Warehouse.code)))
        unmatched = shops.unmatched_skus(uow, shop_id, limit=20)
        mappings, n_map = shops.list_mappings(uow, shop_id, limit=20)
    base = str(p.request.base_url).rstrip("/")
    return render(p, "oms/shop_detail.html", status_code=status, title=out["name"], shop=out, warehouses=warehouses,
                  unmatched=unmatched, mappings=mappings, n_map=n_map, error=error,
                  webhook_url=base + out["webhook_path"])


@router.get("/shops/{shop_id}")
def shop_page(shop_id: int, p: Page = ADMIN):
    return _shop_page(p, shop_id)


def _flag(form, name: str) -> bool:
    return form.get(name) in ("on", "1", "true", "yes")


@router.post("/shops/{shop_id}")
async def save_shop(shop_id: int, request: Request, p: Page = ADMIN):
    form = await request.form()
    wh = (form.get("default_warehouse_id") or "").strip()
    data = shops.ShopSettings(
        name=form.get("name"), default_warehouse_id=int(wh) if wh.isdigit() else None,
        auto_approve=_flag(form, "auto_approve"), merge_enabled=_flag(form, "merge_enabled"),
        active=_flag(form, "active"),
        price_includes_tax=_flag(form, "price_includes_tax"), tax_rate=form.get("tax_rate"),
        api_base_url=form.get("api_base_url") or "", app_key=form.get("app_key") or "",
        app_secret=form.get("app_secret") or None, access_token=form.get("access_token") or None)
    try:
        with UnitOfWork(p.actor) as uow:
            shops.update_shop(uow, shop_id, data)
    except DomainError as exc:
        return _shop_page(p, shop_id, error=exc.message, status=422)
    return redirect(f"/oms/shops/{shop_id}", _("店铺设置已保存"))


@router.post("/shops/{shop_id}/pull")
def pull_now(shop_id: int, p: Page = ADMIN):
    try:
        with UnitOfWork(p.actor) as uow:
            j = pull.queue_pull(uow, shop_id)
            job_id = j.id
    except DomainError as exc:
        return redirect(f"/oms/shops/{shop_id}", exc.message, kind="error")
    return redirect(f"/jobs/{job_id}", _("已开始拉取订单"))


@router.post("/shops/{shop_id}/rotate-secret")
def rotate_secret(shop_id: int, p: Page = ADMIN):
    with UnitOfWork(p.actor) as uow:
        shops.rotate_webhook_secret(uow, shop_id)
    return redirect(f"/oms/shops/{shop_id}", _("推送密钥已更换，请同步到平台"))


# ------------------------------------------------------------------ SKU mapping
@router.get("/sku-mappings")
def mappings_page(request: Request, p: Page = WRITE):
    qp = request.query_params
    shop_id = int(qp["shop"]) if (qp.get("shop") or "").isdigit() else None
    with UnitOfWork(p.actor, readonly=True) as uow:
        shop_list = _shops(uow)
        unmatched = shops.unmatched_skus(uow, shop_id)
        mappings, total = shops.list_mappings(uow, shop_id, q=qp.get("q") or None, limit=200)
    names = {s.id: s.name for s in shop_list}
    return render(p, "oms/shop_mappings.html", title=_("商品编码映射"), shops=shop_list, names=names,
                  unmatched=unmatched, mappings=mappings, total=total, filters=qp, shop_id=shop_id)


@router.post("/sku-mappings")
async def map_code(request: Request, p: Page = WRITE):
    form = await request.form()
    shop_id = (form.get("shop_id") or "").strip()
    code = (form.get("channel_sku") or "").strip()
    product = (form.get("product") or "").strip()
    back = f"/oms/sku-mappings?shop={shop_id}"
    try:
        with UnitOfWork(p.actor) as uow:
            pid = uow.session.scalar(select(md.Product.id).where(md.Product.company_id == uow.company_id,
                                                                 md.Product.sku == product))
            if pid is None and product.isdigit():
                pid = uow.get(md.Product, int(product)).id
            if pid is None:
                raise ValidationFailed(_("商品不存在：{sku}", sku=product), field="product")
            if not shop_id.isdigit():
                raise ValidationFailed(_("请选择店铺"), field="shop_id")
            fixed = shops.map_sku(uow, int(shop_id), code, pid, form.get("quantity") or "1")
    except DomainError as exc:
        return redirect(back, exc.message, kind="error")
    return redirect(back, _("已映射 {code}，更新了 {n} 个订单", code=code, n=fixed))


@router.post("/sku-mappings/{mapping_id}/delete")
def delete_mapping(mapping_id: int, p: Page = WRITE):
    try:
        with UnitOfWork(p.actor) as uow:
            shops.delete_mapping(uow, mapping_id)
    except DomainError as exc:
        return redirect("/oms/sku-mappings", exc.message, kind="error")
    return redirect("/oms/sku-mappings", _("映射已删除"))
