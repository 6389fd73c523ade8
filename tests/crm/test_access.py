"""Who may see and change CRM records: 401 without login, 403 without permission, 404 for
another company's records."""

from opensupply.crm import schemas as s
from opensupply.crm import service as crm
from tests import factories as f
from tests.crm import factories as cf


def test_crm_api_needs_login(db):
    anon = f.anonymous(db, follow_redirects=False)
    for path in ("/api/v1/crm/leads", "/api/v1/crm/my-day", "/api/v1/crm/customers", "/api/v1/crm/tickets"):
        r = anon.get(path)
        assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated", path
    assert anon.get("/crm/my-day").status_code == 303  # pages send to the login


def test_roles_without_crm_permission_get_403(db):
    t = cf.team(db)
    wh = f.api_client(db, f.user(db, t.company, "keeper", roles=("warehouse",)))
    assert wh.get("/api/v1/crm/leads").status_code == 403
    assert wh.post("/api/v1/crm/leads", json={"name": "x", "phone": "13800138000"}).status_code == 403
    finance = f.api_client(db, f.user(db, t.company, "fin", roles=("finance",)))
    assert finance.get("/api/v1/crm/opportunities").status_code == 403
    web = f.web_client(db, "keeper")
    assert web.get("/crm/leads").status_code == 403


def test_another_companys_records_are_not_found(db):
    t = cf.team(db, "A")
    other = cf.team(db, "B")
    cf.service_product(other)
    their_customer = cf.customer(other, "B-CUST")
    their_lead = cf.lead(other, other.alice, name="对方线索", phone="13911112222").lead.id
    with other.uow(other.alice) as uow:
        opp = crm.create_opportunity(uow, s.OpportunityIn(name="对方商机", partner_id=their_customer)).id
        act = crm.create_activity(uow, s.ActivityIn(subject="对方跟进")).id
        ticket = crm.create_ticket(uow, s.TicketIn(subject="对方工单", partner_id=their_customer)).id
    api = f.api_client(db, t.manager)
    for path in (f"/api/v1/crm/leads/{their_lead}", f"/api/v1/crm/opportunities/{opp}",
                 f"/api/v1/crm/activities/{act}", f"/api/v1/crm/tickets/{ticket}",
                 f"/api/v1/crm/customers/{their_customer}/profile"):
        assert api.get(path).status_code == 404, path
    assert api.post(f"/api/v1/crm/leads/{their_lead}/convert", json={}).status_code == 404
    assert api.post(f"/api/v1/crm/opportunities/{opp}/stage", json={"stage": "qualified"}).status_code == 404
    assert api.post(f"/api/v1/crm/activities/{act}/done", json={}).status_code == 404
    assert api.patch(f"/api/v1/crm/tickets/{ticket}", json={"subject": "x"}).status_code == 404
    # nor can their customer be used in our records
    r = api.post("/api/v1/crm/opportunities", json={"name": "x", "partner_id": their_customer})
    assert r.status_code == 422 and r.json()["error"]["field"] == "partner_id"
    # and the same phone is a new lead here, not a duplicate of theirs
    r = api.post("/api/v1/crm/leads", json={"name": "我方线索", "phone": "139 1111 2222"})
    assert r.status_code == 201
    assert api.get("/api/v1/crm/leads", params={"scope": "all"}).json()["total"] == 1
    web = f.web_client(db, t.manager)
    assert web.get(f"/crm/opportunities/{opp}").status_code == 404
    assert web.get(f"/crm/customers/{their_customer}").status_code == 404
