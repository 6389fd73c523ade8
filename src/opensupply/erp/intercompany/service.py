"""Mirroring of inter-company documents between the companies of one group.

A partner of company A whose ``represents_company_id`` is company B *is* B (集团内部往来单位). When A
confirms a sales order to it, B gets a draft purchase order from the partner that stands for A —
same products (matched by SKU), quantities, net prices, VAT rates and currency; when A confirms a
purchase order to it, B gets a draft sales order. B reviews and confirms its draft as usual.

* Event handlers on ``erp.sales_order_confirmed`` / ``erp.purchase_order_confirmed`` call
  ``mirror_sales_order`` / ``mirror_purchase_order`` acting as the system user of B.
* Idempotent: ``erp_intercompany_link`` has one row per source document, so a replayed event (or a
  second retry) finds it and creates nothing.
* No loops: a document that is itself a mirror (a link's target) is never mirrored back.
* Nothing half-made: the draft is built inside a savepoint; any refusal (a SKU B does not have, no
  partner in B standing for A, different currencies …) rolls it back and is recorded on the
  exception list (``erp_intercompany_exception``) that both companies see; ``retry`` tries again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import or_, select

from opensupply.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from opensupply.core.events import Event, subscribe
from opensupply.core.i18n import _
from opensupply.core.types import to_decimal, utcnow
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.purchasing.models import PurchaseOrder
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import SalesOrder
from opensupply.masterdata import models as md
from opensupply.masterdata.service import same_group

from .models import IntercompanyException, IntercompanyLink

SO, PO = "sales_order", "purchase_order"
MODULE_TAG = "intercompany"  # created_by_module of a mirrored sales order
PRICE_PLACES = Decimal("0.000001")


class MirrorRefused(ValidationFailed):
    """The document cannot be mirrored as it stands; the reason goes on the exception list."""


@contextmanager
def acting_as(uow: UnitOfWork, company_id: int) -> Iterator[None]:
    """Run the block as the system user of another company of the group, on the same transaction.
    Company-scoped caches of the session (its time zone) are swapped with the actor."""
    saved_actor, saved_tz = uow.actor, uow.session.info.pop("company_tz", None)
    uow.actor = Actor.system(company_id)
    try:
        yield
    finally:
        uow.session.info.pop("company_tz", None)
        if saved_tz is not None:
            uow.session.info["company_tz"] = saved_tz
        uow.actor = saved_actor


# ------------------------------------------------------------------ reading
def link_of_source(uow: UnitOfWork, kind: str, doc_id: int) -> IntercompanyLink | None:
    return uow.session.scalar(select(IntercompanyLink).where(IntercompanyLink.source_kind == kind,
                                                             IntercompanyLink.source_id == doc_id))


def is_mirror(uow: UnitOfWork, kind: str, doc_id: int) -> bool:
    return uow.session.scalar(select(IntercompanyLink.id).where(IntercompanyLink.target_kind == kind,
                                                                IntercompanyLink.target_id == doc_id)) is not None


def _company_names(uow: UnitOfWork, ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return {cid: f"{code} {name}" for cid, code, name in uow.session.execute(
        select(md.Company.id, md.Company.code, md.Company.name).where(md.Company.id.in_(ids)))}


def _visible(uow: UnitOfWork, company_id: int) -> bool:
    return uow.actor.is_superuser or company_id == uow.company_id or company_id in uow.actor.company_ids


def counterpart(uow: UnitOfWork, kind: str, doc_id: int) -> dict | None:
    """The linked document in the other company (the mirror of this one, or the one this mirrors), as
    {company, kind, id, number, role: "mirror"|"source"}; the other company is named only when the
    user may work in it."""
    row = uow.session.scalar(select(IntercompanyLink).where(or_(
        (IntercompanyLink.source_kind == kind) & (IntercompanyLink.source_id == doc_id)
        & (IntercompanyLink.source_company_id == uow.company_id),
        (IntercompanyLink.target_kind == kind) & (IntercompanyLink.target_id == doc_id)
        & (IntercompanyLink.target_company_id == uow.company_id))))
    if row is None:
        return None
    mine_is_source = row.source_kind == kind and row.source_id == doc_id
    other = row.target_company_id if mine_is_source else row.source_company_id
    visible = _visible(uow, other)
    return {"role": "mirror" if mine_is_source else "source", "company_id": other if visible else None,
            "company": _company_names(uow, [other]).get(other, "") if visible else "",
            "kind": row.target_kind if mine_is_source else row.source_kind,
            "id": (row.target_id if mine_is_source else row.source_id) if visible else None,
            "number": row.target_number if mine_is_source else row.source_number}


def _link_dict(row, names) -> dict:
    return {"id": row.id, "source_company_id": row.source_company_id, "target_company_id": row.target_company_id,
            "source_company": names.get(row.source_company_id, ""), "source_kind": row.source_kind,
            "source_id": row.source_id, "source_number": row.source_number,
            "target_company": names.get(row.target_company_id, ""), "target_kind": row.target_kind,
            "target_id": row.target_id, "target_number": row.target_number, "created_at": row.created_at}


def list_links(uow: UnitOfWork, *, limit: int = 100, offset: int = 0) -> list[dict]:
    """The acting company's mirrored documents, in either direction (newest first)."""
    me = uow.company_id
    rows = list(uow.session.scalars(select(IntercompanyLink).where(or_(
        IntercompanyLink.source_company_id == me, IntercompanyLink.target_company_id == me))
        .order_by(IntercompanyLink.id.desc()).limit(limit).offset(offset)))
    names = _company_names(uow, [r.source_company_id for r in rows] + [r.target_company_id for r in rows])
    return [_link_dict(r, names) for r in rows]


def list_exceptions(uow: UnitOfWork, *, state: str | None = "open") -> list[dict]:
    """Documents of or for the acting company that could not be mirrored."""
    me = uow.company_id
    stmt = select(IntercompanyException).where(or_(IntercompanyException.source_company_id == me,
                                                   IntercompanyException.target_company_id == me))
    if state:
        stmt = stmt.where(IntercompanyException.state == state)
    rows = list(uow.session.scalars(stmt.order_by(IntercompanyException.id.desc())))
    names = _company_names(uow, [r.source_company_id for r in rows] + [r.target_company_id for r in rows])
    return [{"id": r.id, "source_company": names.get(r.source_company_id, ""), "source_kind": r.source_kind,
             "source_id": r.source_id, "source_number": r.source_number, "mine": r.source_company_id == me,
             "target_company": names.get(r.target_company_id, ""), "state": r.state, "message": r.message,
             "attempts": r.attempts, "updated_at": r.updated_at} for r in rows]


# ------------------------------------------------------------------ mirroring
def _partner_for(uow: UnitOfWork, company_id: int, role: str) -> md.Partner:
    """In the acting company: the active partner that stands for `company_id` and can play `role`."""
    partner = uow.session.scalar(select(md.Partner).where(md.Partner.company_id == uow.company_id,
                                                          md.Partner.represents_company_id == company_id))
    names = _company_names(uow, [company_id, uow.company_id])
    if partner is None or not partner.active:
        raise MirrorRefused(_("{target} 没有代表 {source} 的往来单位", target=names[uow.company_id],
                              source=names[company_id]), field="represents_company_id")
    if not getattr(partner, f"is_{role}"):
        what = _("供应商") if role == "supplier" else _("客户")
        raise MirrorRefused(_("{target} 的往来单位 {code} 不是{role}", target=names[uow.company_id],
                              code=partner.code, role=what), field="represents_company_id")
    return partner


def _products_by_sku(uow: UnitOfWork, skus: list[str]) -> dict[str, int]:
    """The acting company's products for these SKUs; every missing SKU named in one refusal."""
    found = dict(uow.session.execute(select(md.Product.sku, md.Product.id).where(
        md.Product.company_id == uow.company_id, md.Product.sku.in_(set(skus)))).all())
    missing = sorted(set(skus) - set(found))
    if missing:
        name = _company_names(uow, [uow.company_id])[uow.company_id]
        raise MirrorRefused(_("{company} 没有这些商品编码（SKU）：{skus}", company=name, skus="、".join(missing)),
                            field="sku")
    return found


def _skus(uow: UnitOfWork, product_ids) -> dict[int, str]:
    return dict(uow.session.execute(select(md.Product.id, md.Product.sku).where(
        md.Product.id.in_(set(product_ids)))).all())


def _same_currency(partner: md.Partner, currency: str, number: str) -> None:
    if (partner.currency_code or "CNY").upper() != (currency or "CNY").upper():
        raise MirrorRefused(_("{n} 的币种 {a} 与对方往来单位 {code} 的币种 {b} 不同", n=number, a=currency,
                              code=partner.code, b=partner.currency_code), field="currency_code")


def _build_purchase_order(uow: UnitOfWork, so: SalesOrder, source_company: int) -> PurchaseOrder:
    """In the acting (buying) company: the draft purchase order mirroring sales order `so`."""
    supplier = _partner_for(uow, source_company, "supplier")
    _same_currency(supplier, so.currency_code, so.number)
    skus = _skus(uow, [ln.product_id for ln in so.lines])
    products = _products_by_sku(uow, list(skus.values()))
    lines = [purchasing.OrderLineIn(
        product=products[skus[ln.product_id]], quantity=to_decimal(ln.quantity),
        unit_price=(to_decimal(ln.amount_untaxed) / to_decimal(ln.quantity)).quantize(PRICE_PLACES),
        tax_rate=to_decimal(ln.tax_rate) * 100) for ln in so.lines]
    names = _company_names(uow, [source_company])
    return purchasing.create_order(uow, supplier.id, lines, order_date=so.order_date, expected_date=so.requested_date,
                                   notes=_("集团内部交易：{company} 销售订单 {n}", company=names[source_company],
                                           n=so.number))


def _build_sales_order(uow: UnitOfWork, po: PurchaseOrder, source_company: int) -> SalesOrder:
    """In the acting (selling) company: the draft sales order mirroring purchase order `po`."""
    customer = _partner_for(uow, source_company, "customer")
    _same_currency(customer, po.currency_code, po.number)
    skus = _skus(uow, [ln.product_id for ln in po.lines])
    products = _products_by_sku(uow, list(skus.values()))
    lines = [sales.SalesLineIn(product_id=products[skus[ln.product_id]], quantity=to_decimal(ln.quantity),
                               unit_price=to_decimal(ln.unit_price), tax_rate=to_decimal(ln.tax_rate))
             for ln in po.lines]
    names = _company_names(uow, [source_company])
    requested = po.expected_date if po.expected_date and po.expected_date >= po.order_date else None
    return sales.create_sales_order(uow, customer_id=customer.id, lines=lines, channel="direct",
                                    source_ref=po.number, price_includes_tax=False, order_date=po.order_date,
                                    requested_date=requested, created_by_module=MODULE_TAG,
                                    notes=_("集团内部交易：{company} 采购订单 {n}", company=names[source_company],
                                            n=po.number))


def _mirror(uow: UnitOfWork, kind: str, doc, partner: md.Partner) -> IntercompanyLink | None:
    existing = link_of_source(uow, kind, doc.id)
    if existing is not None:  # replayed event or second retry
        return existing
    if is_mirror(uow, kind, doc.id):  # a mirror never mirrors back
        return None
    source, target = uow.company_id, partner.represents_company_id
    try:
        with uow.session.begin_nested():
            if not same_group(uow, source, target):
                raise MirrorRefused(_("{code} 代表的公司已不在本集团", code=partner.code))
            with acting_as(uow, target):
                built = _build_purchase_order(uow, doc, source) if kind == SO else _build_sales_order(uow, doc, source)
            link = IntercompanyLink(source_company_id=source, source_kind=kind, source_id=doc.id,
                                    source_number=doc.number, target_company_id=target,
                                    target_kind=PO if kind == SO else SO, target_id=built.id,
                                    target_number=built.number, created_at=utcnow())
            uow.session.add(link)
            uow.session.flush()
    except DomainError as exc:
        _record_exception(uow, kind, doc, target, exc.message)
        return None
    for row in uow.session.scalars(select(IntercompanyException).where(
            IntercompanyException.source_kind == kind, IntercompanyException.source_id == doc.id)):
        row.state = "resolved"
    uow.flush()
    return link


def _record_exception(uow: UnitOfWork, kind: str, doc, target: int, message: str) -> None:
    row = uow.session.scalar(select(IntercompanyException).where(IntercompanyException.source_kind == kind,
                                                                 IntercompanyException.source_id == doc.id))
    if row is None:
        uow.session.add(IntercompanyException(source_company_id=uow.company_id, source_kind=kind, source_id=doc.id,
                                              source_number=doc.number, target_company_id=target,
                                              state="open", message=str(message), attempts=1))
    else:
        row.state, row.message, row.attempts = "open", str(message), (row.attempts or 0) + 1
    uow.flush()


def mirror_sales_order(uow: UnitOfWork, sales_order_id: int) -> IntercompanyLink | None:
    """A confirmed sales order of the acting company to an inter-company customer → draft purchase order
    in that company. Returns the link (the existing one when already mirrored), None when there is
    nothing to mirror or it was refused (then it is on the exception list)."""
    so = uow.get(SalesOrder, sales_order_id)
    partner = so.customer
    if partner.represents_company_id is None or so.state not in ("confirmed", "done"):
        return None
    return _mirror(uow, SO, so, partner)


def mirror_purchase_order(uow: UnitOfWork, purchase_order_id: int) -> IntercompanyLink | None:
    """A confirmed purchase order to an inter-company supplier → draft sales order in that company."""
    po = uow.get(PurchaseOrder, purchase_order_id)
    partner = uow.get(md.Partner, po.supplier_id)
    if partner.represents_company_id is None or po.state not in ("confirmed", "done"):
        return None
    return _mirror(uow, PO, po, partner)


def retry(uow: UnitOfWork, exception_id: int) -> IntercompanyLink | None:
    """Try an open exception of the acting company's document again (after adding the SKU, the partner …)."""
    row = uow.session.get(IntercompanyException, exception_id)
    if row is None or row.source_company_id != uow.company_id:
        raise NotFound(_("内部交易异常不存在：#{id}", id=exception_id))
    if row.state != "open":
        raise Conflict(_("该异常已处理"), field="state")
    if not uow.actor.can("erp.sales" if row.source_kind == SO else "erp.purchase"):
        raise PermissionDenied(_("没有权限：{permission}",
                                 permission="erp.sales" if row.source_kind == SO else "erp.purchase"))
    fn = mirror_sales_order if row.source_kind == SO else mirror_purchase_order
    return fn(uow, row.source_id)


def check_kind(kind: str) -> str:
    if kind not in (SO, PO):
        raise ValidationFailed(_("单据类型不正确：{v}", v=kind), field="kind")
    return kind


# ------------------------------------------------------------------ event handlers
@subscribe("erp.sales_order_confirmed", "erp.intercompany.mirror_sales_order")
def _on_sales_order_confirmed(uow: UnitOfWork, ev: Event) -> None:
    if ev.payload.get("created_by_module") == MODULE_TAG:  # itself a mirror: confirming it mirrors nothing
        return
    mirror_sales_order(uow, int(ev.payload["sales_order_id"]))


@subscribe("erp.purchase_order_confirmed", "erp.intercompany.mirror_purchase_order")
def _on_purchase_order_confirmed(uow: UnitOfWork, ev: Event) -> None:
    mirror_purchase_order(uow, int(ev.payload["purchase_order_id"]))
