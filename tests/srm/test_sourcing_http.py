"""SRM where it meets ERP pages: 发起询价 on an MRP planned purchase (the RFQ form filled from it, the planned order
firmed and linked both ways), 来料检验 from a receipt page, and a supplier's login that starts in the portal —
each only while SRM is on for the company."""

from __future__ import annotations

import re

from opensupply.core import modules, users
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from tests import factories as f
from tests.srm.tender_factories import planned_purchase, planned_state, tender_shop


def _srm(s, on: bool) -> None:
    with s.uow() as uow:
        modules.set_module(uow, "srm", on)


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_start_an_rfq_from_a_planned_purchase_on_the_pages(db):
    s = tender_shop(db)
    planned_id, _due = planned_purchase(s)
    f.user(db, s.company, "planner", roles=("admin",))
    web = f.web_client(db, "planner")
    page = web.get(f"/erp/planning/orders/{planned_id}")
    assert page.status_code == 200 and f'href="/srm/rfqs/new?planned_order={planned_id}"' in page.text
    form = web.get(f"/srm/rfqs/new?planned_order={planned_id}")
    assert form.status_code == 200 and 'id="planned-line"' in form.text and "RM-STEEL" in form.text
    assert f'name="planned_order" value="{planned_id}"' in form.text and f"计划采购 #{planned_id}" in form.text
    r = web.post("/srm/rfqs/new", data={
        "csrf_token": _token(form.text), "planned_order": str(planned_id), "title": f"计划采购 #{planned_id}：RM-STEEL",
        "deadline": "2099-06-30T17:00", "terms": "", "suppliers": [str(s.partners["steel"]), str(s.partners["third"])],
        "send": "1"})
    assert r.status_code == 303, r.text
    rfq_page = web.get(r.headers["location"])
    number = re.search(r"RFQ\d{4}-\d{6}", rfq_page.text).group(0)
    assert f'data-planned-order="{planned_id}"' in rfq_page.text and "投标中" in rfq_page.text
    assert planned_state(s, planned_id)[0] == "firmed"
    page = web.get(f"/erp/planning/orders/{planned_id}")
    assert number in page.text and "发起询价" not in page.text and "已确认" in page.text
    # an error (no supplier) keeps the form on the planned purchase
    _other, _due = planned_purchase(s, qty="30", days=60)
    r = web.post("/srm/rfqs/new", data={"csrf_token": _token(form.text), "planned_order": str(_other), "title": "",
                                        "deadline": "2099-06-30T17:00", "terms": ""})
    assert r.status_code == 422 and 'id="planned-line"' in r.text and "请至少邀请一家供应商" in r.text
    assert planned_state(s, _other)[0] == "planned"
    # in English
    web.post("/settings/locale", data={"csrf_token": _token(page.text), "locale": "en", "next": "/"})
    page = web.get(f"/erp/planning/orders/{_other}")
    assert "Start an RFQ" in page.text
    # SRM off: planning offers only firming into a purchase order
    _srm(s, False)
    page = web.get(f"/erp/planning/orders/{_other}")
    assert page.status_code == 200 and "/srm/rfqs/new" not in page.text


def test_a_receipt_page_offers_its_incoming_inspection_while_srm_is_on(db):
    s = tender_shop(db)
    with s.uow() as uow:
        po = purchasing.create_order(uow, s.partners["steel"], [purchasing.OrderLineIn(s.products["steel"], "10",
                                                                                         "50")])
        purchasing.confirm_order(uow, po.id)
        receipt = purchasing.receive_order(uow, po.id, [purchasing.ReceiptLineIn("10", order_line_id=po.lines[0].id)],
                                           location="A-01-01")
        rid, number = receipt.id, receipt.number
    web = f.web_client(db, "buyer1")
    page = web.get(f"/erp/receipts/{rid}")
    assert f'href="/srm/receipt-inspections?receipt={number}"' in page.text
    form = web.get(f"/srm/receipt-inspections?receipt={number}")
    assert f'name="receipt" value="{number}"' in form.text
    viewer = f.web_client(db, "viewer")  # may look, may not inspect
    assert "/srm/receipt-inspections?receipt=" not in viewer.get(f"/erp/receipts/{rid}").text
    _srm(s, False)
    assert "/srm/receipt-inspections?receipt=" not in web.get(f"/erp/receipts/{rid}").text


def test_a_supplier_login_starts_in_the_portal(db):
    s = tender_shop(db)
    gang = f.anonymous(db, follow_redirects=False)
    r = gang.post("/login", data={"username": "gang", "password": f.PASSWORD, "next": "/"})
    assert r.status_code == 303
    home = gang.get(r.headers["location"])
    assert home.status_code == 303 and home.headers["location"] == "/portal"
    assert gang.get("/portal").status_code == 200
    buyer = f.web_client(db, "buyer1")  # someone with a menu starts on the home page
    assert buyer.get("/").status_code == 200
    _srm(s, False)  # no portal while SRM is off: the home page, not a redirect to a 404
    assert gang.get("/").status_code == 200


def test_start_an_rfq_from_a_planned_purchase_through_the_api(db):
    s = tender_shop(db)
    planned_id, due = planned_purchase(s)
    f.user(db, s.company, "planner", roles=("admin",))
    api = f.api_client(db, "planner")
    body = {"planned_order_id": planned_id, "deadline": "2099-06-30T17:00:00+08:00", "suppliers": ["S-GANG", "S-XINDA"]}
    r = api.post("/api/v1/srm/rfqs/from-planned-order", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["state"] == "draft" and [i["code"] for i in out["invites"]] == ["S-GANG", "S-XINDA"]
    assert out["lines"][0]["sku"] == "RM-STEEL" and out["lines"][0]["required_date"] == due.isoformat()
    assert api.post("/api/v1/srm/rfqs/from-planned-order", json=body).status_code == 409  # already firmed
    other, _due = planned_purchase(s, qty="30", days=60)
    with UnitOfWork(Actor.system(s.company), db=db) as uow:  # sources suppliers, does not plan
        users.create_role(uow, code="sourcing", name="寻源", permissions=["srm.*", "erp.read", "erp.purchase"])
    f.user(db, s.company, "sourcer", roles=("sourcing",))
    sourcer = f.api_client(db, "sourcer")
    assert sourcer.post("/api/v1/srm/rfqs/from-planned-order",
                        json=dict(body, planned_order_id=other)).status_code == 403
    buyer = f.api_client(db, "buyer1")  # the preset buyer is also the material planner
    assert buyer.post("/api/v1/srm/rfqs/from-planned-order",
                      json=dict(body, planned_order_id=other)).status_code == 201
