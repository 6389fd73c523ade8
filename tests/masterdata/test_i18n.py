"""Master data in English: every message has its translation, and pages and errors read in English."""

import re

from tests import factories as f
from tests.masterdata import factories as mf
from tests.web.test_i18n import PKG, _english, _extract


def test_every_masterdata_message_has_an_english_translation():
    used = _extract([PKG / "masterdata", PKG / "core" / "resource.py"])
    for msgid in ("物料清单", "第 {n} 行：数量必须大于 0", "导入失败：{n} 行有错误，未导入任何数据"):
        assert msgid in used
    english = _english()
    missing = sorted(f"{where}: {msgid}" for msgid, where in used.items() if msgid not in english)
    assert not missing, "untranslated (run scripts/i18n.sh masterdata, then translate):\n" + "\n".join(missing)


def _english_client(db, c):
    web = f.web_client(db, f.user(db, c))
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/").text).group(1)
    web.post("/settings/locale", data={"csrf_token": token, "locale": "en", "next": "/"})
    return web, token


def test_bom_pages_and_errors_in_english(db):
    c = f.company(db)
    mf.products(db, c, "LAMP", "BULB")
    bom_id = mf.bom(db, c, "LAMP", [("BULB", "2")], release=True)
    web, token = _english_client(db, c)
    page = web.get(f"/boms/{bom_id}").text
    for label in ("Bills of materials", "Released", "Copy to new version", "Where used", "Required quantity"):
        assert label in page, label
    assert "物料清单" not in page
    r = web.post("/boms/new", data={"csrf_token": token, "product": "LAMP", "version": "V2.0", "quantity": "1",
                                    "component": ["BULB"], "line_quantity": ["0"], "line_uom": [""],
                                    "line_scrap_pct": [""]})
    assert r.status_code == 422 and "Line 1: the quantity must be greater than 0" in r.text


def test_import_errors_in_english(db):
    c = f.company(db)
    web, token = _english_client(db, c)
    data = b"SKU,Name,Unit,Cost\nA,ok,pcs,1\nB,bad,pcs,abc\n"
    r = web.post("/products/import", data={"csrf_token": token}, files={"file": ("p.csv", data, "text/csv")})
    assert r.status_code == 422
    assert "Import failed: 1 rows have errors, nothing was imported" in r.text
    assert "Cost has an invalid format: abc" in r.text
