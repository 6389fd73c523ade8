"""Purchasing in English: every message has its translation, and errors and pages read in English."""

import re

from tests import factories as f
from tests.erp.purchasing import factories as pf
from tests.web.test_i18n import PKG, _english, _extract


def test_every_purchasing_message_has_an_english_translation():
    used = _extract([PKG / "erp" / "purchasing"])
    assert "三单匹配" in used and "驳回必须填写原因" in used and "采购审批规则" in used
    english = _english()
    missing = sorted(f"{where}: {msgid}" for msgid, where in used.items() if msgid not in english)
    assert not missing, "untranslated (add to locale/en/LC_MESSAGES/erp_purchasing.po):\n" + "\n".join(missing)


def test_over_receipt_refusal_and_bill_page_in_english(db):
    p = pf.setup(db)
    po = pf.order(p, [("cup", "10", "100")])
    web = f.web_client(db, p.usernames["buyer"])
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/").text).group(1)
    web.post("/settings/locale", data={"csrf_token": token, "locale": "en", "next": "/"})
    line_id = po["lines"][0]["id"]
    web.post(f"/erp/purchase-orders/{po['id']}/receive", data={"csrf_token": token, f"qty-{line_id}": "12"})
    page = web.get(f"/erp/purchase-orders/{po['id']}").text
    assert "Over-receipt: YS-CUP-350" in page and "beyond the allowed 5% tolerance" in page
    assert "Confirm receipt" in page and "Purchase order" in page
    pf.receive(p, po, ["10"])
    bill = pf.bill(p, po, [("10", "120")])
    page = web.get(f"/erp/vendor-bills/{bill['id']}").text
    assert "Match exception, awaiting approval" in page and "beyond the 5% tolerance" in page
