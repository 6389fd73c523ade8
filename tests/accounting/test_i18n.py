"""Accounting in English: every message has its translation, and the statements read in English."""

import re

from tests import factories as f
from tests.web.test_i18n import PKG, _english, _extract


def test_every_accounting_and_trade_report_message_has_an_english_translation():
    used = _extract([PKG / "accounting", PKG / "erp" / "reports"])
    for msgid in ("利润表", "负债和所有者权益总计", "借贷不平：借方 {d}，贷方 {c}", "收发存汇总表"):
        assert msgid in used
    english = _english()
    missing = sorted(f"{where}: {msgid}" for msgid, where in used.items() if msgid not in english)
    assert not missing, "untranslated (add them to locale/en/LC_MESSAGES/accounting.po):\n" + "\n".join(missing)


def test_statements_in_english(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/").text).group(1)
    web.post("/settings/locale", data={"csrf_token": token, "locale": "en", "next": "/"})
    page = web.get("/accounting/reports/balance-sheet?as_of=2026-10-31").text
    for label in ("Balance sheet", "Cash and cash equivalents", "Total liabilities and equity"):
        assert label in page, label
    assert "资产总计" not in page
    page = web.get("/accounting/reports/income-statement").text
    assert "4. Net profit" in page and "Year to date" in page
    assert "Stock movement summary" in web.get("/erp/reports/stock-summary").text
