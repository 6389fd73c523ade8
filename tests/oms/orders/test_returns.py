"""售后: a shipped order comes back — restocked or scrapped — and is refunded (a credit note when
it was invoiced); the stock ledger and the books stay in balance."""

from decimal import Decimal

import pytest

from opensupply.accounting import service as gl
from opensupply.core import jobs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.erp.sales import service as sales
from opensupply.inventory import service as inv
from opensupply.oms import allocation, returns
from opensupply.oms import fulfilments as ful
from opensupply.oms import orders as oo
from opensupply.oms.models import OmsOrder
from tests.oms.orders import factories as fo

D = Decimal


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)


def _shipped(w, lines):
    oid = fo.approved(w, lines)
    with w.uow() as uow:
        allocation.allocate_orders(uow, [oid])
    with w.uow(readonly=True) as uow:
        fl, f = oo.fulfilment_lines_of(uow, [oid])[0]
    with w.uow() as uow:
        ful.ship(uow, f.id, tracking_number="SF9")
    return oid, fl.sales_order_id


def _books_ok(w):
    with w.uow(readonly=True) as uow:
        tb = gl.trial_balance(uow)
        val = inv.valuation(uow)
        assert inv.check_ledger(uow) == []
    assert tb["total_debit"] == tb["total_credit"]
    assert val["total_value"] == val["gl_inventory_balance"], val


def test_return_restock_and_refund_with_credit_note(db):
    w = fo.world(db)
    oid, so_id = _shipped(w, [("CUP", 2, "100")])
    with w.uow() as uow:
        inv_doc = sales.invoice_order(uow, so_id)
        assert inv_doc.amount_total == D("100.00")
    with w.uow(readonly=True) as uow:
        on_hand = inv.on_hand(uow, w.products["CUP"])
        line = uow.get(OmsOrder, oid).lines[0].id
    with w.uow() as uow:
        with pytest.raises(ValidationFailed):
            returns.create_return(uow, oid, [(line, 3)], reason="不想要了")
    with w.uow() as uow:
        ret = returns.create_return(uow, oid, reason="七天无理由")
        rid = ret.id
        assert ret.refund_amount == D("100.00")
    with w.uow() as uow:
        with pytest.raises(Conflict):
            returns.refund_return(uow, rid)
    with w.uow() as uow:
        returns.receive_return(uow, rid, disposition="restock")
    with w.uow(readonly=True) as uow:
        assert inv.on_hand(uow, w.products["CUP"]) == on_hand + 2
    with w.uow() as uow:
        ret = returns.refund_return(uow, rid)
        assert ret.status == "done"
    with w.uow(readonly=True) as uow:
        invoices = sales.invoices_of(uow, so_id)
        assert {i.kind for i in invoices} == {"invoice", "credit_note"}
        assert uow.get(OmsOrder, oid).refund_status == "refunded"
        kinds = [e.kind for e in oo.timeline(uow, order_id=oid)]
    assert {"return", "return_received", "return_refunded"} <= set(kinds)
    _books_ok(w)
    with w.uow() as uow:  # everything came back already
        with pytest.raises(ValidationFailed):
            returns.create_return(uow, oid, reason="again")


def test_return_scrapped_is_not_back_in_stock(db):
    w = fo.world(db)
    oid, _so = _shipped(w, [("TOWEL", 1, "20")])
    with w.uow(readonly=True) as uow:
        on_hand = inv.on_hand(uow, w.products["TOWEL"])
    with w.uow() as uow:
        rid = returns.create_return(uow, oid, reason="破损").id
    with w.uow() as uow:
        returns.receive_return(uow, rid, disposition="scrap")
    with w.uow() as uow:
        returns.refund_return(uow, rid, amount="15.00")
    with w.uow(readonly=True) as uow:
        assert inv.on_hand(uow, w.products["TOWEL"]) == on_hand
        assert returns.get_return(uow, rid).refund_amount == D("15.00")
    _books_ok(w)


def test_no_return_before_shipping(db):
    w = fo.world(db)
    oid = fo.approved(w, [("CUP", 1, "50")])
    with w.uow() as uow:
        with pytest.raises(Conflict):
            returns.create_return(uow, oid, reason="x")
