"""Inter-company orders mirror themselves into the other company of the group: a confirmed sales order
becomes the buyer's draft purchase order and a confirmed purchase order the seller's draft sales
order — linked both ways, once per document, never bounced back, and a SKU the other company lacks
lands on the exception list with nothing half-made."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opensupply.core import events
from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.erp.intercompany import service as ic
from opensupply.erp.intercompany.models import IntercompanyLink
from opensupply.erp.purchasing import service as purchasing
from opensupply.erp.purchasing.models import PurchaseOrder
from opensupply.erp.sales import service as sales
from opensupply.erp.sales.models import SalesOrder
from opensupply.masterdata import resources
from tests import factories as f
from tests.erp.intercompany import factories as fg

D = Decimal


def _sell_to_b(g, qty="10", price="100", product=None):
    with g.uow(g.a) as uow:
        so = sales.create_sales_order(uow, customer_id=g.b_in_a, lines=[sales.SalesLineIn(
            product_id=product or g.a_cup, quantity=qty, unit_price=price, tax_rate="13")], confirm=True)
        return so.id, so.number


def _count(g, company, model) -> int:
    with g.uow(company, readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(model.company_id == company))


def test_a_sales_order_to_b_becomes_bs_draft_purchase_order_linked_both_ways(db):
    g = fg.group(db)
    so_id, so_number = _sell_to_b(g)

    with g.uow(g.b, readonly=True) as uow:
        po = uow.session.scalars(select(PurchaseOrder).where(PurchaseOrder.company_id == g.b)).one()
        assert po.state == "draft" and po.supplier_id == g.a_in_b and po.currency_code == "CNY"
        assert [(ln.product_id, ln.quantity, ln.unit_price, ln.tax_rate) for ln in po.lines] == [
            (g.b_cup, D(10), D(100), D(13))]
        assert (po.untaxed, po.tax, po.total) == (D("1000"), D("130"), D("1130"))
        assert so_number in po.notes
        back = ic.counterpart(uow, "purchase_order", po.id)
        assert back["role"] == "source" and back["number"] == so_number and back["kind"] == "sales_order"
        po_id, po_number = po.id, po.number
    with g.uow(g.a, readonly=True) as uow:
        forth = ic.counterpart(uow, "sales_order", so_id)
        assert forth == {**forth, "role": "mirror", "kind": "purchase_order", "id": po_id, "number": po_number}


def test_a_purchase_order_to_b_becomes_bs_draft_sales_order(db):
    g = fg.group(db)
    with g.uow(g.a) as uow:
        po = purchasing.create_order(uow, g.b_in_a, [purchasing.OrderLineIn(g.a_cup, "5", "80", "13")])
        purchasing.confirm_order(uow, po.id)
        po_number = po.number

    with g.uow(g.b, readonly=True) as uow:
        so = uow.session.scalars(select(SalesOrder).where(SalesOrder.company_id == g.b)).one()
        assert so.state == "draft" and so.customer_id == g.a_in_b and so.source_ref == po_number
        assert [(ln.product_id, ln.quantity, ln.unit_price, ln.tax_rate) for ln in so.lines] == [
            (g.b_cup, D(5), D(80), D("0.13"))]
        assert (so.amount_untaxed, so.amount_tax, so.amount_total) == (D(400), D(52), D(452))
        assert ic.counterpart(uow, "sales_order", so.id)["number"] == po_number


def test_a_replayed_confirmation_creates_nothing_new(db):
    g = fg.group(db)
    so_id, so_number = _sell_to_b(g)
    # the same event delivered again under a new id (a re-sent outbox row): the link table stops it
    ev = events.Event(str(uuid.uuid4()), "erp.sales_order_confirmed", g.a,
                      {"sales_order_id": so_id, "number": so_number, "created_by_module": "erp"})
    assert events.deliver(db, ev)
    with g.uow(g.a) as uow:
        assert ic.mirror_sales_order(uow, so_id).source_id == so_id  # the existing link, nothing made
    assert _count(g, g.b, PurchaseOrder) == 1
    with g.uow(g.a, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(IntercompanyLink)) == 1


def test_confirming_the_mirror_does_not_mirror_back(db):
    g = fg.group(db)
    _sell_to_b(g)
    with g.uow(g.b) as uow:
        po = uow.session.scalars(select(PurchaseOrder).where(PurchaseOrder.company_id == g.b)).one()
        purchasing.confirm_order(uow, po.id)
    assert _count(g, g.a, SalesOrder) == 1  # only the original
    with g.uow(g.a, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(IntercompanyLink)) == 1
        assert ic.list_exceptions(uow) == []


def test_a_sku_missing_in_b_is_listed_and_nothing_is_half_made(db):
    g = fg.group(db)
    towel = g.a_cup + 1  # the shop's second product, YS-TOWEL-01, which B does not carry
    with g.uow(g.a) as uow:
        so = sales.create_sales_order(uow, customer_id=g.b_in_a, lines=[
            sales.SalesLineIn(product_id=g.a_cup, quantity="2", unit_price="100"),
            sales.SalesLineIn(sku="YS-TOWEL-01", quantity="3", unit_price="20")], confirm=True)
        so_id = so.id
        assert so.lines[1].product_id == towel
    assert _count(g, g.b, PurchaseOrder) == 0

    admin_b = f.api_client(db, f.user(db, g.b, roles=("admin",)))
    listed = admin_b.get("/api/v1/erp/intercompany/exceptions").json()["items"]
    assert len(listed) == 1 and "YS-TOWEL-01" in listed[0]["message"] and listed[0]["source_id"] == so_id
    page = f.web_client(db, f.user(db, g.a, roles=("admin",))).get("/erp/intercompany")
    assert page.status_code == 200 and "YS-TOWEL-01" in page.text

    # B adds the product; A retries; the purchase order appears and the exception closes
    f.product(db, g.b, "YS-TOWEL-01", name="纯棉毛巾")
    admin_a = f.api_client(db, f.user(db, g.a, roles=("admin",)))
    r = admin_a.post(f"/api/v1/erp/intercompany/exceptions/{listed[0]['id']}/retry")
    assert r.status_code == 200 and r.json()["mirrored"], r.text
    assert _count(g, g.b, PurchaseOrder) == 1
    assert admin_b.get("/api/v1/erp/intercompany/exceptions").json()["items"] == []


def test_a_partner_represents_only_another_company_of_the_group_once(sqlite_db):
    db = sqlite_db
    g = fg.group(db)
    outsider = f.company(db)
    with pytest.raises(ValidationFailed, match="同一集团"):
        fg.ic_partner(db, g.a, outsider, "IC-X", "外部公司")
    with pytest.raises(ValidationFailed):
        fg.ic_partner(db, g.a, g.a, "IC-SELF", "本公司")
    with pytest.raises(Conflict):
        fg.ic_partner(db, g.a, g.b, "IC-B2", "子公司 B 又一个")
    # a user who does not work in the other company cannot even name it
    with pytest.raises(ValidationFailed):
        with g.uow(g.a) as uow:
            rs.create_record(uow, resources.partners, {"code": "IC-B3", "name": "B", "is_customer": True,
                                                       "represents_company_id": g.b})
