"""批量开票: at the end of the day the accountant invoices every delivered 淘宝 order at once — one 普票 per
order for exactly what left the warehouse, previewed first; a batch with an order that cannot be invoiced, or
whose amounts changed since the preview, is refused whole; running it twice invoices nothing twice."""

import datetime as dt
import json
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from opensupply.core.errors import Conflict, NotFound
from opensupply.erp.sales import batch_invoicing as batch
from opensupply.erp.sales import service as svc
from opensupply.erp.sales.models import CustomerInvoice, SalesOrder
from tests import factories as f
from tests.erp.sales import factories as fs

D = Decimal


def _order(s: fs.Shop, qty, price, *, channel="taobao", deliver=None, invoice=False, customer=None) -> int:
    """A confirmed order of the cup; deliver=None ships nothing, "all" everything, a number that many."""
    with s.uow() as uow:
        order = svc.create_sales_order(uow, customer_id=customer or s.customer, channel=channel, confirm=True,
                                       source_ref=f"TB{qty}{price}{channel}{deliver}{customer}",
                                       lines=[svc.SalesLineIn(product_id=s.cup, quantity=qty, unit_price=price)])
        if deliver == "all":
            svc.deliver(uow, order.id)
        elif deliver:
            svc.deliver(uow, order.id, [svc.DeliveryLineIn(quantity=deliver, order_line_id=order.lines[0].id)])
        if invoice:
            svc.invoice_order(uow, order.id)
        return order.id


def _invoices(s: fs.Shop) -> list[CustomerInvoice]:
    with s.uow(readonly=True) as uow:
        rows = list(uow.session.scalars(select(CustomerInvoice).where(CustomerInvoice.company_id == s.company)
                                        .order_by(CustomerInvoice.id)))
        for i in rows:
            _ = i.lines
        return rows


@pytest.fixture
def day_of_taobao(db):
    """The shop's day: a 淘宝 order shipped in full (2 × ¥99 incl. VAT), one shipped 12 of 30 (¥79), one not
    shipped yet, one already invoiced, and a direct (B2B) order shipped — only the first two need invoices."""
    s = fs.shop(db)
    orders = {"full": _order(s, 2, 99, deliver="all"), "partial": _order(s, 30, 79, deliver=12),
              "waiting": _order(s, 1, 99), "invoiced": _order(s, 1, 49, deliver="all", invoice=True),
              "direct": _order(s, 5, 100, channel="direct", deliver="all")}
    return s, orders


def test_batch_invoices_exactly_the_delivered_uninvoiced_orders_of_the_filter(db, day_of_taobao):
    s, o = day_of_taobao
    with s.uow(readonly=True) as uow:
        preview = batch.preview_batch(uow, batch.BatchFilter(channel="taobao"))
    assert [r["order_id"] for r in preview["orders"]] == [o["full"], o["partial"]] and not preview["blocked"]
    assert (preview["count"], preview["amount_total"]) == (2, D("1146.00"))  # 198 + 12 × 79
    assert _invoices(s)[-1].order_id == o["invoiced"]  # the preview wrote nothing

    with s.uow() as uow:
        done = batch.invoice_batch(uow, batch.BatchFilter(channel="taobao"), expected_total=preview["amount_total"])
    assert done["count"] == 2 and done["amount_total"] == D("1146.00")
    by_order = {i.order_id: i for i in _invoices(s)}
    full, partial = by_order[o["full"]], by_order[o["partial"]]
    assert (full.invoice_type, full.amount_total, full.amount_untaxed, full.amount_tax) == \
        ("normal", D("198.00"), D("175.22"), D("22.78"))  # 198 / 1.13, platform prices include VAT
    assert (partial.amount_total, partial.amount_untaxed, partial.amount_tax) == (D("948.00"), D("838.94"),
                                                                                   D("109.06"))
    assert [ln.quantity for ln in partial.lines] == [D(12)]  # what was delivered, not the 30 ordered
    assert full.number != partial.number and o["waiting"] not in by_order and o["direct"] not in by_order
    with s.uow(readonly=True) as uow:
        assert svc.invoice_status(uow.get(SalesOrder, o["partial"])) == "partial"
        assert uow.get(SalesOrder, o["full"]).state == "done"
    assert fs.balance(s, "receivable", s.customer) == D("198.00") + D("948.00") + D("49.00")
    assert fs.balance(s, "revenue") == -(D("175.22") + D("838.94") + D("43.36"))
    fs.books_balance(fs.clients(db, s)[2])

    before = len(_invoices(s))
    with s.uow() as uow:  # the same batch again (a retry, a second click): nothing left, nothing written
        again = batch.invoice_batch(uow, batch.BatchFilter(channel="taobao", order_ids=[o["full"], o["partial"]]),
                                    expected_total=preview["amount_total"])
    assert (again["count"], again["skipped"]) == (0, [o["full"], o["partial"]])
    assert len(_invoices(s)) == before


def test_a_batch_with_an_order_that_cannot_be_invoiced_is_refused_whole(db):
    s = fs.shop(db)
    walk_in = fs.customer(db, s.company, code="C-LS", name="零售散客", tax_id=None)
    ok, blocked = _order(s, 2, 99, deliver="all"), _order(s, 1, 99, deliver="all", customer=walk_in)
    flt = batch.BatchFilter(channel="taobao")
    with s.uow(readonly=True) as uow:
        preview = batch.preview_batch(uow, flt, invoice_type="special")
    assert [r["order_id"] for r in preview["orders"]] == [ok]
    (row,) = preview["blocked"]
    assert row["order_id"] == blocked and "纳税人识别号" in row["reason"]
    with pytest.raises(batch.BatchRejected) as exc, s.uow() as uow:
        batch.invoice_batch(uow, flt, invoice_type="special")
    assert [p["order_id"] for p in exc.value.problems] == [blocked] and "本批未开票" in exc.value.message
    assert _invoices(s) == []  # not even the order that could have been invoiced
    with pytest.raises(Conflict, match="重新预览"), s.uow() as uow:  # amounts changed since the preview
        batch.invoice_batch(uow, batch.BatchFilter(order_ids=[ok]), invoice_type="special", expected_total="1.00")
    assert _invoices(s) == []
    with s.uow() as uow:  # leave the blocked order out, as the page's confirm button does
        done = batch.invoice_batch(uow, batch.BatchFilter(channel="taobao", order_ids=[ok]), invoice_type="special",
                                   expected_total=preview["amount_total"])
    (invoice,) = _invoices(s)
    assert done["count"] == 1 and invoice.invoice_type == "special" and invoice.buyer_tax_id == "91330100MA2B3C4D5E"
    assert re.fullmatch(r"INV\d{4}-000001", invoice.number)  # the refused batches used no invoice number


def test_another_companys_orders_are_never_touched(db):
    a, b = fs.shop(db, "A"), fs.shop(db, "B")
    mine, theirs = _order(a, 2, 99, deliver="all"), _order(b, 2, 99, deliver="all")
    with pytest.raises(NotFound), a.uow() as uow:
        batch.invoice_batch(uow, batch.BatchFilter(order_ids=[mine, theirs]))
    with a.uow() as uow:
        assert batch.invoice_batch(uow, batch.BatchFilter(channel="taobao"))["count"] == 1
    assert _invoices(b) == [] and [i.order_id for i in _invoices(a)] == [mine]


def test_api_preview_then_confirm_with_an_idempotency_key(db, day_of_taobao):
    s, o = day_of_taobao
    sales, finance, _admin = fs.clients(db, s)
    body = {"channel": "taobao", "date_to": dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()}
    assert sales.post("/api/v1/erp/invoices/batch/preview", json=body).status_code == 403  # finance's job
    assert sales.post("/api/v1/erp/invoices/batch", json=body).status_code == 403
    assert finance.post("/api/v1/erp/invoices/batch", json={}).status_code == 422  # no filter: not "everything"
    preview = finance.post("/api/v1/erp/invoices/batch/preview", json=body).json()
    assert [r["order_id"] for r in preview["orders"]] == [o["full"], o["partial"]]
    assert (preview["amount_total"], preview["amount_tax"]) == ("1146.00", "131.84")
    confirm = {**body, "order_ids": [r["order_id"] for r in preview["orders"]],
               "expected_total": preview["amount_total"]}
    r = finance.post("/api/v1/erp/invoices/batch", json=confirm, headers={"Idempotency-Key": "eod-2026-11-30"})
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 2 and [i["amount_total"] for i in r.json()["invoices"]] == ["198.00", "948.00"]
    replay = finance.post("/api/v1/erp/invoices/batch", json=confirm, headers={"Idempotency-Key": "eod-2026-11-30"})
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == r.json()
    fresh = finance.post("/api/v1/erp/invoices/batch", json=confirm, headers={"Idempotency-Key": "eod-retry"})
    assert fresh.status_code == 200 and fresh.json()["count"] == 0  # nothing invoiced twice
    assert finance.get("/api/v1/erp/invoices", params={"channel": "taobao"}).json()["total"] == 3


def test_api_refusal_names_the_orders_and_other_companies_stay_out(sqlite_db):
    db = sqlite_db
    s = fs.shop(db)
    other = fs.shop(db, "X")
    walk_in = fs.customer(db, s.company, code="C-LS", name="零售散客", tax_id=None)
    blocked = _order(s, 1, 99, deliver="all", customer=walk_in)
    theirs = _order(other, 2, 99, deliver="all")
    _sales, finance, _admin = fs.clients(db, s)
    r = finance.post("/api/v1/erp/invoices/batch", json={"customer": "C-LS", "invoice_type": "special"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "batch_rejected"
    assert [p["order_id"] for p in r.json()["error"]["problems"]] == [blocked]
    assert finance.post("/api/v1/erp/invoices/batch", json={"order_ids": [theirs]}).status_code == 404
    assert finance.post("/api/v1/erp/invoices/batch", json={"channel": "taobao"}).json()["count"] == 1  # 普票 ok
    assert _invoices(other) == []


@f.SQLITE_ONLY
def test_batch_invoicing_page_previews_with_totals_and_confirms(db, day_of_taobao):
    s, o = day_of_taobao
    sales = f.web_client(db, f.user(db, s.company, roles=("sales",)))
    assert sales.get("/erp/invoices/batch").status_code == 403
    assert "/erp/invoices/batch" not in sales.get("/erp/invoices").text
    web = f.web_client(db, f.user(db, s.company, roles=("finance",)))
    assert 'href="/erp/invoices/batch"' in web.get("/erp/invoices").text
    page = web.get("/erp/invoices/batch", params={"preview": "1", "channel": "taobao"})
    assert page.status_code == 200, page.text
    html = page.text
    with s.uow(readonly=True) as uow:
        numbers = {k: uow.get(SalesOrder, v).number for k, v in o.items()}
    assert numbers["full"] in html and numbers["partial"] in html and numbers["direct"] not in html
    assert re.search(r'data-total>[^<]*1,146\.00<', html) and re.search(r'data-batch-count>2<', html)
    form = re.search(r'<form method="post" action="/erp/invoices/batch".*?</form>', html, re.S).group(0)
    fields: dict[str, list[str]] = {}
    for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', form):
        fields.setdefault(k, []).append(v)
    assert fields["order_ids"] == [str(o["full"]), str(o["partial"])] and fields["expected_total"] == ["1146.00"]
    stale = {**fields, "expected_total": ["1.00"]}
    r = web.post("/erp/invoices/batch", data=stale)
    assert r.status_code == 409 and "重新预览" in r.text and _invoices(s)[-1].order_id == o["invoiced"]
    r = web.post("/erp/invoices/batch", data=fields)
    assert r.status_code == 303 and r.headers["location"].startswith("/erp/invoices?channel=taobao")
    listing = web.get(r.headers["location"])
    assert "已批量开票 2 张，价税合计 ¥1,146.00" in listing.text
    r = web.post("/erp/invoices/batch", data=fields)  # the same form posted again
    assert r.status_code == 303 and len(_invoices(s)) == 3


@f.SQLITE_ONLY
def test_cli_batch_invoice_dry_run_then_invoice(db, day_of_taobao, monkeypatch):
    from typer.testing import CliRunner

    from opensupply.cli import app as cli

    s, o = day_of_taobao
    monkeypatch.setattr("opensupply.core.db.get_database", lambda: db)
    r = CliRunner().invoke(cli, ["sales", "batch-invoice", "--channel", "taobao", "--dry-run"])
    assert r.exit_code == 0, r.output
    preview = json.loads(r.stdout.strip().splitlines()[-1])
    assert [x["order_id"] for x in preview["orders"]] == [o["full"], o["partial"]]
    assert len(_invoices(s)) == 1
    r = CliRunner().invoke(cli, ["sales", "batch-invoice", "--channel", "taobao"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["count"] == 2 and out["amount_total"] == "1146.00"
    r = CliRunner().invoke(cli, ["sales", "batch-invoice", "--channel", "taobao"])
    assert r.exit_code == 0 and json.loads(r.stdout.strip().splitlines()[-1])["count"] == 0
    r = CliRunner().invoke(cli, ["sales", "batch-invoice", "--channel", "direct", "--type", "special",
                                 "--from", "2026-13-01"])
    assert r.exit_code == 2 and "not a date" in r.stderr
