"""`bench orders`: the hand-written SQL writes the same rows as the services, both keep the books
consistent, and the command prints its fixed summary keys (at a tiny scale, so the harness cannot rot)."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from opensupply.bench.tpcc import checks, load
from opensupply.bench.tpcc.raw import RawTransactions
from opensupply.bench.tpcc.services import ServiceTransactions
from opensupply.bench.tpcc.workload import Delivery, NewOrder, OrderStatus, Payment, StockLevel, Workload
from opensupply.cli import app

ONE_OFF = {"sequence"}  # a document type's number row is created by whichever side numbers it first


def _counts(db) -> dict[str, int]:
    with db.engine.connect() as conn:
        names = inspect(conn).get_table_names()
        return {n: conn.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar() for n in names}


def _written(db, fn) -> dict[str, int]:
    before = _counts(db)
    fn()
    after = _counts(db)
    return {k: after[k] - before[k] for k in after if after[k] != before.get(k) and k not in ONE_OFF}


def test_raw_sql_writes_the_same_rows_as_the_services_and_both_keep_the_books(db):
    setup = load.load(db, load.Scale(warehouses=1, items=30, customers=3, stock=1000))
    svc, raw = ServiceTransactions(db, setup), RawTransactions(db, setup)
    wl = Workload(setup, 0, seed=7)
    a, b = setup.customers[(0, 1)][0], setup.customers[(0, 2)][0]  # district 1 for services, 2 for SQL
    lines = [(pid, 2, setup.prices[pid]) for pid in setup.product_ids[:10]]
    # each side does the same business for its own customer and district: same row counts written
    for kind, amount in (("new_order", None), ("payment", "50.00"), ("delivery", None), ("payment", "5000.00"),
                         ("new_order", None), ("delivery", None), ("payment", "10.00")):
        def tx(customer, district, kind=kind, amount=amount):
            return {"new_order": lambda: NewOrder(0, customer, lines, False),
                    "payment": lambda: Payment(0, customer, Decimal(amount or 0)),
                    "delivery": lambda: Delivery(0, (district,))}[kind]()
        by_services = _written(db, lambda kind=kind, tx=tx: getattr(svc, kind)(tx(a, 1)))
        by_raw = _written(db, lambda kind=kind, tx=tx: getattr(raw, kind)(tx(b, 2)))
        assert by_raw == by_services and by_raw, kind
    cust = a
    order = NewOrder(0, cust, lines, False)
    # a New-Order naming an unknown item rolls back and writes nothing, either way
    bad = NewOrder(0, cust, [*order.lines[:3], (0, 1, "1")], True)
    assert _written(db, lambda: svc.new_order(bad)) == {} and svc.new_order(bad) is False
    assert _written(db, lambda: raw.new_order(bad)) == {} and raw.new_order(bad) is False
    for _ in range(30):  # the random mix through both
        name = wl.pick()
        t = getattr(wl, name)()
        getattr(svc, name)(t)
        getattr(raw, name)(getattr(wl, name)() if isinstance(t, OrderStatus | StockLevel) else t)
    assert checks.verify(db, setup) == []


def test_bench_orders_prints_the_fixed_summary_keys(tmp_path):
    out = tmp_path / "orders.json"
    result = CliRunner().invoke(app, ["bench", "orders", "--duration", "1", "--items", "40", "--customers", "2",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    row, summary = objects[0], objects[-1]["summary"]
    assert {"db", "workers", "tpm_services", "tpm_raw", "ratio", "violations"} <= summary.keys()
    assert summary["violations"] == 0 and summary["db"] == "sqlite" and summary["workers"] == 1
    assert row["services"]["transactions"] > 0 and row["raw"]["transactions"] > 0
    assert row["services"]["failed"] == {} and row["raw"]["failed"] == {}
    assert json.loads(out.read_text()) == objects


@pytest.mark.parametrize("args", [["--db", "oracle"], ["--workers", "0"], ["--workers", "x"]])
def test_bench_orders_refuses_bad_options(args):
    assert CliRunner().invoke(app, ["bench", "orders", *args]).exit_code == 2
