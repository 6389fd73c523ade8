"""The late purchase-order list: open confirmed orders past the supplier's promised date, else the expected date.

    today = T (the company's date)
    PO-A steel 100, expected T-10, not confirmed in the portal          → 10 days late, open 100
    PO-B steel  50, expected T-3, promised T+5 by the supplier         → not late (the promise counts)
    PO-C plastic 100, expected T-5, 40 received                        → 5 days late, open 60
    PO-D plastic 20, expected T-20, all received (done)                → not listed
    PO-E plastic 10, expected T+2                                      → not late
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.core.errors import ValidationFailed
from opensupply.core.sequences import company_today
from opensupply.erp.purchasing import service as purchasing
from opensupply.srm import late_orders, portal
from tests import factories as f
from tests.srm.tender_factories import tender_shop


def _po(s, key, sku, qty, expected) -> int:
    with s.uow(s.actor("buyer1")) as uow:
        po = purchasing.create_order(uow, s.partners[key], [purchasing.OrderLineIn(sku, qty, "10")],
                                     order_date=expected - dt.timedelta(days=7), expected_date=expected,
                                     location="A-01-01")
        purchasing.confirm_order(uow, po.id)
        return po.id


def _history(db):
    s = tender_shop(db)
    with s.uow() as uow:
        today = company_today(uow)
    day = lambda n: today + dt.timedelta(days=n)  # noqa: E731
    ids = {"A": _po(s, "steel", "RM-STEEL", "100", day(-10)), "B": _po(s, "steel", "RM-STEEL", "50", day(-3)),
           "C": _po(s, "plastic", "RM-PP", "100", day(-5)), "D": _po(s, "plastic", "RM-PP", "20", day(-20)),
           "E": _po(s, "plastic", "RM-PP", "10", day(2))}
    with s.uow(s.actor("gang")) as uow:
        portal.confirm_order(uow, ids["B"], day(5))
    with s.uow(s.actor("buyer1")) as uow:
        purchasing.receive_order(uow, ids["C"], [purchasing.ReceiptLineIn("40", product="RM-PP")])
        purchasing.receive_order(uow, ids["D"])
    return s, today, ids


def test_late_orders_use_the_promised_date_else_the_expected_one(db):
    s, today, ids = _history(db)
    with s.uow(s.actor("viewer"), readonly=True) as uow:
        rows, total = late_orders.late_orders(uow)
        assert total == 2
        assert [(r["id"], r["days_late"], r["open_quantity"], r["confirmed"]) for r in rows] == [
            (ids["A"], 10, Decimal(100), False), (ids["C"], 5, Decimal(60), False)]
        assert rows[0]["due_date"] == today - dt.timedelta(days=10) and rows[0]["supplier_code"] == "S-GANG"
        assert [r["id"] for r in late_orders.late_orders(uow, min_days=6)[0]] == [ids["A"]]
        assert [r["id"] for r in late_orders.late_orders(uow, q="suxiao")[0]] == [ids["C"]]
        assert [r["id"] for r in late_orders.late_orders(uow, supplier_id=s.partners["plastic"])[0]] == [ids["C"]]
        assert late_orders.late_orders(uow, today=today + dt.timedelta(days=6))[1] == 4  # B's promise has passed
        page, total = late_orders.late_orders(uow, limit=1, offset=1)
        assert total == 2 and [r["id"] for r in page] == [ids["C"]]
        with pytest.raises(ValidationFailed):
            late_orders.late_orders(uow, min_days=-1)


def test_late_orders_api_page_export_and_permission(db):
    s, _today, _ids = _history(db)
    api = f.api_client(db, "viewer")
    r = api.get("/api/v1/srm/late-orders")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 2 and body["items"][0]["days_late"] == 10
    assert body["items"][1]["open_quantity"] == "60.000000"
    assert body["items"][0]["promised_date"] is None
    web = f.web_client(db, "viewer")
    page = web.get("/srm/late-orders?min_days=6")
    assert page.status_code == 200 and "逾期采购订单" in page.text and "S-GANG" in page.text
    assert "S-SUXIAO" not in page.text
    assert web.get("/srm/late-orders?min_days=x").status_code == 422
    csv = web.get("/srm/late-orders/export?format=csv")
    assert csv.status_code == 200 and csv.text.count("\n") == 3 and "S-SUXIAO" in csv.text
    xlsx = web.get("/srm/late-orders/export")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    f.user(db, s.company, "seller", roles=("sales",))
    assert f.api_client(db, "seller").get("/api/v1/srm/late-orders").status_code == 403
