"""Opportunities through the pipeline to a real ERP sales order; follow-ups and "my day"."""

import datetime as dt

from opensupply.crm import schemas as s
from opensupply.crm import service as crm
from opensupply.erp.sales.models import SalesOrder, SalesQuote
from tests import factories as f
from tests.crm import factories as cf

D = dt.timedelta


def test_lead_to_opportunity_to_quote_to_sales_order(db):
    t = cf.team(db)
    cf.service_product(t, "SVC-INSTALL", "200")
    lead = cf.lead(t, t.alice, name="王经理", phone="13800138000", company_name="上海乐享家居").lead
    api = f.api_client(db, t.alice)
    conv = api.post(f"/api/v1/crm/leads/{lead.id}/convert", json={"expected_value": "3000"}).json()
    opp_id = conv["opportunity_id"]
    assert api.post(f"/api/v1/crm/opportunities/{opp_id}/stage", json={"stage": "qualified"}).json()[
        "probability"] == 30
    r = api.post(f"/api/v1/crm/opportunities/{opp_id}/quote",
                 json={"lines": [{"product": "SVC-INSTALL", "quantity": "10", "unit_price": "200"}]})
    assert r.status_code == 200, r.text
    opp = r.json()
    assert opp["stage"] == "proposal" and opp["quote_number"]
    r = api.post(f"/api/v1/crm/opportunities/{opp_id}/order")
    assert r.status_code == 200, r.text
    won = r.json()
    assert won["stage"] == "won" and won["stage_label"] == "赢单" and won["probability"] == 100
    assert won["sales_order_number"]
    with t.uow(readonly=True) as uow:
        order = uow.get(SalesOrder, won["sales_order_id"])
        quote = uow.get(SalesQuote, won["quote_id"])
        assert order.state == "confirmed" and order.customer_id == conv["partner_id"]
        assert order.quote_id == quote.id and quote.state == "ordered"
        assert str(order.amount_total.quantize(order.amount_total.__class__("0.01"))) == won["expected_value"]
        assert order.number == won["sales_order_number"]
    # closed: no more changes, and the customer's profile counts the order
    assert api.post(f"/api/v1/crm/opportunities/{opp_id}/stage", json={"stage": "lost",
                                                                       "lost_reason": "x"}).status_code == 409
    profile = api.get(f"/api/v1/crm/customers/{conv['partner_id']}/profile").json()
    assert profile["order_count"] == 1 and profile["orders"][0]["number"] == won["sales_order_number"]


def test_order_straight_from_lines_without_a_quote(db):
    t = cf.team(db)
    cf.service_product(t, "SVC-1", "50")
    pid = cf.customer(t, "C1")
    api = f.api_client(db, t.alice)
    opp = api.post("/api/v1/crm/opportunities", json={"name": "续单", "partner_id": pid,
                                                      "expected_value": "500"}).json()
    assert api.post(f"/api/v1/crm/opportunities/{opp['id']}/order").status_code == 422  # no quote, no lines
    r = api.post(f"/api/v1/crm/opportunities/{opp['id']}/order",
                 json={"lines": [{"product": "SVC-1", "quantity": "4", "unit_price": "50"}]})
    assert r.status_code == 200, r.text
    assert r.json()["stage"] == "won"


def test_pipeline_groups_by_stage_with_weighted_value(db):
    t = cf.team(db)
    api = f.api_client(db, t.alice)
    for name, stage, value in (("甲", "initial", "1000"), ("乙", "proposal", "2000"), ("丙", "proposal", "4000")):
        assert api.post("/api/v1/crm/opportunities", json={"name": name, "stage": stage,
                                                           "expected_value": value}).status_code == 201
    stages = {x["stage"]: x for x in api.get("/api/v1/crm/opportunities/pipeline").json()["stages"]}
    assert [x for x in stages] == ["initial", "qualified", "proposal", "negotiation", "won", "lost"]
    assert stages["proposal"]["count"] == 2 and stages["proposal"]["value"] == "6000.00"
    assert stages["proposal"]["weighted_value"] == "3000.00"  # 50 %
    assert stages["initial"]["weighted_value"] == "100.00"  # 10 %
    listed = api.get("/api/v1/crm/opportunities", params={"stage": "proposal"}).json()
    assert listed["total"] == 2
    lost = api.post(f"/api/v1/crm/opportunities/{listed['items'][0]['id']}/stage", json={"stage": "lost"})
    assert lost.status_code == 422 and lost.json()["error"]["field"] == "lost_reason"


def test_my_day_lists_exactly_the_users_overdue_and_todays_follow_ups(db):
    t = cf.team(db)
    today = t.today()
    overdue = cf.activity(t, t.alice, "逾期回访", today - D(days=3), kind="call")
    due_today = cf.activity(t, t.alice, "今天拜访", today, kind="visit")
    cf.activity(t, t.alice, "明天发微信", today + D(days=1), kind="wechat")
    cf.activity(t, t.alice, "没有日期的备忘", None)
    done = cf.activity(t, t.alice, "已完成的逾期", today - D(days=1))
    cancelled = cf.activity(t, t.alice, "已取消", today)
    cf.activity(t, t.bob, "别人的今天", today)
    with t.uow(t.alice) as uow:
        crm.complete_activity(uow, done, "客户已回复")
        crm.cancel_activity(uow, cancelled)
    day = f.api_client(db, t.alice).get("/api/v1/crm/my-day").json()
    assert [a["id"] for a in day["overdue"]] == [overdue]
    assert [a["id"] for a in day["today"]] == [due_today]
    assert day["overdue"][0]["overdue"] is True and day["today"][0]["kind_label"] == "拜访"
    assert day["done_today"] == 1
    page = f.web_client(db, t.alice).get("/crm/my-day")
    assert page.status_code == 200
    assert "逾期回访" in page.text and "今天拜访" in page.text
    assert "明天发微信" not in page.text and "别人的今天" not in page.text


def test_reminder_comes_due_on_my_day(db):
    from opensupply.core.types import utcnow

    t = cf.team(db)
    cf.activity(t, t.alice, "下周报价跟进", t.today() + D(days=7), remind_at=utcnow() - D(minutes=5))
    cf.activity(t, t.alice, "以后再提醒", t.today() + D(days=7), remind_at=utcnow() + D(days=2))
    day = f.api_client(db, t.alice).get("/api/v1/crm/my-day").json()
    assert [a["subject"] for a in day["reminders"]] == ["下周报价跟进"]


def test_activity_validation(db):
    t = cf.team(db)
    api = f.api_client(db, t.alice)
    r = api.post("/api/v1/crm/activities", json={"subject": "x", "kind": "telepathy"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "kind"
    r = api.post("/api/v1/crm/activities", json={"subject": "x", "due_date": "2026-13-01"})
    assert r.status_code == 422
    r = api.post("/api/v1/crm/activities", json={"subject": "x", "owner_id": 999999})
    assert r.status_code == 422 and r.json()["error"]["field"] == "owner_id"
    act = api.post("/api/v1/crm/activities", json={"subject": "打电话", "due_date": t.today().isoformat()}).json()
    assert api.post(f"/api/v1/crm/activities/{act['id']}/done", json={"result": "已沟通"}).json()["state"] == "done"
    assert api.post(f"/api/v1/crm/activities/{act['id']}/done", json={}).status_code == 409


def test_opportunity_contact_must_belong_to_its_customer(db):
    t = cf.team(db)
    a, b = cf.customer(t, "A1"), cf.customer(t, "B1")
    with t.uow(t.alice) as uow:
        contact = crm.create_contact(uow, s.ContactIn(partner_id=b, name="乙方联系人")).id
    r = f.api_client(db, t.alice).post("/api/v1/crm/opportunities", json={"name": "x", "partner_id": a,
                                                                          "contact_id": contact})
    assert r.status_code == 422 and r.json()["error"]["field"] == "contact_id"


def test_reminder_typed_in_the_form_is_company_local_time(db):
    t = cf.team(db)
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    r = web.post("/crm/activities/new", data={"csrf_token": token, "kind": "call", "subject": "早上九点提醒",
                                              "due_date": (t.today() + D(days=2)).isoformat(),
                                              "remind_at": f"{t.today() + D(days=1)}T09:00"})
    assert r.status_code == 303, r.text
    item = f.api_client(db, t.alice).get("/api/v1/crm/activities", params={"q": "早上九点"}).json()["items"][0]
    assert item["remind_at"] == f"{t.today() + D(days=1)}T01:00:00+00:00"  # 09:00 in Shanghai
