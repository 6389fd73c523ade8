"""Two scanners putting away into the same bin at the same moment: the bin is locked, its room
re-read, and only what fits goes in — capacity is never exceeded."""

import threading
from decimal import Decimal

from opensupply.core.errors import Conflict
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.wms import inbound, putaway
from tests.wms.inbound import factories as fi

D = Decimal


def test_simultaneous_putaways_into_one_bin_never_exceed_its_capacity(db):
    s = fi.setup(db, capacity_units=D(10))
    task_ids = []
    for _ in range(2):
        po_id = s.order([("cup", "7")])
        with s.uow() as uow:
            task_ids += [t.id for t in inbound.receive(uow, po_id, s.wh.warehouse_id,
                                                       [inbound.ReceiveLine("YS-CUP-350", "7")]).tasks]
    target = "A-02-06"
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def scan(task_id):
        start.wait()
        try:
            with UnitOfWork(Actor.system(s.company), db=db) as uow:
                putaway.confirm_putaway(uow, task_id, target, D(7))
            outcomes.append("ok")
        except Conflict:
            outcomes.append("full")

    threads = [threading.Thread(target=scan, args=(t,)) for t in task_ids[:2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["full", "ok"]
    assert s.on_hand("cup", target) == 7 and s.on_hand("cup", "RCV") == 7
