"""The demo's CRM is populated: the sales user has overdue and today's follow-ups, leads from
several channels (one of them a flagged repeat enquiry), deals in every stage, tickets."""

from tests import factories as f


def test_demo_crm_fills_the_sales_users_pages(sqlite_db, monkeypatch):
    monkeypatch.setenv("OPENSUPPLY_DEMO_PASSWORD", "Demo-pass-2026")
    from opensupply.core.config import get_settings
    from opensupply.demo import seed_demo

    get_settings.cache_clear()
    try:
        assert seed_demo()["created"]
    finally:
        get_settings.cache_clear()
    api = f.api_client(sqlite_db, "sales", "Demo-pass-2026")
    day = api.get("/api/v1/crm/my-day").json()
    assert day["overdue"] and day["today"]
    leads = api.get("/api/v1/crm/leads", params={"limit": 100}).json()["items"]
    assert {x["source"] for x in leads} >= {"expo", "website", "douyin", "referral", "taobao"}
    assert any(x["duplicate_count"] for x in leads)
    stages = {x["stage"]: x["count"] for x in api.get("/api/v1/crm/opportunities/pipeline").json()["stages"]}
    assert all(stages[s] for s in ("initial", "qualified", "proposal", "negotiation", "won", "lost")), stages
    tickets = api.get("/api/v1/crm/tickets", params={"scope": "all"}).json()
    assert tickets["total"] == 3 and any(t["overdue"] for t in tickets["items"])
    assert any(t["sales_order_number"] for t in tickets["items"])
    customers = api.get("/api/v1/crm/customers", params={"limit": 100}).json()["items"]
    assert any(c["order_count"] > 1 for c in customers)
    assert api.get("/api/v1/crm/campaigns").json()["total"] == 1
    web = f.web_client(sqlite_db, "sales", "Demo-pass-2026")
    for path in ("/crm/my-day", "/crm/opportunities/kanban", "/crm/customers", "/crm/tickets", "/crm/campaigns"):
        assert web.get(path).status_code == 200, path
