"""人事 basics: the department tree, managers without loops, one employee per login, status and leave date,
employee numbers, import; and the performance pages drawn from the documents of the modules that are on."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from opensupply.core import auth
from opensupply.core import modules as core_modules
from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as pur
from opensupply.erp.sales import service as sal
from opensupply.masterdata import resources
from tests import factories as f

D = Decimal
DAY = dt.date(2026, 10, 12)
OCT = {"period": "custom", "date_from": "2026-10-01", "date_to": "2026-10-31"}


def _emp(uow, **data):
    return rs.create_record(uow, resources.employees, data)


# ------------------------------------------------------------------ master data rules
def test_department_tree_refuses_loops_and_employees_their_own_chain(sqlite_db):
    db = sqlite_db
    c = f.company(db)
    api = f.api_client(db, f.user(db, c))
    gm = api.post("/api/v1/departments", json={"code": "GM", "name": "总经办"}).json()["id"]
    api.post("/api/v1/departments", json={"code": "SALES", "name": "销售部", "parent_id": "GM"})
    east = api.post("/api/v1/departments", json={"code": "EAST", "name": "华东组", "parent_id": "SALES"}).json()["id"]
    r = api.patch(f"/api/v1/departments/{gm}", json={"parent_id": "EAST"})  # grandchild as parent
    assert r.status_code == 422 and r.json()["error"]["field"] == "parent_id"
    assert "下级" in r.json()["error"]["message"]
    assert api.patch(f"/api/v1/departments/{east}", json={"parent_id": east}).status_code == 422
    boss = api.post("/api/v1/employees", json={"code": "E1", "name": "王总", "department_id": "GM"}).json()["id"]
    api.post("/api/v1/employees", json={"code": "E2", "name": "李经理", "manager_id": "E1"})
    api.post("/api/v1/employees", json={"code": "E3", "name": "赵专员", "manager_id": "E2"})
    r = api.patch(f"/api/v1/employees/{boss}", json={"manager_id": "E3"})
    assert r.status_code == 422 and r.json()["error"]["message"] == "上级关系不能形成循环"
    assert api.patch(f"/api/v1/employees/{boss}", json={"manager_id": "E1"}).json()["error"]["message"] == \
        "上级不能是本人"


def test_status_left_needs_a_leave_date_and_a_left_employee_manages_nobody(sqlite_db):
    db = sqlite_db
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        e1 = _emp(uow, code="E1", name="王芳", start_date="2025-03-01")
        with pytest.raises(ValidationFailed, match="离职日期"):
            rs.update_record(uow, resources.employees, e1.id, {"status": "left"})
    with UnitOfWork(f.system(c), db=db) as uow:
        with pytest.raises(ValidationFailed, match="早于入职日期"):
            rs.update_record(uow, resources.employees, e1.id, {"status": "离职", "leave_date": "2025-01-01"})
    with UnitOfWork(f.system(c), db=db) as uow:
        left = rs.update_record(uow, resources.employees, e1.id, {"status": "离职", "leave_date": "2026-06-30"})
        assert (left.status, left.leave_date) == ("left", dt.date(2026, 6, 30))
        with pytest.raises(ValidationFailed, match="上级已离职"):
            _emp(uow, code="E2", name="新人", manager_id="E1")
    with UnitOfWork(f.system(c), db=db) as uow, pytest.raises(ValidationFailed, match="在职员工不能有离职日期"):
        rs.update_record(uow, resources.employees, e1.id, {"status": "active"})


def test_empty_employee_number_takes_the_next_of_the_series(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        _emp(uow, code="EMP0001", name="手工编号")  # typed by hand: the series skips it
        a, b = _emp(uow, name="甲"), _emp(uow, code="", name="乙")
        assert (a.code, b.code) == ("EMP0002", "EMP0003")


def test_one_employee_per_login_of_the_same_company(db):
    c, other = f.company(db), f.company(db)
    f.user(db, c, "sales1", roles=("sales",))
    f.user(db, other, "outsider", roles=("sales",))
    uid = f.actor(db, c, "sales1").user_id
    with UnitOfWork(f.system(c), db=db) as uow:
        _emp(uow, code="E1", name="王芳", user_id=uid)
    with UnitOfWork(f.system(c), db=db) as uow, pytest.raises(Conflict, match="E1"):
        _emp(uow, code="E2", name="李强", user_id=uid)
    with UnitOfWork(f.system(c), db=db) as uow, pytest.raises(ValidationFailed, match="无权访问本公司"):
        _emp(uow, code="E3", name="外人", user_id=f.actor(db, other, "outsider").user_id)


def test_another_companys_people_are_not_found(sqlite_db):
    db = sqlite_db
    mine, theirs = f.company(db), f.company(db)
    with UnitOfWork(f.system(theirs), db=db) as uow:
        dept = rs.create_record(uow, resources.departments, {"code": "X", "name": "他部"}).id
        emp = _emp(uow, code="X1", name="他人", department_id="X").id
    f.user(db, mine, "boss")
    api, web = f.api_client(db, "boss"), f.web_client(db, "boss")
    for url in (f"/employees/{emp}", f"/departments/{dept}", f"/employees/{emp}/performance",
                f"/departments/{dept}/performance"):
        assert api.get(f"/api/v1{url}").status_code == 404, url
        assert web.get(url).status_code == 404, url
    assert api.post("/api/v1/employees", json={"code": "E1", "name": "甲", "department_id": dept}).status_code == 422


def test_import_is_all_or_nothing_with_line_numbers(sqlite_db):
    db = sqlite_db
    c = f.company(db)
    f.user(db, c, "boss")
    api = f.api_client(db, "boss")
    api.post("/api/v1/departments", json={"code": "WH", "name": "仓储部"})
    bad = ("工号,姓名,部门,职位,上级,状态,离职日期\n"
           "E1,张伟,WH,仓库主管,,在职,\n"
           "E2,李四,NOPE,拣货员,E1,在职,\n"
           "E3,王五,WH,拣货员,E1,离职,\n")
    r = api.post("/api/v1/employees/import", files={"file": ("e.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422, r.text
    rows = {x["line"]: x for x in r.json()["error"]["rows"]}
    assert set(rows) == {3, 4} and rows[3]["field"] == "department_id" and rows[4]["field"] == "leave_date"
    assert api.get("/api/v1/employees").json()["total"] == 0  # nothing written
    good = bad.replace("NOPE", "WH").replace("离职,", "离职,2026-09-30")
    r = api.post("/api/v1/employees/import", files={"file": ("e.csv", good.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    items = {e["code"]: e for e in api.get("/api/v1/employees").json()["items"]}
    assert items["E2"]["manager_code"] == "E1" and items["E3"]["status"] == "left"


# ------------------------------------------------------------------ performance
def _history(db):
    """A salesperson's two invoices and one payment, a buyer's one late and one on-time PO, a picker's tasks."""
    from opensupply.wms.models import WmsTask

    c = f.company(db)
    f.bin_location(db, c, "A-01-01")
    cup = f.product(db, c, "CUP", name="保温杯", cost=D("30"))
    for name, role in (("sales1", "sales"), ("buyer1", "buyer"), ("picker1", "warehouse"), ("boss", "admin")):
        f.user(db, c, name, roles=(role,))
    users = {n: f.actor(db, c, n).user_id for n in ("sales1", "buyer1", "picker1")}
    with UnitOfWork(f.system(c), db=db) as uow:
        rs.create_record(uow, resources.departments, {"code": "GM", "name": "总经办"})
        rs.create_record(uow, resources.departments, {"code": "OPS", "name": "运营部", "parent_id": "GM"})
        emp = {code: _emp(uow, code=code, name=name, department_id=dept, user_id=users[login]).id
               for code, name, dept, login in (("S1", "王芳", "GM", "sales1"), ("B1", "赵采购", "OPS", "buyer1"),
                                               ("P1", "孙拣货", "OPS", "picker1"))}
        sup = rs.create_record(uow, resources.partners, {"code": "S1", "name": "宏达", "is_supplier": True}).id
        k1 = rs.create_record(uow, resources.partners, {"code": "K1", "name": "华东", "is_customer": True}).id
    with UnitOfWork(f.actor(db, c, "buyer1"), db=db) as uow:
        for expected in (DAY + dt.timedelta(days=2), DAY - dt.timedelta(days=1)):  # on time, then late
            po = pur.create_order(uow, sup, [pur.OrderLineIn(cup, 10, "30")], order_date=DAY - dt.timedelta(days=5),
                                  expected_date=expected, location="A-01-01")
            pur.confirm_order(uow, po.id)
            pur.receive_order(uow, po.id, receipt_date=DAY)
    with UnitOfWork(f.system(c), db=db) as uow:
        invoices = []
        for qty, price in ((4, "50"), (2, "60")):  # revenue 200 + 120, cost 30 a cup
            so = sal.create_sales_order(uow, customer_id=k1, lines=[sal.SalesLineIn(cup, qty, price)], confirm=True,
                                        order_date=DAY, salesperson_id=emp["S1"], price_includes_tax=False)
            sal.deliver(uow, so.id, date=DAY)
            invoices.append(sal.invoice_order(uow, so.id, invoice_date=DAY).id)
        sal.register_receipt(uow, k1, "113.00", allocations=[(invoices[0], D("113.00"))], receipt_date=DAY)
        shanghai = ZoneInfo("Asia/Shanghai")
        ten = dt.datetime.combine(DAY, dt.time(10, 0), shanghai).astimezone(dt.UTC)
        wh = uow.session.scalar(rs.base_query(uow, resources.warehouses)).id
        for i in range(5):  # 5 lines from 10:00 to 10:30 local: 10 lines an hour
            uow.add(WmsTask(kind="pick", state="done", warehouse_id=wh, product_id=cup, quantity=D(2), qty_done=D(2),
                            done_by_id=users["picker1"], started_at=ten + dt.timedelta(minutes=6 * i),
                            done_at=ten + dt.timedelta(minutes=6 * i + 6)))
    return c, emp


def test_performance_figures_equal_the_hand_computed_ones(db):
    _c, emp = _history(db)
    api = f.api_client(db, "boss")
    s1 = api.get(f"/api/v1/employees/{emp['S1']}/performance", params=OCT).json()
    sales = s1["sales"]
    assert (sales["revenue"], sales["cost"], sales["margin"], sales["margin_pct"]) == ("320.00", "180.00", "140.00",
                                                                                     "43.8")
    assert (sales["invoiced"], sales["collected"], sales["collection_pct"]) == ("361.60", "113.00", "31.3")
    assert sales["documents"] == 2 and s1["purchasing"]["lines"] == 0
    b1 = api.get(f"/api/v1/employees/{emp['B1']}/performance", params=OCT).json()["purchasing"]
    assert (b1["lines"], b1["on_time"], b1["late"], b1["on_time_pct"], b1["amount"]) == (2, 1, 1, "50.0",
                                                                                        "600.00")
    p1 = api.get(f"/api/v1/employees/{emp['P1']}/performance", params=OCT).json()
    assert p1["wms"] == {"lines": 5, "units": "10", "hours": 0.5, "lines_per_hour": 10.0}
    assert [s["key"] for s in p1["sections"]] == ["sales", "purchasing", "wms", "mes"]
    assert p1["mes"]["qty_good"] == "0" and p1["mes"]["good_per_hour"] is None
    # the team: 总经办 includes 运营部 below it; the totals add the rows
    gm = api.get("/api/v1/departments", params={"q": "GM"}).json()["items"][0]["id"]
    team = api.get(f"/api/v1/departments/{gm}/performance", params=OCT).json()
    assert [r["employee"]["code"] for r in team["rows"]] == ["B1", "P1", "S1"]
    assert team["totals"]["sales"]["revenue"] == "320.00" and team["totals"]["wms"]["lines"] == 5
    assert team["totals"]["purchasing"]["on_time_pct"] == "50.0"
    # outside the period nothing counts
    sept = api.get(f"/api/v1/employees/{emp['S1']}/performance",
                   params={"period": "custom", "date_from": "2026-09-01", "date_to": "2026-09-30"}).json()
    assert sept["sales"]["revenue"] == "0.00"
    # the pages show the same figures
    web = f.web_client(db, "boss")
    page = web.get(f"/employees/{emp['P1']}/performance", params=OCT)
    assert page.status_code == 200 and 'data-section="wms"' in page.text and "孙拣货" in page.text
    assert web.get(f"/departments/{gm}/performance", params=OCT).status_code == 200
    alias = web.get(f"/masterdata/employees/{emp['P1']}/performance", follow_redirects=False)
    assert alias.status_code == 303 and alias.headers["location"] == f"/employees/{emp['P1']}/performance"


def test_a_switched_off_module_has_no_figures(sqlite_db):
    db = sqlite_db
    c, emp = _history(db)
    with UnitOfWork(f.actor(db, c, "boss"), db=db) as uow:  # a trading company: no warehouse app, no shop floor
        core_modules.apply_modules(uow, {"crm"})
    api = f.api_client(db, "boss")
    p1 = api.get(f"/api/v1/employees/{emp['P1']}/performance", params=OCT).json()
    assert "wms" not in p1 and "mes" not in p1 and [s["key"] for s in p1["sections"]] == ["sales", "purchasing"]
    page = f.web_client(db, "boss").get(f"/employees/{emp['P1']}/performance", params=OCT)
    assert 'data-section="wms"' not in page.text and 'data-section="sales"' in page.text


def test_performance_needs_the_read_permissions(sqlite_db):
    db = sqlite_db
    c, emp = _history(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        auth.ensure_role(uow, "outsider", "外部", ["erp.read"])
    f.user(db, c, "nobody", roles=("outsider",))
    assert f.api_client(db, "nobody").get(f"/api/v1/employees/{emp['S1']}/performance").status_code == 403
    assert f.web_client(db, "nobody").get(f"/employees/{emp['S1']}/performance").status_code == 403
    # a picker reads master data and the warehouse, not the sales reports: their own picks, no revenue
    mine = f.api_client(db, "picker1").get(f"/api/v1/employees/{emp['P1']}/performance", params=OCT).json()
    assert "sales" not in mine and mine["wms"]["lines"] == 5
