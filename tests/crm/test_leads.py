"""Leads: one person is one lead however their phone was typed; converting makes a customer,
a contact and an opportunity."""

import pytest

from opensupply.crm import schemas as s
from opensupply.crm import service as crm
from opensupply.crm.models import Lead
from opensupply.masterdata.models import Partner
from tests import factories as f
from tests.crm import factories as cf


@pytest.mark.parametrize("typed", ["+86 138-0013-8000", "0086 13800138000", "138 0013 8000", "8613800138000",
                                   "(+86)13800138000"])
def test_phone_formats_normalize_to_one_number(typed):
    assert crm.normalize_phone(typed) == "13800138000"


def test_landline_with_country_code_matches_local_form():
    assert crm.normalize_phone("+86 571 8888 6666") == crm.normalize_phone("0571-88886666") == "057188886666"


def test_same_phone_in_another_format_is_flagged_not_a_second_lead(db):
    t = cf.team(db)
    first = cf.lead(t, t.alice, name="王经理", phone="138 0013 8000", company_name="杭州佳源商贸", source="expo")
    assert not first.duplicate
    again = cf.lead(t, t.bob, name="王先生", phone="+86 138-0013-8000", source="douyin")
    assert again.duplicate
    assert again.lead.id == first.lead.id
    with t.uow(readonly=True) as uow:
        leads, total = crm.list_leads(uow, scope="all")
        assert total == 1
        assert leads[0].duplicate_count == 1
        assert "抖音" in leads[0].notes


def test_same_email_different_case_is_a_duplicate_through_the_api(db):
    t = cf.team(db)
    api = f.api_client(db, t.alice)
    r = api.post("/api/v1/crm/leads", json={"name": "李娜", "email": "Li.Na@Example.com", "source": "website"})
    assert r.status_code == 201, r.text
    assert r.json()["number"].startswith("XS")
    r2 = api.post("/api/v1/crm/leads", json={"name": "李娜", "email": " li.na@example.COM ", "source": "taobao"})
    assert r2.status_code == 200
    assert r2.json()["duplicate"] is True and r2.json()["id"] == r.json()["id"]
    assert api.get("/api/v1/crm/leads").json()["total"] == 1
    # searching by the phone in any format finds the lead
    api.post("/api/v1/crm/leads", json={"name": "赵六", "phone": "0571-8888 6666", "source": "referral"})
    found = api.get("/api/v1/crm/leads", params={"q": "+86 571 88886666"}).json()
    assert [x["name"] for x in found["items"]] == ["赵六"]


def test_lead_needs_a_way_to_reach_them_and_a_valid_phone(db):
    t = cf.team(db)
    api = f.api_client(db, t.alice)
    r = api.post("/api/v1/crm/leads", json={"name": "无联系方式", "source": "expo"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "phone"
    r = api.post("/api/v1/crm/leads", json={"name": "x", "phone": "abc-def", "source": "expo"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "phone"
    r = api.post("/api/v1/crm/leads", json={"name": "x", "phone": "13800138000", "source": "nowhere"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "source"


def test_editing_a_lead_onto_another_leads_phone_is_a_conflict(db):
    t = cf.team(db)
    cf.lead(t, t.alice, name="甲", phone="13900001111")
    other = cf.lead(t, t.alice, name="乙", phone="13900002222").lead
    api = f.api_client(db, t.alice)
    r = api.patch(f"/api/v1/crm/leads/{other.id}", json={"phone": "+86 139 0000 1111"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "phone"


def test_convert_lead_makes_customer_contact_and_opportunity(db):
    t = cf.team(db)
    lead = cf.lead(t, t.alice, name="王经理", phone="13800138000", company_name="杭州佳源商贸有限公司",
                   expected_value="50000").lead
    follow = cf.activity(t, t.alice, "电话介绍产品", t.today(), lead_id=lead.id)
    api = f.api_client(db, t.alice)
    r = api.post(f"/api/v1/crm/leads/{lead.id}/convert", json={"opportunity_name": "保温杯团购"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lead"]["state"] == "converted"
    partner = api.get(f"/api/v1/partners/{body['partner_id']}").json()
    assert partner["name"] == "杭州佳源商贸有限公司" and partner["is_customer"] is True
    contact = api.get(f"/api/v1/crm/contacts/{body['contact_id']}").json()
    assert contact["name"] == "王经理" and contact["partner_id"] == body["partner_id"]
    opp = api.get(f"/api/v1/crm/opportunities/{body['opportunity_id']}").json()
    assert opp["stage"] == "initial" and opp["stage_label"] == "初步接触"
    assert opp["expected_value"] == "50000.00" and opp["owner"] == t.alice
    act = api.get(f"/api/v1/crm/activities/{follow}").json()
    assert act["partner_id"] == body["partner_id"] and act["opportunity_id"] == body["opportunity_id"]
    # converting twice is refused; the customer is owned by the lead's owner
    assert api.post(f"/api/v1/crm/leads/{lead.id}/convert", json={}).status_code == 409
    profile = api.get(f"/api/v1/crm/customers/{body['partner_id']}/profile").json()
    assert profile["owner"] == t.alice and profile["segment"] == "no_orders"


def test_convert_a_lead_whose_phone_was_typed_with_dots(db):
    t = cf.team(db)
    lead = cf.lead(t, t.alice, name="钱", phone="138.0013.8000", company_name="钱氏").lead
    r = f.api_client(db, t.alice).post(f"/api/v1/crm/leads/{lead.id}/convert", json={})
    assert r.status_code == 200, r.text
    partner = f.api_client(db, t.alice).get(f"/api/v1/partners/{r.json()['partner_id']}").json()
    assert partner["phone"] == "13800138000"


def test_later_enquiry_from_a_customers_contact_is_linked_to_the_customer(db):
    t = cf.team(db)
    lead = cf.lead(t, t.alice, name="王经理", phone="13800138000", company_name="佳源").lead
    with t.uow(t.alice) as uow:
        crm.convert_lead(uow, lead.id, s.LeadConvertIn(create_opportunity=False))
    with t.uow(t.alice) as uow:
        partner_id = uow.session.query(Partner.id).filter(Partner.name == "佳源").scalar()
        contact = crm.create_contact(uow, s.ContactIn(partner_id=partner_id, name="财务刘", phone="13700001234"))
    new = cf.lead(t, t.bob, name="刘", phone="137-0000-1234").lead
    assert not isinstance(new, type(None))
    with t.uow(readonly=True) as uow:
        got = uow.get(Lead, new.id)
        assert got.partner_id == partner_id and got.contact_id == contact.id


def test_salespeople_see_their_own_leads_by_default_managers_all(db):
    t = cf.team(db)
    cf.lead(t, t.alice, name="A的线索", phone="13800000001")
    cf.lead(t, t.bob, name="B的线索", phone="13800000002")
    with t.uow(t.alice, readonly=True) as uow:
        mine, _n = crm.list_leads(uow)
        everyone, _n = crm.list_leads(uow, scope="all")
    assert [x.name for x in mine] == ["A的线索"]
    assert len(everyone) == 2
    manager = f.api_client(db, t.manager)
    assert manager.get("/api/v1/crm/leads").json()["total"] == 2
    assert manager.get("/api/v1/crm/leads", params={"scope": "mine"}).json()["total"] == 0


def test_two_simultaneous_enquiries_with_one_phone_make_one_lead(db):
    import threading

    t = cf.team(db)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def enquire(phone):
        try:
            barrier.wait(timeout=10)
            results.append(cf.lead(t, t.alice, name="同一人", phone=phone))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=enquire, args=(p,)) for p in ("13812345678", "+86 138 1234 5678")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors
    assert sorted(r.duplicate for r in results) == [False, True]
    with t.uow(readonly=True) as uow:
        assert crm.list_leads(uow, scope="all")[1] == 1


def _formats(mobile: str) -> list[str]:
    a, b, c = mobile[:3], mobile[3:7], mobile[7:]
    return [mobile, f"{a} {b} {c}", f"{a}-{b}-{c}", f"+86 {mobile}", f"+86-{a}-{b}-{c}", f"0086{mobile}",
            f"86{mobile}", f"(+86) {a} {b} {c}", f" {a}.{b}.{c} "]


def test_every_way_of_typing_a_mobile_number_is_one_key():
    from hypothesis import given
    from hypothesis import strategies as st

    @given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    def check(mobile):
        assert {crm.normalize_phone(x) for x in _formats(mobile)} == {mobile}

    check()


def test_landlines_with_and_without_country_code_are_one_key():
    from hypothesis import given
    from hypothesis import strategies as st

    # area codes as China numbers them: 010, 02x, then 0 + three digits starting 3–9
    @given(st.from_regex(r"010|02[0-9]|0[3-9][0-9]{2}", fullmatch=True),
           st.from_regex(r"[2-8][0-9]{6,7}", fullmatch=True))
    def check(area, number):
        local = crm.normalize_phone(f"{area}-{number}")
        assert local == area + number
        assert crm.normalize_phone(f"+86 {area[1:]} {number}") == local
        assert crm.normalize_phone(f"+86 ({area}) {number}") == local  # the trunk 0 kept by mistake

    check()
