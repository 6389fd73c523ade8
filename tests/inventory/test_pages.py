"""Inventory pages as a person uses them: receive into a bin, see it on hand, export, count stock."""

import csv
import io
import re

from tests import factories as f
from tests.inventory import factories as fi


def _web(db, roles=("admin",)):
    s = fi.shop(db)
    fi.product(s, "YS-CUP-350", cost="32.5")
    client = f.web_client(db, f.user(db, s.company, roles=roles))
    return s, client, f.csrf(client)


def test_receive_into_bin_then_see_it_on_hand(db):
    _s, c, token = _web(db)
    page = c.get("/inventory/receipts/new")
    assert page.status_code == 200
    for name in ("product", "location", "quantity", "lot", "unit_cost"):
        assert f'name="{name}"' in page.text
    r = c.post("/inventory/receipts/new", data={"csrf_token": token, "product": "YS-CUP-350",
                                                "location": "A-01-01", "quantity": "24", "unit_cost": "32.5"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/inventory/on-hand?product=YS-CUP-350"
    page = c.get(r.headers["location"])
    assert "已入库 1 行" in page.text  # the flash
    row = re.search(r"<tr>\s*<td><a[^>]*>YS-CUP-350</a></td>.*?</tr>", page.text, re.S).group(0)
    assert "A-01-01" in row and ">24<" in row
    assert "A-01-01" in c.get("/inventory/on-hand").text


def test_receipt_with_several_lines(db):
    s, c, token = _web(db)
    fi.product(s, "TOWEL", tracking="lot")
    r = c.post("/inventory/receipts/new", data={
        "csrf_token": token, "reference": "RCV-77", "product": "YS-CUP-350", "location": "A-01-01",
        "quantity": "5", "lines-1-product": "TOWEL", "lines-1-quantity": "3", "lines-1-lot": "L7",
        "lines-1-location": "B-01-01", "lines-2-product": "", "lines-2-quantity": ""})
    assert r.status_code == 303, r.text
    moves = c.get("/inventory/moves", params={"reference": "RCV-77"}).text
    assert "TOWEL" in moves and "L7" in moves and "WH/STOCK/B-01-01" in moves


def test_receipt_errors_stay_on_the_form_and_write_nothing(db):
    _s, c, token = _web(db)
    r = c.post("/inventory/receipts/new", data={"csrf_token": token, "product": "YS-CUP-350",
                                                "location": "Z-99-99", "quantity": "5"})
    assert r.status_code == 422
    assert "库位不存在：Z-99-99" in r.text
    assert 'value="YS-CUP-350"' in r.text  # what was typed is kept
    assert "没有库存" in c.get("/inventory/on-hand").text
    r = c.post("/inventory/receipts/new", data={"product": "YS-CUP-350", "location": "A-01-01", "quantity": "5"})
    assert r.status_code == 403  # no CSRF token


def test_on_hand_and_moves_export(db):
    s, c, _t = _web(db)
    fi.receive(s, "YS-CUP-350", 12)
    r = c.get("/inventory/on-hand/export", params={"format": "csv", "product": "YS-CUP-350"})
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "商品编码"
    assert rows[1][0] == "YS-CUP-350" and rows[1][3] == "WH/STOCK/A-01-01" and rows[1][6] == "12"
    r = c.get("/inventory/moves/export", params={"format": "xlsx"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "YS-CUP-350" in c.get("/inventory/moves").text


def test_count_stock_with_an_adjustment(db):
    s, c, token = _web(db)
    fi.receive(s, "YS-CUP-350", 10)
    assert c.get("/inventory/adjustments/new").status_code == 200
    r = c.post("/inventory/adjustments/new", data={
        "csrf_token": token, "reason": "月末盘点", "lines-0-product": "YS-CUP-350", "lines-0-location": "A-01-01",
        "lines-0-counted_quantity": "9", "lines-1-product": ""})
    assert r.status_code == 303, r.text
    detail = c.get(r.headers["location"])
    assert "月末盘点" in detail.text and "确认盘点" in detail.text
    adj_id = r.headers["location"].rsplit("/", 1)[1]
    r = c.post(f"/inventory/adjustments/{adj_id}/done", data={"csrf_token": token})
    assert r.status_code == 303
    assert "已确认" in c.get(r.headers["location"]).text
    assert "ADJ" in c.get("/inventory/adjustments").text
    assert fi.on_hand(s, fi_product(s)) == 9


def fi_product(s):
    from opensupply.inventory import service as inv

    with s.uow(readonly=True) as uow:
        return inv.resolve_product(uow, "YS-CUP-350").id


def test_lots_and_valuation_pages(db):
    s, c, token = _web(db)
    fi.product(s, "TOWEL", tracking="lot")
    r = c.post("/inventory/lots", data={"csrf_token": token, "product": "TOWEL", "name": "L-2026-03",
                                        "expiry_date": "2027-03-31"})
    assert r.status_code == 303
    assert "L-2026-03" in c.get(r.headers["location"]).text
    r = c.post("/inventory/lots", data={"csrf_token": token, "product": "TOWEL", "name": "L-2026-03"})
    assert r.status_code == 422 and "批次已存在" in r.text
    fi.receive(s, "YS-CUP-350", 2, unit_cost="30")
    page = c.get("/inventory/valuation")
    assert page.status_code == 200 and "YS-CUP-350" in page.text and "60" in page.text


def test_pages_need_login_and_permission(db):
    s, _c, _t = _web(db)
    anon = f.anonymous(db, follow_redirects=False)
    r = anon.get("/inventory/on-hand")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    sales = f.web_client(db, f.user(db, s.company, roles=("sales",)))
    assert sales.get("/inventory/on-hand").status_code == 200
    assert sales.get("/inventory/receipts/new").status_code == 403


def test_pages_read_in_english_too(db):
    s, c, token = _web(db)
    fi.receive(s, "YS-CUP-350", 3)
    r = c.post("/settings/locale", data={"csrf_token": token, "locale": "en", "next": "/inventory/on-hand"})
    assert r.status_code == 303
    page = c.get("/inventory/on-hand").text
    assert "Stock on hand" in page and "Available" in page and "现有" not in page
    r = c.post("/inventory/receipts/new", data={"csrf_token": token, "product": "YS-CUP-350",
                                                "location": "Z-1", "quantity": "1"})
    assert "Location not found: Z-1" in r.text


def test_every_inventory_message_has_an_english_translation():
    import re as _re
    from pathlib import Path

    import opensupply.inventory
    from opensupply.core.i18n import translations

    en = translations("en")
    root = Path(opensupply.inventory.__file__).parent
    files = list(root.rglob("*.py")) + list(root.rglob("*.html"))
    assert len(files) > 10
    missing = set()
    for fn in files:
        for m in _re.finditer(r"""\b_l?\(\s*(["'])(.+?)\1""", open(fn, encoding="utf-8").read()):
            if en.gettext(m.group(2)) == m.group(2) and _re.search(r"[\u4e00-\u9fff]", m.group(2)):
                missing.add(m.group(2))
    assert not missing, sorted(missing)
