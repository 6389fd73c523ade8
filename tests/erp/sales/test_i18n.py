"""Order-to-cash in English: every message of erp/sales has its translation, placeholders kept,
and a user who switches to English reads English pages and API errors."""

import re

from tests import factories as f
from tests.erp.sales import factories as fs
from tests.web.test_i18n import PKG, _english, _extract


def test_every_sales_message_has_an_english_translation_with_its_placeholders():
    used = _extract([PKG / "erp" / "sales"])
    assert "超出信用额度" in used and "增值税专用发票" in used and "90 天以上" in used
    english = _english()
    missing = sorted(f"{where}: {msgid}" for msgid, where in used.items() if msgid not in english)
    assert not missing, "untranslated (translate in locale/en/LC_MESSAGES/erp_sales.po):\n" + "\n".join(missing)
    for msgid in used:
        assert set(re.findall(r"{\w+}", msgid)) == set(re.findall(r"{\w+}", english[msgid])), msgid


def test_pages_and_errors_read_in_english(db):
    s = fs.shop(db)
    user = f.user(db, s.company, roles=("sales",))
    web = f.web_client(db, user)
    web.post("/settings/locale", data={"csrf_token": f.csrf(web), "locale": "en", "next": "/"})
    page = web.get("/erp/sales-orders").text
    assert "Platform order no." in page and "Direct" in page and "平台单号" not in page
    api = f.api_client(db, user)
    r = api.post("/api/v1/erp/sales-orders", json={"customer_id": s.customer, "lines": [
        {"product_id": s.cup, "quantity": "1", "tax_rate": "17"}]})
    assert r.status_code == 422 and "VAT rate must be 13%, 9%, 6% or 0" in r.json()["error"]["message"]
