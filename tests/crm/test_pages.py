"""The CRM pages a salesperson uses: every list renders with its filters and exports, forms
save or show the error, the kanban moves a deal with one click (htmx or plain form)."""

import datetime as dt
import re

from opensupply.crm import schemas as s
from opensupply.crm import service as crm
from tests import factories as f
from tests.crm import factories as cf

D = dt.timedelta


def test_every_crm_page_renders(db):
    t = cf.team(db)
    cf.service_product(t)
    pid = cf.customer(t, "K1", "杭州佳源", owner=t.alice)
    cf.order(t, pid, t.today() - D(days=30), "500")
    cf.order(t, pid, t.today() - D(days=1), "700")
    lead = cf.lead(t, t.alice, name="王经理", phone="13800138000", source="douyin").lead
    with t.uow(t.alice) as uow:
        opp = crm.create_opportunity(uow, s.OpportunityIn(name="团购保温杯", partner_id=pid,
                                                          expected_value="8000")).id
        ticket = crm.create_ticket(uow, s.TicketIn(subject="破损", partner_id=pid)).id
        crm.create_contact(uow, s.ContactIn(partner_id=pid, name="采购刘", phone="13700000000"))
    with t.uow() as uow:
        camp = crm.create_campaign(uow, s.CampaignIn(name="回访", segment=crm.customer_stats(uow)[pid].segment)).id
    web = f.web_client(db, t.alice)
    pages = {"/crm/my-day": "我的一天", "/crm/leads": "王经理", f"/crm/leads/{lead.id}": "抖音",
             "/crm/opportunities": "团购保温杯", "/crm/opportunities/kanban": "方案报价",
             f"/crm/opportunities/{opp}": "团购保温杯", "/crm/activities": "跟进记录",
             "/crm/customers": "杭州佳源", f"/crm/customers/{pid}": "回款进度", "/crm/contacts": "采购刘",
             "/crm/tickets": "破损", f"/crm/tickets/{ticket}": "破损", "/crm/campaigns": "回访",
             f"/crm/campaigns/{camp}": "杭州佳源", "/crm/leads/new": "新建线索",
             "/crm/opportunities/new": "新建商机", "/crm/activities/new": "新建跟进",
             "/crm/tickets/new": "新建售后工单", "/crm/contacts/new": "新建联系人"}
    for path, text in pages.items():
        r = web.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert text in r.text, path
    profile = web.get(f"/crm/customers/{pid}").text
    assert "¥1,200.00" in profile  # lifetime value
    for base in ("leads", "opportunities", "activities", "customers", "tickets"):
        for fmt in ("csv", "xlsx"):
            r = web.get(f"/crm/{base}/export?format={fmt}&scope=all")
            assert r.status_code == 200, base
    assert "王经理" in web.get("/crm/leads/export?format=csv").content.decode("utf-8-sig")
    assert web.get(f"/crm/campaigns/{camp}/contacts?format=xlsx").content[:2] == b"PK"
    # filters narrow the lists
    assert "王经理" not in web.get("/crm/leads?source=expo").text
    assert "团购保温杯" not in web.get("/crm/opportunities?stage=won").text


def test_lead_form_dedupes_and_shows_errors(db):
    t = cf.team(db)
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    r = web.post("/crm/leads/new", data={"csrf_token": token, "name": "王经理", "phone": "13800138000",
                                         "source": "expo"})
    assert r.status_code == 303
    r = web.post("/crm/leads/new", data={"csrf_token": token, "name": "王", "phone": "+86 138 0013 8000",
                                         "source": "website"})
    assert r.status_code == 303
    page = web.get(r.headers["location"]).text
    assert "已记为重复咨询" in page and "重复咨询 1 次" in page
    r = web.post("/crm/leads/new", data={"csrf_token": token, "name": "", "phone": "1"})
    assert r.status_code == 422
    r = web.post("/crm/leads/new", data={"csrf_token": token, "name": "x", "phone": "12", "source": "expo"})
    assert r.status_code == 422 and "电话格式不正确" in r.text
    assert web.post("/crm/leads/new", data={"name": "no token", "phone": "13900000000"}).status_code == 403


def test_convert_and_win_through_the_pages(db):
    t = cf.team(db)
    cf.service_product(t, "SVC-9", "99")
    lead = cf.lead(t, t.alice, name="赵总", phone="13600000000", company_name="宁波赵氏贸易").lead
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    r = web.post(f"/crm/leads/{lead.id}/convert", data={"csrf_token": token, "opportunity_name": "年度采购"})
    assert r.status_code == 303
    opp_url = r.headers["location"]
    opp_id = int(opp_url.rsplit("/", 1)[1])
    r = web.post(f"{opp_url}/quote", data={"csrf_token": token, "product_0": "SVC-9", "quantity_0": "3",
                                           "unit_price_0": "99"})
    assert r.status_code == 303
    page = web.get(opp_url).text
    assert "已生成报价单" in page and "方案报价" in page
    r = web.post(f"{opp_url}/order", data={"csrf_token": token})
    assert r.status_code == 303
    page = web.get(opp_url).text
    assert "赢单" in page and re.search(r'id="sales-order"><a href="/erp/sales-orders/\d+">', page)
    with t.uow(readonly=True) as uow:
        assert uow.get(crm.Opportunity, opp_id).stage == "won"


def test_kanban_moves_a_deal_with_htmx_and_without(db):
    t = cf.team(db)
    with t.uow(t.alice) as uow:
        opp = crm.create_opportunity(uow, s.OpportunityIn(name="看板商机", expected_value="100")).id
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    board = web.get("/crm/opportunities/kanban").text
    assert f'id="opp-{opp}"' in board and "需求确认 ›" in board
    r = web.post(f"/crm/opportunities/{opp}/stage", data={"stage": "qualified",
                                                          "next": "/crm/opportunities/kanban"},
                 headers={"HX-Request": "true", "X-CSRF-Token": token}, follow_redirects=True)
    assert r.status_code == 200 and 'id="kanban"' in r.text
    column = re.search(r'data-stage="qualified".*?</section>', r.text, re.S).group(0)
    assert "看板商机" in column
    r = web.post(f"/crm/opportunities/{opp}/stage", data={"csrf_token": token, "stage": "proposal"})
    assert r.status_code == 303
    with t.uow(readonly=True) as uow:
        assert uow.get(crm.Opportunity, opp).stage == "proposal"
    # an error on the kanban comes back as JSON for htmx to show
    r = web.post(f"/crm/opportunities/{opp}/stage", data={"stage": "lost"},
                 headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 422 and r.json()["error"]["field"] == "lost_reason"


def test_follow_up_done_from_my_day(db):
    t = cf.team(db)
    act = cf.activity(t, t.alice, "回电话", t.today())
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    r = web.post(f"/crm/activities/{act}/done", data={"csrf_token": token, "next": "/crm/my-day"})
    assert r.status_code == 303 and r.headers["location"] == "/crm/my-day"
    assert "回电话" not in web.get("/crm/my-day").text


def test_every_crm_message_has_an_english_translation_and_pages_read_in_english(db):
    from tests.web.test_i18n import PKG, _english, _extract

    used = _extract([PKG / "crm"])
    assert "复购提醒：{name} 预计 {date} 复购，至今未下单" in used
    english = _english()
    missing = sorted(f"{where}: {msgid}" for msgid, where in used.items() if msgid not in english)
    assert not missing, "untranslated (run scripts/i18n.sh crm, then translate):\n" + "\n".join(missing)
    t = cf.team(db)
    cf.activity(t, t.alice, "回电话", t.today() - D(days=1))
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    web.post("/settings/locale", data={"csrf_token": token, "locale": "en", "next": "/"})
    page = web.get("/crm/my-day").text
    assert "My day" in page and "Overdue" in page and "我的一天" not in page
    board = web.get("/crm/opportunities/kanban").text
    assert "First contact" in board and "Negotiation" in board
    r = f.api_client(db, t.alice)  # the API answers in the language the user chose
    err = r.post("/api/v1/crm/leads", json={"name": "x", "phone": "12"}).json()
    assert err["error"]["message"] == "Invalid phone number: 12"


def test_edit_lead_opportunity_and_ticket_through_their_forms(db):
    t = cf.team(db)
    pid = cf.customer(t, "K1")
    lead = cf.lead(t, t.alice, name="王经理", phone="13800138000").lead
    other = cf.lead(t, t.alice, name="李", phone="13900000000").lead
    with t.uow(t.alice) as uow:
        opp = crm.create_opportunity(uow, s.OpportunityIn(name="旧名称", partner_id=pid)).id
        ticket = crm.create_ticket(uow, s.TicketIn(subject="旧主题", partner_id=pid)).id
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    form = web.get(f"/crm/leads/{lead.id}/edit").text
    assert 'value="王经理"' in form and "编辑线索" in form
    r = web.post(f"/crm/leads/{lead.id}/edit", data={"csrf_token": token, "name": "王建国", "phone": "13800138000",
                                                     "source": "website"})
    assert r.status_code == 303
    assert "王建国" in web.get(f"/crm/leads/{lead.id}").text
    r = web.post(f"/crm/leads/{other.id}/edit", data={"csrf_token": token, "name": "李", "phone": "+86 13800138000"})
    assert r.status_code == 422 and "重复" in r.text
    r = web.post(f"/crm/opportunities/{opp}/edit", data={"csrf_token": token, "name": "新名称",
                                                         "partner_id": str(pid), "expected_value": "9000",
                                                         "probability": "40"})
    assert r.status_code == 303
    page = web.get(f"/crm/opportunities/{opp}").text
    assert "新名称" in page and "40%" in page
    r = web.post(f"/crm/tickets/{ticket}/edit", data={"csrf_token": token, "subject": "新主题", "kind": "repair",
                                                      "priority": "high", "due_date": t.today().isoformat()})
    assert r.status_code == 303
    assert "维修" in web.get(f"/crm/tickets/{ticket}").text


def test_edit_and_archive_a_contact(db):
    t = cf.team(db)
    pid = cf.customer(t, "K1")
    with t.uow(t.alice) as uow:
        contact = crm.create_contact(uow, s.ContactIn(partner_id=pid, name="采购刘", phone="13700000000",
                                                      is_primary=True)).id
    web = f.web_client(db, t.alice)
    token = f.csrf(web)
    assert 'value="采购刘"' in web.get(f"/crm/contacts/{contact}/edit").text
    r = web.post(f"/crm/contacts/{contact}/edit", data={"csrf_token": token, "name": "采购刘经理",
                                                        "partner_id": str(pid), "phone": "137 0000 0000"})
    assert r.status_code == 303
    got = f.api_client(db, t.alice).get(f"/api/v1/crm/contacts/{contact}").json()
    assert got["name"] == "采购刘经理" and got["is_primary"] is False  # the unticked box
    r = web.post(f"/crm/contacts/{contact}/edit", data={"csrf_token": token, "name": "x", "email": "nope"})
    assert r.status_code == 422 and "邮箱格式不正确" in r.text
    assert web.post(f"/crm/contacts/{contact}/archive", data={"csrf_token": token}).status_code == 303
    assert "采购刘经理" not in web.get("/crm/contacts").text
