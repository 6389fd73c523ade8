"""Two people posting the same bill at the same moment book it once; two uploads of the same
file at once make one settlement."""

from __future__ import annotations

import threading

from opensupply.core.errors import Conflict
from opensupply.core.uow import UnitOfWork, atomic
from opensupply.oms import settlement as svc
from opensupply.oms.models import OmsSettlement
from tests import factories as f
from tests.erp.sales import factories as fs

from . import factories as sf

TID_A = "3912845567120331542"


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


def _bill() -> bytes:
    return sf.generic_bill([[TID_A, "income", "100.00", "2026-05-12", "货款"],
                            [TID_A, "fee", "-5.00", "2026-05-12", "技术服务费"]])


def test_simultaneous_posts_book_the_bill_once(db):
    erp = fs.shop(db)
    s = sf.shop(db, company=erp.company, customer=erp.customer)
    sf.order(s, TID_A, "100.00")
    with s.uow() as uow:
        sid = svc.import_settlement(uow, s.shop_id, _bill(), "b.csv").id
    actor = f.system(s.company)
    results = _race([lambda: atomic(actor, svc.post_settlement, sid, db=db).state for _ in range(2)])
    assert sorted(map(type, results), key=str) == sorted([str, Conflict], key=str), results
    assert sf.balance(s, "platform_cash") == sf.D("95.00")
    assert sf.balance(s, "customer_advance", erp.customer) == sf.D("-100.00")


def test_simultaneous_uploads_of_one_file_make_one_settlement(db):
    s = sf.shop(db)
    actor = f.system(s.company)
    data = _bill()
    results = _race([lambda: atomic(actor, svc.import_settlement, s.shop_id, data, "b.csv", db=db).id
                     for _ in range(2)])
    assert results[0] == results[1] and isinstance(results[0], int), results
    with UnitOfWork(actor, db=db, readonly=True) as uow:
        assert uow.session.query(OmsSettlement).count() == 1
