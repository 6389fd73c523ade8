"""Page: 集团内部交易 — mirrored documents both ways and the exception list with 重试."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import service as svc

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission("erp.read"))
URLS = {svc.SO: "/erp/sales-orders/{id}", svc.PO: "/erp/purchase-orders/{id}"}


def kind_label(kind: str) -> str:
    return _("销售订单") if kind == svc.SO else _("采购订单")


@router.get("/erp/intercompany")
def intercompany_page(p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        me = uow.company_id
        links = svc.list_links(uow)
        exceptions = svc.list_exceptions(uow, state="open")
    return render(p, "erp/intercompany.html", links=links, exceptions=exceptions, urls=URLS, me=me,
                  kind_label=kind_label)


@router.post("/erp/intercompany/exceptions/{exception_id}/retry")
def retry_page(exception_id: int, p: Page = READ):
    try:
        with UnitOfWork(p.actor) as uow:
            link = svc.retry(uow, exception_id)
            number = link.target_number if link else None
    except DomainError as exc:
        return redirect("/erp/intercompany", exc.message, kind="error")
    if number:
        return redirect("/erp/intercompany", _("已生成 {n}", n=number))
    return redirect("/erp/intercompany", _("仍未能生成，原因见异常列表"), kind="error")
