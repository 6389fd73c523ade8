"""Two sales people confirming orders of one customer at the same moment cannot both slip under
the credit limit; two invoices cannot both spend the same customer credit."""

import threading
from decimal import Decimal

from opensupply.core.errors import Conflict
from opensupply.core.uow import UnitOfWork, atomic
from opensupply.erp.sales import service as svc
from tests import factories as f
from tests.erp.sales import factories as fs

D = Decimal


def _race(fns):
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # the outcome is what the test looks at
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_simultaneous_confirmations_respect_the_credit_limit(db):
    s = fs.shop(db, credit_limit="1500")
    with s.uow() as uow:
        ids = [svc.create_sales_order(uow, customer_id=s.customer, lines=[
            svc.SalesLineIn(product_id=s.cup, quantity=10, unit_price=100)]).id for _ in range(2)]  # 1130.00 each
    actor = f.system(s.company)
    results = _race([lambda i=i: atomic(actor, svc.confirm_sales_order, i, db=db).state for i in ids])
    assert sum(r == "confirmed" for r in results) == 1
    assert sum(isinstance(r, Conflict) and r.code == "credit_limit" for r in results) == 1


def test_simultaneous_invoices_do_not_spend_the_same_credit_twice(db):
    s = fs.shop(db)
    with s.uow() as uow:
        svc.register_receipt(uow, s.customer, "150.00")  # credit 150
        ids = []
        for _ in range(2):
            order = svc.create_sales_order(uow, customer_id=s.customer, confirm=True,
                                           lines=[svc.SalesLineIn(product_id=s.cup, quantity=1, unit_price=100)])
            svc.deliver(uow, order.id)
            ids.append(order.id)
    actor = f.system(s.company)
    results = _race([lambda i=i: atomic(actor, svc.invoice_order, i, db=db).amount_paid for i in ids])
    assert sorted(D(r) for r in results) == [D("37.00"), D("113.00")]
    with UnitOfWork(actor, db=db, readonly=True) as uow:
        assert svc.customer_credit(uow, s.customer) == 0
        assert svc.open_receivable(uow, s.customer) == D("76.00")
