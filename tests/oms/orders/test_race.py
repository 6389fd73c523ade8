"""Never ship twice, never ship a refunded order: the warehouse (start picking, ship) and a platform
refund race on the same order, on real threads and transactions (SQLite and PostgreSQL)."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core import jobs
from opensupply.core.errors import DomainError
from opensupply.core.uow import atomic
from opensupply.erp.sales.models import SalesDelivery
from opensupply.oms import allocation
from opensupply.oms import fulfilments as ful
from opensupply.oms import orders as oo
from opensupply.oms.models import OmsFulfilment, OmsOrder
from tests.oms.orders import factories as fo

D = Decimal


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)


def _race(fns):
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except DomainError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_refund_racing_the_warehouse_never_ends_shipped_and_refunded(db):
    w = fo.world(db, stock={"CUP": {"WH": 200}})
    rounds = 12
    outcomes = []
    for i in range(rounds):
        oid = fo.approved(w, [("CUP", 1, "50")])
        with w.uow() as uow:
            assert allocation.allocate_orders(uow, [oid])[0]["ok"]
        with w.uow(readonly=True) as uow:
            fid = oo.fulfilment_lines_of(uow, [oid])[0][1].id
        if i % 3 == 2:  # sometimes picking has already started when the race begins
            atomic(w.actor, lambda uow: ful.start_picking(uow, [fid], wave_number=f"W{i}"), db=db)

        def warehouse(fid=fid, i=i):
            with w.uow(readonly=True) as uow:
                status = uow.get(OmsFulfilment, fid).status
            if status == "allocated":
                atomic(w.actor, lambda uow: ful.start_picking(uow, [fid], wave_number=f"R{i}"), db=db)
            return atomic(w.actor, lambda uow: ful.ship(uow, fid, tracking_number=f"SF{i:04d}").status, db=db)

        def refund(oid=oid):
            return atomic(w.actor, lambda uow: oo.apply_platform_refund(uow, oid, reason="买家退款"), db=db)

        shipped, refunded = _race([warehouse, refund])
        with w.uow(readonly=True) as uow:
            f = uow.get(OmsFulfilment, fid)
            o = uow.get(OmsOrder, oid)
            so_ids = {fl.sales_order_id for fl in f.lines}
            done = uow.session.scalars(select(SalesDelivery).where(SalesDelivery.order_id.in_(so_ids),
                                                                   SalesDelivery.state == "done")).all()
            if f.status == "shipped":
                assert shipped == "shipped" and refunded == "after_sales", (shipped, refunded)
                assert not f.intercepted and o.status == "shipped" and o.refund_status == "requested"
                assert len(done) == 1
            else:
                assert isinstance(shipped, DomainError), shipped
                assert refunded in ("cancelled", "intercepted"), refunded
                assert not done  # nothing left the warehouse
                assert o.refund_status == "refunded"
                assert f.intercepted or f.status == "cancelled"
        outcomes.append(f.status)
    assert len(outcomes) == rounds
