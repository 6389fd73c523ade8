"""收发存汇总表 worked by hand on a small example, reconciled with the inventory valuation."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from opensupply.core import auth
from opensupply.core.uow import UnitOfWork
from opensupply.erp.reports import service as rep
from opensupply.inventory import service as inv
from tests import factories as f
from tests.inventory import factories as invf

D = Decimal
SH = dt.timezone(dt.timedelta(hours=8))


def _at(day: int, hour: int = 10, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=SH)


def _stock(s, sku, qty, cost, when, out=False):
    with s.uow() as uow:
        fn = inv.deliver if out else inv.receive
        fn(uow, [inv.StockLine(sku, str(qty), unit_cost=None if out else str(cost))], "A-01-01",
           reference="T", date_done=when)


def test_stock_summary_by_hand(db):
    s = invf.shop(db)
    invf.product(s, "CUP", cost="0")
    invf.product(s, "PEN", cost="0", valuation="fifo")
    # September: 10 cups at 5.00            → opening 10 / 50.00
    _stock(s, "CUP", 10, "5", _at(20, month=9))
    # October: +10 cups at 7.00 (average 6.00), −5 cups at 6.00; pens FIFO: +4 at 2, +4 at 3, −5 = 8 + 3
    _stock(s, "CUP", 10, "7", _at(2))
    _stock(s, "CUP", 5, None, _at(3), out=True)
    _stock(s, "PEN", 4, "2", _at(4))
    _stock(s, "PEN", 4, "3", _at(5))
    _stock(s, "PEN", 5, None, _at(6), out=True)
    # 1 November 07:00 in Shanghai is still 31 October in UTC: it belongs to November
    _stock(s, "CUP", 1, None, _at(1, hour=7, month=11), out=True)
    with s.uow(readonly=True) as uow:
        oct_ = rep.stock_summary(uow, dt.date(2026, 10, 1), dt.date(2026, 10, 31))
        cup, pen = oct_["lines"]
        assert (cup["sku"], cup["opening_qty"], cup["opening_value"]) == ("CUP", D(10), D("50"))
        assert (cup["in_qty"], cup["in_value"], cup["out_qty"], cup["out_value"]) == (D(10), D(70), D(5), D(30))
        assert (cup["closing_qty"], cup["closing_value"]) == (D(15), D(90))
        assert (pen["opening_qty"], pen["in_value"], pen["out_qty"], pen["out_value"]) == (0, D(20), D(5), D(11))
        assert (pen["closing_qty"], pen["closing_value"]) == (D(3), D(9))
        assert oct_["totals"]["closing_value"] == D(99)
        nov = rep.stock_summary(uow, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        cup = nov["lines"][0]
        assert (cup["opening_qty"], cup["out_qty"], cup["closing_qty"], cup["closing_value"]) == (
            D(15), D(1), D(14), D(84))
        # up to today the closing value is the inventory valuation
        now = rep.stock_summary(uow, dt.date(2026, 1, 1), dt.datetime.now(ZoneInfo("Asia/Shanghai")).date())
        val = inv.valuation(uow)
        assert now["totals"]["closing_value"] == val["total_value"] == D(93)
        assert {r["sku"]: r["closing_qty"] for r in now["lines"]} == {ln["sku"]: ln["quantity"] for ln in val["lines"]}
        only_pens = rep.stock_summary(uow, dt.date(2026, 10, 1), dt.date(2026, 10, 31), q="pen")
        assert [r["sku"] for r in only_pens["lines"]] == ["PEN"]


def test_stock_summary_page_api_and_export(db):
    from openpyxl import load_workbook

    s = invf.shop(db)
    invf.product(s, "CUP", cost="0")
    _stock(s, "CUP", 10, "5", _at(2))
    with UnitOfWork(f.system(s.company), db=db) as uow:
        auth.ensure_role(uow, "analyst", "分析", ["erp.reports"])
    user = f.user(db, s.company, roles=("analyst",))
    api = f.api_client(db, user)
    r = api.get("/api/v1/erp/reports/stock-summary", params={"date_from": "2026-10-01", "date_to": "2026-10-31"})
    assert r.status_code == 200, r.text
    assert r.json()["lines"][0]["closing_value"] == "50" and r.json()["totals"]["in_qty"] == "10"
    bad = api.get("/api/v1/erp/reports/stock-summary", params={"date_from": "2026-10-31", "date_to": "2026-10-01"})
    assert bad.status_code == 422
    web = f.web_client(db, user)
    page = web.get("/erp/reports/stock-summary?date_from=2026-10-01&date_to=2026-10-31")
    assert page.status_code == 200 and "收发存汇总表" in page.text and "echarts.min.js" in page.text
    assert '"type": "bar"' in page.text and "50.00" in page.text
    x = web.get("/erp/reports/stock-summary?date_from=2026-10-01&date_to=2026-10-31&format=xlsx")
    rows = list(load_workbook(io.BytesIO(x.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "商品编码" and rows[1][0] == "CUP" and rows[-1][0] == "合计"
    no = f.web_client(db, f.user(db, s.company, roles=("warehouse",)))
    assert no.get("/erp/reports/stock-summary").status_code == 403
