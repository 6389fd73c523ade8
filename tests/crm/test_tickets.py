"""After-sales tickets: linked to the customer's sales order, moved through their states, flagged when overdue."""

import datetime as dt

from opensupply.crm import schemas as s
from opensupply.crm import service as crm
from tests import factories as f
from tests.crm import factories as cf

D = dt.timedelta


def test_ticket_overdue_flag_and_follow_up_list(db):
    t = cf.team(db)
    cf.service_product(t)
    pid = cf.customer(t, "K1")
    so = cf.order(t, pid, t.today() - D(days=3), "300")
    api = f.api_client(db, t.alice)
    late = api.post("/api/v1/crm/tickets", json={"subject": "保温杯漏水", "partner_id": pid, "sales_order_id": so,
                                                 "kind": "complaint", "due_date": (t.today() - D(days=1)).isoformat()})
    assert late.status_code == 201, late.text
    late = late.json()
    assert late["overdue"] is True and late["sales_order_number"]
    due_today = api.post("/api/v1/crm/tickets", json={"subject": "要发票", "partner_id": pid, "kind": "consult",
                                                      "due_date": t.today().isoformat()}).json()
    assert due_today["overdue"] is False
    overdue = api.get("/api/v1/crm/tickets", params={"overdue": True}).json()
    assert [x["number"] for x in overdue["items"]] == [late["number"]]
    # resolving needs a resolution; a resolved ticket is no longer overdue, a closed one is final
    r = api.post(f"/api/v1/crm/tickets/{late['id']}/state", json={"state": "resolved"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "resolution"
    assert api.post(f"/api/v1/crm/tickets/{late['id']}/state", json={"state": "in_progress"}).json()["overdue"]
    done = api.post(f"/api/v1/crm/tickets/{late['id']}/state", json={"state": "resolved",
                                                                    "resolution": "补发新杯"}).json()
    assert done["state"] == "resolved" and done["overdue"] is False
    assert api.post(f"/api/v1/crm/tickets/{late['id']}/state", json={"state": "closed"}).json()["state"] == "closed"
    r = api.post(f"/api/v1/crm/tickets/{late['id']}/state", json={"state": "open"})
    assert r.status_code == 409
    assert api.get("/api/v1/crm/tickets", params={"open_only": True}).json()["total"] == 1
    # both show on the owner's day: due today and earlier
    day = api.get("/api/v1/crm/my-day").json()
    assert [x["number"] for x in day["tickets"]] == [due_today["number"]]


def test_ticket_order_must_be_the_customers(db):
    t = cf.team(db)
    cf.service_product(t)
    a, b = cf.customer(t, "A1"), cf.customer(t, "B1")
    so_b = cf.order(t, b, t.today(), "100")
    with t.uow(t.alice) as uow:
        try:
            crm.create_ticket(uow, s.TicketIn(subject="x", partner_id=a, sales_order_id=so_b))
            raise AssertionError("accepted another customer's order")
        except crm.ValidationFailed as exc:
            assert exc.field == "sales_order_id"


def test_ticket_pages(db):
    t = cf.team(db)
    pid = cf.customer(t, "K1", "杭州佳源")
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    r = web.post("/crm/tickets/new", data={"csrf_token": token, "subject": "物流破损", "partner_id": str(pid),
                                           "kind": "return", "priority": "high",
                                           "due_date": (t.today() - D(days=2)).isoformat()})
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"]).text
    assert "物流破损" in page and 'id="overdue-flag"' in page and "退换货" in page
    listing = web.get("/crm/tickets").text
    assert "物流破损" in listing and "逾期" in listing
    r = web.post("/crm/tickets/new", data={"csrf_token": token, "subject": "", "partner_id": str(pid)})
    assert r.status_code == 422
    export = web.get("/crm/tickets/export?format=csv")
    assert "物流破损" in export.content.decode("utf-8-sig")
