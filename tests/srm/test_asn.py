"""Advance ship notices (发货通知): the supplier announces shipments of its confirmed PO in the portal, never more
than is still to receive; the buyer sees them on the way (list, late-order list) and receives one in a step with
its lots; another supplier can neither see nor touch them; a PO received in full some other way closes them.

    PO steel 100 × ¥50 to S-GANG (portal user gang), tolerance 0 %
    gang ships 60 (lot L-0601)          → open to announce 40
    gang tries 50 more                  → refused: at most 40
    gang ships 40, cancels it           → 40 free again
    buyer receives the 60-ASN           → ERP receipt of 60 with lot L-0601, PO still open 40
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from opensupply.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from opensupply.core.sequences import company_today
from opensupply.erp.purchasing import service as purchasing
from opensupply.inventory import service as inv
from opensupply.srm import asn, late_orders
from tests import factories as f
from tests.srm.tender_factories import tender_shop

D = Decimal


def _po(s, key="steel", sku="RM-STEEL", qty="100", expected_in=-3) -> int:
    with s.uow(s.actor("buyer1")) as uow:
        today = company_today(uow)
        po = purchasing.create_order(uow, s.partners[key], [purchasing.OrderLineIn(sku, qty, "50")],
                                     order_date=today - dt.timedelta(days=10),
                                     expected_date=today + dt.timedelta(days=expected_in), location="A-01-01")
        po.receipt_tolerance_pct = D(0)
        purchasing.confirm_order(uow, po.id)
        return po.id


def _track_lots(s, sku="RM-STEEL") -> None:
    from opensupply.masterdata import models as md

    with s.uow() as uow:
        uow.session.query(md.Product).filter_by(company_id=s.company, sku=sku).one().tracking = "lot"


def _line(s, po_id) -> int:
    with s.uow(readonly=True) as uow:
        return uow.get(purchasing.PurchaseOrder, po_id).lines[0].id


def _ship(s, username, po_id, qty, *, lot=None, days=4) -> int:
    with s.uow(s.actor(username)) as uow:
        arrive = company_today(uow) + dt.timedelta(days=days)
        return asn.create_asn(uow, po_id, [asn.AsnLineIn(_line(s, po_id), qty, lot)], expected_date=arrive,
                              carrier="顺丰", tracking_no="SF1234567890").id


def test_a_supplier_announces_no_more_than_is_left_and_the_buyer_receives_it_with_its_lot(db):
    s = tender_shop(db)
    _track_lots(s)
    po_id = _po(s)
    with pytest.raises(ValidationFailed, match="按批次管理，请填写批号"):
        _ship(s, "gang", po_id, "60")
    first = _ship(s, "gang", po_id, "60", lot="L-0601")
    with pytest.raises(ValidationFailed, match="最多还可发 40"):
        _ship(s, "gang", po_id, "50", lot="L-0602")
    second = _ship(s, "gang", po_id, "40", lot="L-0602")
    with s.uow(s.actor("gang")) as uow:
        with pytest.raises(ValidationFailed, match="取消原因"):
            asn.cancel_asn(uow, second, " ")
    with s.uow(s.actor("gang")) as uow:
        asn.cancel_asn(uow, second, "车辆故障，改天再发")
    with s.uow(s.actor("gang"), readonly=True) as uow:
        mine = asn.my_asns(uow, po_id)
        assert [(a["id"], a["state"], a["quantity"]) for a in mine] == [(second, "cancelled", "40.000000"),
                                                                        (first, "shipped", "60.000000")]
        assert mine[1]["lines"][0]["lot"] == "L-0601" and mine[1]["tracking_no"] == "SF1234567890"

    with s.uow(s.actor("viewer"), readonly=True) as uow:  # buyers see it on the way, also on the late list
        rows, total = asn.asn_rows(uow, state="shipped")
        assert total == 1 and rows[0]["id"] == first and rows[0]["supplier_code"] == "S-GANG"
        assert asn.asn_rows(uow, q="SF123456")[1] == 2 and asn.asn_rows(uow, q="S-SUXIAO")[1] == 0
        late, _n = late_orders.late_orders(uow)
        assert late[0]["id"] == po_id and late[0]["in_transit"] == D(60)
        with pytest.raises(PermissionDenied):
            asn.receive_asn(uow, first)  # viewing is not receiving

    with s.uow(s.actor("buyer1")) as uow:
        receipt = asn.receive_asn(uow, first)
        assert [(ln.quantity, ln.lot) for ln in receipt.lines] == [(D(60), "L-0601")]
    with s.uow(s.actor("buyer1")) as uow:
        with pytest.raises(Conflict, match="已收货"):
            asn.receive_asn(uow, first)
    with s.uow(readonly=True) as uow:
        po = uow.get(purchasing.PurchaseOrder, po_id)
        assert po.state == "confirmed" and po.lines[0].qty_received == D(60)
        rows, _n = inv.on_hand_rows(uow, product="RM-STEEL", lot="L-0601")
        assert [(r["lot"], D(r["on_hand"])) for r in rows] == [("L-0601", D(60))]
    _ship(s, "gang", po_id, "40", lot="L-0603")  # the cancelled 40 are free again, and no more than that
    with pytest.raises(ValidationFailed, match="最多还可发 0"):
        _ship(s, "gang", po_id, "1", lot="L-0604")


def test_another_supplier_cannot_see_or_touch_the_notices(db):
    s = tender_shop(db)
    po_id = _po(s)
    mine = _ship(s, "gang", po_id, "10")
    with s.uow(s.actor("suxiao")) as uow:
        with pytest.raises(NotFound):
            asn.create_asn(uow, po_id, [asn.AsnLineIn(_line(s, po_id), "1")],
                           expected_date=company_today(uow) + dt.timedelta(days=2))
    with s.uow(s.actor("suxiao")) as uow:
        with pytest.raises(NotFound):
            asn.cancel_asn(uow, mine, "不是我的")
        assert asn.my_asns(uow) == []
    su = f.api_client(db, "suxiao")
    assert su.get(f"/api/v1/srm/portal/asns?order_id={po_id}").json()["items"] == []
    assert su.post(f"/api/v1/srm/portal/asns/{mine}/cancel", json={"reason": "x"}).status_code == 404
    body = {"lines": [{"order_line_id": _line(s, po_id), "quantity": "1"}], "expected_date": "2031-01-01"}
    assert su.post(f"/api/v1/srm/portal/orders/{po_id}/asns", json=body).status_code == 404
    assert su.get("/api/v1/srm/asns").status_code == 403  # portal users are not buyers
    web = f.web_client(db, "suxiao")
    assert web.get(f"/portal/orders/{po_id}").status_code == 404
    assert "SF1234567890" not in web.get("/portal/asns").text


def test_dates_lines_and_states_are_checked(sqlite_db):
    db = sqlite_db
    s = tender_shop(db)
    po_id = _po(s)
    line = _line(s, po_id)
    with s.uow(s.actor("gang")) as uow:
        today = company_today(uow)
        cases = [
            (dict(ship_date=today + dt.timedelta(days=1), expected_date=today + dt.timedelta(days=3)), "晚于今天"),
            (dict(ship_date=today, expected_date=today - dt.timedelta(days=1)), "不能早于发货日期"),
            (dict(expected_date=None), "预计到货日期"),
            (dict(ship_date="2026-13-01", expected_date=today), "格式不正确"),
            (dict(ship_date=today - dt.timedelta(days=30), expected_date=today), "不能早于订单日期"),
        ]
        for kwargs, message in cases:
            with pytest.raises(ValidationFailed, match=message):
                asn.create_asn(uow, po_id, [asn.AsnLineIn(line, "5")], **kwargs)
        for lines, message in (([asn.AsnLineIn(line, "0")], "至少填写一行"), ([asn.AsnLineIn(line, "-2")], "负数"),
                               ([asn.AsnLineIn(line, "abc")], "数量格式"),
                               ([asn.AsnLineIn(999999, "1")], "订单行不存在"),
                               ([asn.AsnLineIn(line, "1", "L-1")], "不按批次管理")):
            with pytest.raises(ValidationFailed, match=message):
                asn.create_asn(uow, po_id, lines, expected_date=today)
    with s.uow(s.actor("buyer1")) as uow:  # a finished order takes no more notices
        purchasing.receive_order(uow, po_id)
    with s.uow(s.actor("gang")) as uow:
        with pytest.raises(Conflict, match="不能发货"):
            asn.create_asn(uow, po_id, [asn.AsnLineIn(line, "1")], expected_date=today)


def test_an_order_received_in_full_elsewhere_closes_its_open_notices(db):
    s = tender_shop(db)
    po_id = _po(s)
    a = _ship(s, "gang", po_id, "30")
    with s.uow(s.actor("buyer1")) as uow:  # received on the ERP page, part first: the notice stays open
        purchasing.receive_order(uow, po_id, [purchasing.ReceiptLineIn("50", product="RM-STEEL")])
    with s.uow(s.actor("viewer"), readonly=True) as uow:
        assert asn.asn_detail(uow, a)["state"] == "shipped"
    with s.uow(s.actor("buyer1")) as uow:
        last = purchasing.receive_order(uow, po_id).id
    with s.uow(s.actor("viewer"), readonly=True) as uow:
        d = asn.asn_detail(uow, a)
        assert (d["state"], d["receipt_id"]) == ("received", last)


def test_portal_and_buyer_pages_send_list_export_and_receive(sqlite_db):
    db = sqlite_db
    s = tender_shop(db)
    _track_lots(s)
    po_id = _po(s)
    line = _line(s, po_id)
    web = f.web_client(db, "gang")
    page = web.get(f"/portal/orders/{po_id}")
    assert page.status_code == 200 and "发送发货通知" in page.text and f'name="qty_{line}"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    with s.uow(readonly=True) as uow:
        today = company_today(uow)
    r = web.post(f"/portal/orders/{po_id}/asns", data={
        "csrf_token": token, f"qty_{line}": "120", "ship_date": today.isoformat(),
        "expected_date": (today + dt.timedelta(days=2)).isoformat()})
    assert r.status_code == 303
    assert "最多还可发 100" in web.get(r.headers["location"]).text
    r = web.post(f"/portal/orders/{po_id}/asns", data={
        "csrf_token": token, f"qty_{line}": "100", f"lot_{line}": "L-77", "ship_date": today.isoformat(),
        "expected_date": (today + dt.timedelta(days=2)).isoformat(), "carrier": "德邦", "tracking_no": "DB998877"})
    assert r.status_code == 303
    text = web.get(r.headers["location"]).text
    number = re.search(r"发货通知 (ASN\d{4}-\d{6}) 已发送", text).group(1)
    assert "订单数量已全部发货或收货" in text and "DB998877" in web.get("/portal/asns").text

    buyer = f.web_client(db, "buyer1")
    listing = buyer.get("/srm/asns?state=shipped&q=DB998877")
    assert listing.status_code == 200 and number in listing.text and "宁波钢材贸易有限公司" in listing.text
    assert buyer.get("/srm/asns?state=nonsense").status_code == 422
    csv = buyer.get("/srm/asns/export?format=csv").content.decode("utf-8-sig")
    assert number in csv and "L-77" in csv and "DB998877" in csv
    asn_id = int(re.search(r'href="/srm/asns/(\d+)"', listing.text).group(1))
    detail = buyer.get(f"/srm/asns/{asn_id}")
    assert "按通知收货" in detail.text and "L-77" in detail.text
    viewer = f.web_client(db, "viewer")
    assert "按通知收货" not in viewer.get(f"/srm/asns/{asn_id}").text
    assert viewer.post(f"/srm/asns/{asn_id}/receive", data={"csrf_token": f.csrf(viewer)}).status_code == 403
    r = buyer.post(f"/srm/asns/{asn_id}/receive", data={"csrf_token": f.csrf(buyer), "location": "A-01-01"})
    assert r.status_code == 303 and r.headers["location"].startswith("/erp/receipts/")
    assert "已收货" in buyer.get(f"/srm/asns/{asn_id}").text

    api = f.api_client(db, "buyer1")
    got = api.get(f"/api/v1/srm/asns/{asn_id}").json()
    assert got["state"] == "received" and got["lines"][0]["lot"] == "L-77"
    assert api.post(f"/api/v1/srm/asns/{asn_id}/receive", json={}).status_code == 409
    other_company = f.company(db)
    f.user(db, other_company, "buyer-elsewhere", roles=("buyer",))
    elsewhere = f.api_client(db, "buyer-elsewhere")
    assert elsewhere.get(f"/api/v1/srm/asns/{asn_id}").status_code == 404
    assert elsewhere.get("/api/v1/srm/asns").json()["total"] == 0


def test_api_send_and_cancel(sqlite_db):
    db = sqlite_db
    s = tender_shop(db)
    _track_lots(s)
    po_id = _po(s)
    gang = f.api_client(db, "gang")
    body = {"lines": [{"order_line_id": _line(s, po_id), "quantity": "25", "lot": "B-1"}],
            "expected_date": "2031-01-01", "tracking_no": "YT1"}
    r = gang.post(f"/api/v1/srm/portal/orders/{po_id}/asns", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "shipped" and r.json()["quantity"] == "25.000000"
    assert gang.post(f"/api/v1/srm/portal/orders/{po_id}/asns", json={**body, "lines": []}).status_code == 422
    r = gang.post(f"/api/v1/srm/portal/asns/{r.json()['id']}/cancel", json={"reason": "数量有误"})
    assert r.status_code == 200 and r.json()["state"] == "cancelled" and r.json()["cancel_reason"] == "数量有误"
