"""Pulling orders from a platform's order API: job `oms.pull_orders` per shop.

`pull_orders` asks the shop's connector for the orders changed since the shop's stored cursor
(`connector.fetch_since(client, shop.fetch_cursor)`), page after page until the platform says
there is no more. Each page is imported (idempotently, source "api") in the same transaction
that stores the next cursor, so a pull interrupted anywhere resumes where the last committed
page stopped and never skips or doubles an order.
"""

from __future__ import annotations

from collections.abc import Callable

from opensupply.core.db import Database
from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.jobs import JobContext, enqueue, job
from opensupply.core.types import utcnow
from opensupply.core.uow import Actor, UnitOfWork, atomic

from .intake import ImportResult, import_channel_orders
from .models import OmsShop

MAX_PAGES = 10000  # a platform that never says "no more" must not keep a job running for ever


def _client(connector, shop: OmsShop):
    return connector.client(base_url=shop.api_base_url or None, app_key=shop.app_key or "",
                            app_secret=shop.app_secret or "", access_token=shop.access_token or "")


def pull_orders(db: Database | None, actor: Actor, shop_id: int, *, client_factory: Callable | None = None,
                progress: Callable[[int, ImportResult], None] | None = None, max_pages: int = MAX_PAGES) -> dict:
    """Fetch and import every order changed since the shop's cursor. Returns the import totals
    plus `pages` and the final `cursor`."""
    from opensupply.oms.connectors import get_connector

    with UnitOfWork(actor, db=db, readonly=True) as uow:
        shop = uow.get(OmsShop, shop_id)
        if not shop.active:
            raise ValidationFailed(_("店铺 {name} 已停用", name=shop.name), field="shop_id")
        connector = get_connector(shop.channel)
        cursor = shop.fetch_cursor
        client = (client_factory or _client)(connector, shop)
    total = ImportResult()
    pages = 0
    try:
        while pages < max_pages:
            page = connector.fetch_since(client, cursor)
            pages += 1

            def store(uow: UnitOfWork, page=page) -> ImportResult:
                res = import_channel_orders(uow, shop_id, page.orders, source="api")
                s = uow.get(OmsShop, shop_id, for_update=True)
                s.fetch_cursor, s.fetched_at = page.next_cursor, utcnow()
                return res

            total.add(atomic(actor, store, db=db))
            cursor = page.next_cursor
            if progress:
                progress(pages, total)
            if not page.has_more:
                break
    finally:
        close = getattr(client, "close", None)
        if close:
            close()
    return {**total.as_dict(), "pages": pages, "cursor": cursor}


@job("oms.pull_orders")
def _pull_job(ctx: JobContext) -> dict:
    def progress(pages: int, total: ImportResult) -> None:
        ctx.progress(min(95, pages), _("已拉取 {p} 页：新增 {c}，更新 {u}", p=pages, c=total.created, u=total.updated))

    return pull_orders(ctx.db, ctx.actor, int(ctx.params["shop_id"]), progress=progress)


def queue_pull(uow: UnitOfWork, shop_id: int):
    """The "拉取订单" button: a background job for this shop."""
    shop = uow.get(OmsShop, shop_id)
    if not shop.api_base_url and not shop.app_key:
        raise ValidationFailed(_("店铺 {name} 尚未配置平台接口（App Key / 接口地址）", name=shop.name), field="app_key")
    return enqueue(uow, "oms.pull_orders", {"shop_id": shop.id})
