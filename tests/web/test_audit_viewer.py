"""The audit viewer: filter the trail, page through it, export it, see before/after."""

import datetime as dt
import io
import re

from openpyxl import load_workbook

from opensupply.core.audit import AuditLog
from tests import factories as f


def _setup(db):
    c = f.company(db)
    boss = f.user(db, c, "boss")
    api = f.api_client(db, boss)
    pid = api.post("/api/v1/products", json={"sku": "YS-CUP-350", "name": "保温杯", "uom_id": "pcs"}).json()["id"]
    api.patch(f"/api/v1/products/{pid}", json={"name": "=HYPERLINK(\"http://x\")"})
    return c, boss, pid


def test_filter_by_entity_and_record_shows_before_and_after(db):
    _c, boss, pid = _setup(db)
    web = f.web_client(db, boss)
    page = web.get("/admin/audit", params={"entity": "product", "entity_id": str(pid)})
    assert page.status_code == 200
    body = page.text.split("<tbody>")[1]
    assert body.count("<tr>") == 2  # create + update of this product, nothing else
    assert "create" in body and "update" in body
    assert "保温杯" in body and "HYPERLINK" in body  # before and after of the rename
    only_updates = web.get("/admin/audit", params={"entity": "product", "action": "update"}).text
    assert only_updates.split("<tbody>")[1].count("<tr>") == 1


def test_filter_by_user_and_date_range_in_company_time_zone(db):
    c, boss, pid = _setup(db)
    with db.sessionmaker.begin() as s:  # 2026-03-01 23:30 in Shanghai is 15:30 UTC
        s.add(AuditLog(at=dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC), company_id=c, username="night-owl",
                       action="update", entity="product", entity_id=str(pid), before={"a": 1}, after={"a": 2}))
    web = f.web_client(db, boss)
    on_day = web.get("/admin/audit", params={"date_from": "2026-03-01", "date_to": "2026-03-01"}).text
    assert "night-owl" in on_day.split("<tbody>")[1]
    assert "23:30" in on_day  # shown in the company's time zone
    next_day = web.get("/admin/audit", params={"date_from": "2026-03-02", "date_to": "2026-03-02"}).text
    assert "night-owl" not in next_day.split("<tbody>")[1]
    by_user = web.get("/admin/audit", params={"username": "night-owl"}).text
    assert by_user.split("<tbody>")[1].count("<tr>") == 1
    bad = web.get("/admin/audit", params={"date_from": "2026-03-05", "date_to": "2026-03-01"})
    assert bad.status_code == 200 and "开始日期不能晚于结束日期" in bad.text


def test_pagination(db):
    c, boss, pid = _setup(db)
    with db.sessionmaker.begin() as s:
        for i in range(60):
            s.add(AuditLog(company_id=c, username="bulk", action="update", entity="product", entity_id=str(pid),
                           after={"i": i}))
    web = f.web_client(db, boss)
    first = web.get("/admin/audit", params={"username": "bulk"}).text
    assert "共 60 条" in first and 'rel="next"' in first
    second = web.get("/admin/audit", params={"username": "bulk", "offset": 50}).text
    assert second.split("<tbody>")[1].count("<tr>") == 10


def test_export_csv_and_xlsx_neutralise_formulas(db):
    _c, boss, _pid = _setup(db)
    web = f.web_client(db, boss)
    csv = web.get("/admin/audit/export", params={"format": "csv", "entity": "product"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "YS-CUP-350" in text
    assert text.splitlines()[0].startswith("编号,时间,操作人")
    xlsx = web.get("/admin/audit/export", params={"format": "xlsx", "entity": "product"})
    ws = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 3  # header + create + update
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in rows for v in row)


def test_other_company_rows_are_not_shown(db):
    _c, boss, _pid = _setup(db)
    other = f.company(db, "OTHER")
    f.product(db, other, "SECRET-SKU")
    body = f.web_client(db, boss).get("/admin/audit", params={"entity": "product"}).text.split("<tbody>")[1]
    assert "SECRET-SKU" not in body


def test_audit_viewer_needs_permission(db):
    c = f.company(db)
    f.user(db, c, "wh", roles=("warehouse",))
    web = f.web_client(db, "wh")
    assert web.get("/admin/audit").status_code == 403
    assert web.get("/admin/audit/export").status_code == 403
    assert re.search("没有权限", web.get("/admin/audit").text)


def test_times_follow_the_company_time_zone(db):
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.masterdata.service import setup_company

    with UnitOfWork(Actor.system(), db=db) as uow:
        ny = setup_company(uow, code="NY", name="纽约分公司", timezone="America/New_York").id
    boss = f.user(db, ny, "boss")
    with db.sessionmaker.begin() as s:  # 01:30 UTC on 2 March is 20:30 on 1 March in New York
        s.add(AuditLog(at=dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC), company_id=ny, username="late",
                       action="update", entity="product", entity_id="1"))
    web = f.web_client(db, boss)
    page = web.get("/admin/audit", params={"date_from": "2026-03-01", "date_to": "2026-03-01"}).text
    body = page.split("<tbody>")[1]
    assert "late" in body and "2026/3/1 20:30" in body
    assert "late" not in web.get("/admin/audit", params={"date_from": "2026-03-02"}).text.split("<tbody>")[1]
    csv = web.get("/admin/audit/export", params={"format": "csv", "username": "late"}).content.decode("utf-8-sig")
    assert "2026-03-01 20:30:00" in csv


def test_audit_row_links_to_the_changed_record(db):
    _c, boss, pid = _setup(db)
    page = f.web_client(db, boss).get("/admin/audit", params={"entity": "product"}).text
    assert f'href="/products/{pid}"' in page
