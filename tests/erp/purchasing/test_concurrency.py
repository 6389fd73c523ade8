"""Two storekeepers receive the same order at the same moment: together they may not exceed
the over-receipt tolerance, whichever database runs underneath."""

import threading
from decimal import Decimal

from opensupply.core.errors import ValidationFailed
from opensupply.core.uow import atomic
from opensupply.erp.purchasing import service as svc
from tests import factories as f
from tests.erp.purchasing import factories as pf


def test_simultaneous_receipts_never_over_receive(db):
    p = pf.setup(db)
    po = pf.order(p, [("cup", "10", "30")], receipt_tolerance_pct="5")
    actor = f.actor(db, p.company, p.usernames["buyer"])
    line = po["lines"][0]["id"]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def receive():
        barrier.wait()
        try:
            atomic(actor, svc.receive_order, po["id"], [svc.ReceiptLineIn("6", order_line_id=line)], db=db)
            outcomes.append("ok")
        except ValidationFailed as exc:
            outcomes.append(exc.message)

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    assert any("超收" in o for o in outcomes)
    order = pf.ok(p.client("buyer").get(f"/api/v1/erp/purchase-orders/{po['id']}"))
    assert Decimal(order["lines"][0]["qty_received"]) == 6
    on_hand = pf.ok(p.client("buyer").get("/api/v1/inventory/on-hand", params={"product": "YS-CUP-350"}))
    assert sum(Decimal(r["on_hand"]) for r in on_hand["items"]) == 6
    pf.assert_books_balance(p)
