"""Rough-cut capacity check computed by hand on the MES furniture plant (weeks from S = Monday of this week):

    routings   top  YS-TOP-120:  开料 on CUT setup 20 + run 6, 封边 on CUT run 4   → CUT 20 + 10 × qty
               desk YS-DESK-120: 组装 on ASM setup 10 + run 15, 包装 on ASM run 5  → ASM 10 + 20 × qty
    machines   CUT 2 (one added here), ASM 1
    roster     早班 08:00–16:00 with 30 min break = 450 min: CUT on S and S+1, ASM on S; CUT and ASM on S+7

MRP: a sales order for 30 desks wanted S+8 plans desk 30 and top 30 released in week 1 → week 1: ASM 10 + 600
= 610 of 450 (135.6 %, overloaded), CUT 20 + 300 = 320 of 2 × 450 = 900 (35.6 %).
After the run, work orders by hand (not seen by the run): desk 4 due S+2 → ASM 10 + 60 + 20 = 90 of 450 in
week 0 (20.0 %); top 30 due S+3 → CUT 20 + 180 + 120 = 320 of 2 × 900 = 1800 (17.8 %).
Week 2 has no roster and no load.
"""

import datetime as dt
from decimal import Decimal

import pytest

from opensupply.core import modules
from opensupply.core import resource as rs
from opensupply.core.sequences import company_today
from opensupply.erp.planning import capacity
from opensupply.erp.planning import service as mrp
from opensupply.erp.sales import service as sales
from opensupply.mes import calendar
from opensupply.mes import resources as mesres
from opensupply.mes import work_orders as wos
from opensupply.mes.models import Equipment
from tests import factories as f
from tests.mes.factories import customer, plant

D = Decimal


@pytest.fixture
def shop(db):
    p = plant(db, stock=False)
    cust = customer(p, "K-01", "杭州家居")
    with p.uow() as uow:
        uow.add(Equipment(code="CUT-02", name="开料线 2 号机", work_center_id=p.work_centers["CUT"]))
        rs.create_record(uow, mesres.shifts, {"code": "EARLY", "name": "早班", "start_time": "08:00",
                                              "end_time": "16:00", "break_minutes": 30})
        today = company_today(uow)
        s = today - dt.timedelta(days=today.weekday())
        for wc, day in (("CUT", 0), ("CUT", 1), ("ASM", 0), ("CUT", 7), ("ASM", 7)):
            calendar.assign_shift(uow, work_center=wc, day=s + dt.timedelta(days=day), shift="EARLY")
        sales.create_sales_order(uow, customer_id=cust, lines=[sales.SalesLineIn(sku="YS-DESK-120", quantity=30)],
                                 requested_date=s + dt.timedelta(days=8), confirm=True)
    with p.uow() as uow:
        mrp.run_mrp(uow, horizon=8)
    with p.uow() as uow:
        desk = wos.create_work_order(uow, product="YS-DESK-120", quantity=4, due_date=s + dt.timedelta(days=2))
        top = wos.create_work_order(uow, product="YS-TOP-120", quantity=30, due_date=s + dt.timedelta(days=3))
        p.wo = {"desk": desk.id, "top": top.id}
    p.start = s
    return p


def _cells(data):
    return {w["code"]: [(c["load_minutes"], c["available_minutes"], c["utilisation_pct"], c["overloaded"])
                        for c in w["cells"]] for w in data["work_centers"]}


def test_rough_cut_load_by_hand(shop):
    with shop.uow(readonly=True) as uow:
        data = capacity.rough_cut_capacity(uow, weeks=3)
        cells = _cells(data)
        assert data["mes_enabled"] and data["run"] is not None and data["periods"][0] == shop.start
        assert cells["CUT"] == [(D(320), D(1800), D("17.8"), False), (D(320), D(900), D("35.6"), False),
                                (D(0), D(0), None, False)]
        assert cells["ASM"] == [(D(90), D(450), D("20.0"), False), (D(610), D(450), D("135.6"), True),
                                (D(0), D(0), None, False)]
        asm = next(w for w in data["work_centers"] if w["code"] == "ASM")
        assert (asm["load_minutes"], asm["available_minutes"]) == (D(700), D(900)) and not asm["overloaded"]
        # drill-down: which orders make ASM's load in week 1 and in week 0
        week1 = capacity.capacity_orders(uow, shop.work_centers["ASM"], shop.start + dt.timedelta(days=7), weeks=3)
        assert [(r["source"], r["sku"], r["quantity"], r["minutes"]) for r in week1] == [
            ("planned_order", "YS-DESK-120", D(30), D(610))]
        week0 = capacity.capacity_orders(uow, shop.work_centers["ASM"], shop.start + dt.timedelta(days=3), weeks=3)
        assert [(r["source"], r["id"], r["operation"], r["minutes"]) for r in week0] == [
            ("work_order", shop.wo["desk"], "组装、包装", D(90))]
        _header, rows = capacity.export_rows(uow, weeks=3)
        assert len(rows) == 6 and ["ASM", "组装线", (shop.start + dt.timedelta(days=7)).isoformat(), D(610), D(450),
                                   D("135.6"), "是"] in rows


def test_capacity_page_api_and_export(shop, db):
    admin = f.user(db, shop.company, roles=("admin",))
    api = f.api_client(db, admin)
    body = api.get("/api/v1/erp/planning/capacity", params={"weeks": 2}).json()
    asm = next(i for i in body["items"] if i["code"] == "ASM")
    assert body["mes_enabled"] is True and body["periods"][0] == shop.start.isoformat()
    assert [(c["load_minutes"], c["available_minutes"], c["utilisation_pct"], c["overloaded"]) for c in asm["cells"]] \
        == [("90.00", "450.00", "20.0", False), ("610.00", "450.00", "135.6", True)]
    orders = api.get("/api/v1/erp/planning/capacity/orders", params={
        "work_center_id": shop.work_centers["CUT"], "period": shop.start.isoformat()}).json()
    assert [(i["source"], i["id"], i["minutes"]) for i in orders["items"]] == [("work_order", shop.wo["top"], "320.00")]
    assert api.get("/api/v1/erp/planning/capacity", params={"weeks": 0}).status_code == 422
    csv = api.get("/api/v1/erp/planning/capacity/export", params={"weeks": 2, "format": "csv"})
    assert csv.status_code == 200 and "135.6" in csv.content.decode("utf-8-sig")

    web = f.web_client(db, admin)
    page = web.get("/erp/planning/capacity?weeks=2")
    assert page.status_code == 200 and "产能粗算" in page.text and 'class="num overloaded"' in page.text
    assert "/erp/planning/capacity" in web.get("/erp/planning").text  # in the module menu
    detail = web.get(f"/erp/planning/capacity/orders?cell_work_center={shop.work_centers['ASM']}"
                     f"&period={(shop.start + dt.timedelta(days=7)).isoformat()}&weeks=2")
    assert detail.status_code == 200 and "YS-DESK-120" in detail.text and "/erp/planning/orders/" in detail.text
    xlsx = web.get("/erp/planning/capacity/export?weeks=2")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_without_mes_the_page_says_so(shop, db):
    with shop.uow() as uow:
        modules.set_module(uow, "plm", False)
        modules.set_module(uow, "mes", False)
    with shop.uow(readonly=True) as uow:
        data = capacity.rough_cut_capacity(uow)
        assert data["mes_enabled"] is False and data["work_centers"] == []
    admin = f.user(db, shop.company, roles=("admin",))
    assert f.api_client(db, admin).get("/api/v1/erp/planning/capacity").json()["mes_enabled"] is False
    page = f.web_client(db, admin).get("/erp/planning/capacity")
    assert page.status_code == 200 and 'id="mes-off"' in page.text

