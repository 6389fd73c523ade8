"""Customer analytics on a small hand-made order history: RFM scores and segments, profile
figures, repurchase reminders, campaigns and collections."""

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.crm import rfm
from opensupply.crm import schemas as s
from opensupply.crm import service as crm
from opensupply.crm.models import Activity
from tests import factories as f
from tests.crm import factories as cf

D = dt.timedelta


def history(t: cf.Team) -> dict[str, int]:
    """Five customers with orders, one without (days before today, amount):
    A 10/40/70 days ago 1000 each · B 100 days ago 5000 · C 20 and 50 days ago 200 + 300 ·
    D 200/230/260/290 days ago 100 each · E 60 days ago 800 · F none."""
    today = t.today()
    cf.service_product(t)
    ids = {code: cf.customer(t, code, f"客户{code}", owner=t.alice if code in "ABC" else t.bob) for code in "ABCDEF"}
    plan = {"A": [(10, "1000"), (40, "1000"), (70, "1000")], "B": [(100, "5000")], "C": [(20, "200"), (50, "300")],
            "D": [(200, "100"), (230, "100"), (260, "100"), (290, "100")], "E": [(60, "800")]}
    for code, orders in plan.items():
        for days, amount in orders:
            cf.order(t, ids[code], today - D(days=days), amount)
    return ids


def test_rfm_scores_and_segments_match_the_hand_computation(db):
    t = cf.team(db)
    ids = history(t)
    # By hand, with quintile cut points (statistics.quantiles, inclusive):
    #   recency 10,20,60,100,200 → cuts 18, 44, 76, 120; lower is better
    #   frequency 1,1,2,3,4      → cuts 1, 1.6, 2.4, 3.2
    #   monetary 400,500,800,3000,5000 → cuts 480, 680, 1680, 3400
    expected = {"A": (5, 4, 4, "important_value"), "B": (2, 1, 5, "important_retain"),
                "C": (4, 3, 2, "general_value"), "D": (1, 5, 1, "general_keep"),
                "E": (3, 1, 3, "important_develop")}
    api = f.api_client(db, t.manager)
    for code, (r, fr, m, segment) in expected.items():
        p = api.get(f"/api/v1/crm/customers/{ids[code]}/profile").json()
        assert (p["r_score"], p["f_score"], p["m_score"], p["segment"]) == (r, fr, m, segment), code
    a = api.get(f"/api/v1/crm/customers/{ids['A']}/profile").json()
    assert a["lifetime_value"] == "3000.00" and a["order_count"] == 3
    assert a["last_order_date"] == (t.today() - D(days=10)).isoformat()
    assert a["average_order_interval_days"] == "30.0" and a["segment_label"] == "重要价值客户"
    assert a["expected_next_purchase_date"] == (t.today() + D(days=20)).isoformat()
    assert api.get(f"/api/v1/crm/customers/{ids['F']}/profile").json()["segment"] == "no_orders"
    segments = {x["segment"]: x for x in api.get("/api/v1/crm/segments").json()["items"]}
    assert segments["important_value"]["customers"] == 1 and segments["important_value"]["revenue"] == "3000.00"
    assert segments["no_orders"]["customers"] == 1
    listed = api.get("/api/v1/crm/customers", params={"segment": "general_keep"}).json()
    assert [x["code"] for x in listed["items"]] == ["D"]


def test_rfm_pure_function_on_ties_and_a_single_customer():
    day = dt.date(2026, 6, 30)
    one = rfm.customer_stats([rfm.Order(1, day, Decimal("10"))], day)
    assert one[1].rfm == "333" and one[1].next_purchase is None  # nobody to compare with: the middle
    same_day = rfm.customer_stats([rfm.Order(1, day, Decimal("1")), rfm.Order(1, day, Decimal("1")),
                                   rfm.Order(1, day - D(days=10), Decimal("1"))], day)
    assert same_day[1].median_interval_days == Decimal("10")  # two orders on one day: one purchase


def test_repurchase_reminder_is_created_once(db):
    t = cf.team(db)
    ids = history(t)
    bob_id = t.user_id(t.bob)
    with t.uow() as uow:
        made = crm.check_repurchase(uow)
        assert [a.partner_id for a in made] == [ids["D"]]  # D buys every 30 days, last 200 days ago
        assert made[0].owner_id == bob_id and made[0].origin == "repurchase"
    with t.uow() as uow:
        assert crm.check_repurchase(uow) == []  # replaying is a no-op
    # the reminder shows on the owner's day (my-day runs the check too, still one reminder)
    bob = f.api_client(db, t.bob)
    day = bob.get("/api/v1/crm/my-day").json()
    assert [a["subject"] for a in day["today"]] == [f"复购提醒：客户D 预计 {(t.today() - D(days=170)).isoformat()} "
                                                    "复购，至今未下单"]
    with t.uow(readonly=True) as uow:
        n = uow.session.query(Activity).filter(Activity.origin == "repurchase").count()
    assert n == 1
    # a new order moves the expectation on: no new reminder
    cf.order(t, ids["D"], t.today(), "100")
    with t.uow() as uow:
        assert crm.check_repurchase(uow) == []


def test_campaign_targets_a_segment_exports_contacts_and_counts_orders_that_followed(db):
    t = cf.team(db)
    ids = history(t)
    with t.uow(t.alice) as uow:
        crm.create_contact(uow, s.ContactIn(partner_id=ids["A"], name="采购王", phone="13800138000",
                                            is_primary=True))
    api = f.api_client(db, t.manager)
    r = api.post("/api/v1/crm/campaigns", json={"name": "618 回馈", "segment": "important_value",
                                                "window_days": 14})
    assert r.status_code == 201, r.text
    camp = r.json()
    assert camp["member_count"] == 1
    alice = f.api_client(db, t.alice)
    acts = alice.get("/api/v1/crm/activities", params={"campaign_id": camp["id"]}).json()
    assert acts["total"] == 1 and acts["items"][0]["owner"] == t.alice
    csv = api.get(f"/api/v1/crm/campaigns/{camp['id']}/contacts", params={"format": "csv"})
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert "客户A" in text and "采购王" in text and "13800138000" in text and "客户B" not in text
    xlsx = api.get(f"/api/v1/crm/campaigns/{camp['id']}/contacts", params={"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    cf.order(t, ids["A"], t.today(), "1200")
    cf.order(t, ids["B"], t.today(), "999")  # not a member
    results = api.get(f"/api/v1/crm/campaigns/{camp['id']}/results").json()
    assert results["order_count"] == 1 and results["revenue"] == "1200.00"
    assert results["customers_ordered"] == 1 and results["conversion_pct"] == "100.0"


def test_campaign_on_an_empty_segment_is_refused(db):
    t = cf.team(db)
    history(t)
    r = f.api_client(db, t.manager).post("/api/v1/crm/campaigns", json={"name": "x", "segment": "general_develop"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "segment"


@pytest.mark.parametrize("paid", ["0", "300"])
def test_collection_progress_from_invoices_and_receipts(db, paid):
    from opensupply.erp.sales import service as sales

    t = cf.team(db)
    cf.service_product(t)
    pid = cf.customer(t, "K1", terms_days=30)
    old = cf.order(t, pid, t.today() - D(days=60), "1000")
    new = cf.order(t, pid, t.today() - D(days=5), "500")
    with t.uow() as uow:
        sales.invoice_order(uow, old, invoice_date=t.today() - D(days=60))
        sales.invoice_order(uow, new, invoice_date=t.today() - D(days=5))
        if paid != "0":
            sales.register_receipt(uow, pid, Decimal(paid))
    api = f.api_client(db, t.manager)
    c = api.get(f"/api/v1/crm/customers/{pid}/profile").json()["collections"]
    assert c["invoiced"] == "1500.00"
    assert c["received"] == f"{paid}.00"
    assert c["balance"] == str(Decimal("1500.00") - Decimal(paid))
    assert c["overdue"] == str(Decimal("1000.00") - Decimal(paid))  # the 60-day-old invoice, terms 30 days
    rows = api.get("/api/v1/crm/collections", params={"overdue_only": True}).json()
    assert rows["total"] == 1 and rows["items"][0]["partner_code"] == "K1"


def test_repurchase_check_runs_as_a_job(db, monkeypatch):
    from opensupply.core import jobs

    t = cf.team(db)
    history(t)
    monkeypatch.setattr(jobs, "in_process", False)
    with t.uow() as uow:
        job_id = jobs.enqueue(uow, "crm.repurchase_check").id
    jobs.run_job(db, job_id)
    with t.uow(readonly=True) as uow:
        job = uow.session.get(jobs.Job, job_id)
        assert job.status == jobs.DONE and job.result == {"created": 1}
