"""Work-order, terminal and trace pages: what a planner, an operator and a quality engineer see and do."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from opensupply.mes import work_orders as wos
from tests import factories as f
from tests.mes import factories as fm


def _form(client, url: str) -> dict:
    html = client.get(url).text
    return {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)}


def test_planner_creates_releases_and_completes_from_the_pages(db):
    p = fm.plant(db)
    web = f.web_client(db, f.user(db, p.company, roles=("production",)))
    page = web.get("/mes/work-orders/new")
    assert page.status_code == 200 and "YS-TOP-120" in page.text
    token = _form(web, "/mes/work-orders/new")["csrf_token"]
    bad = web.post("/mes/work-orders/new", data={"csrf_token": token, "product": "YS-TOP-120", "quantity": "-1"})
    assert bad.status_code == 422 and "数量必须大于 0" in bad.text
    r = web.post("/mes/work-orders/new", data={"csrf_token": token, "product": "YS-TOP-120", "quantity": "10",
                                               "kind": "normal", "lot_name": "TOP-W1", "release": "1"})
    assert r.status_code == 303
    url = r.headers["location"]
    detail = web.get(url)
    assert detail.status_code == 200 and 'data-state="released"' in detail.text
    assert "/10" in detail.text and "RM-OAK-18" in detail.text
    r = web.post(url + "/complete", data={"csrf_token": token, "qty_good": "10", "qty_scrap": "0"})
    assert r.status_code == 303
    done = web.get(url)
    assert 'data-state="done"' in done.text and "TOP-W1" in done.text
    listing = web.get("/mes/work-orders", params={"q": "YS-TOP", "state": "done"})
    assert "TOP-" in listing.text and "共 1 条" in listing.text
    xlsx = web.get("/mes/work-orders/export")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pdf = web.get(url + "/traveller.pdf")
    assert pdf.status_code == 200
    text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "生产流转卡" in text and re.search(r"WO\d{4}-\d{6}/10", text)


def test_operator_reports_on_the_terminal(db):
    p = fm.plant(db)
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity="4")
        wos.release_work_order(uow, wo.id)
        number = wo.number
    web = f.web_client(db, f.user(db, p.company, roles=("production",)))
    token = _form(web, "/mes/terminal")["csrf_token"]
    r = web.post("/mes/terminal/scan", data={"csrf_token": token, "code": f"{number}/10"})
    assert r.status_code == 303
    op_url = r.headers["location"]
    card = web.get(op_url).text
    scan_id = re.search(r'name="client_scan_id" value="([^"]+)-s"', card).group(1)
    for _ in range(2):  # a double tap
        assert web.post(op_url + "/start", data={"csrf_token": token, "client_scan_id": scan_id + "-s"}
                        ).status_code == 303
    page = web.get(op_url)
    assert 'data-state="running"' in page.text and "已开工" in page.text
    web.post(op_url + "/finish", data={"csrf_token": token, "client_scan_id": "f1", "qty_good": "4", "qty_scrap": "0"})
    assert 'data-state="done"' in web.get(op_url).text
    wrong = web.post("/mes/terminal/scan", data={"csrf_token": token, "code": "WO0000-000000"})
    assert "不存在" in web.get(wrong.headers["location"]).text
    with p.uow(readonly=True) as uow:
        ops = wos.get_work_order(uow, wo.id).operations
        assert ops[0].state == "done" and ops[0].qty_good == 4


def test_trace_page_shows_both_directions(db):
    p = fm.plant(db)
    fm.make(p, "YS-TOP-120", "2", "TOP-T")
    fm.make(p, "YS-DESK-120", "2", "DESK-T")
    fm.sell(p, fm.customer(p, "C-1", "杭州青禾家居"), "YS-DESK-120", "2")
    web = f.web_client(db, f.user(db, p.company, roles=("production",)))
    page = web.get("/mes/trace", params={"lot": "OAK-2611-A"})
    assert page.status_code == 200
    assert 'data-lot="DESK-T"' in page.text and "杭州青禾家居" in page.text and "湖州德清木业有限公司" in page.text
    assert web.get("/mes/trace", params={"lot": "NOPE"}).status_code == 404
    assert f.web_client(db, f.user(db, p.company, roles=("sales",))).get("/mes/trace").status_code == 403


def test_lot_trace_button_opens_the_lot_the_order_was_booked_in(db):
    """Booked in another lot than the order planned (or, from MRP, none at all): the 批次追溯 button goes to the
    booked lot, not to a lot of the order's number that does not exist."""
    p = fm.plant(db)
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity="2")
        wos.release_work_order(uow, wo.id)
        wos.complete_work_order(uow, wo.id, "2", lot="TOP-BOOKED-1")
        lot_id = wos.completions_of(uow, wo.id)[0].lot_id
    web = f.web_client(db, f.user(db, p.company, roles=("production",)))
    page = web.get(f"/mes/work-orders/{wo.id}").text
    href = re.search(r'<a class="btn" href="([^"]+)">批次追溯</a>', page).group(1)
    assert href == f"/mes/trace?lot_id={lot_id}"
    assert "TOP-BOOKED-1" in web.get(href).text
