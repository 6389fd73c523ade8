"""Valuation worked by hand on small examples: moving average and FIFO."""

from decimal import Decimal

from opensupply.inventory import service as inv
from opensupply.masterdata.models import Product
from tests.inventory import factories as fi

D = Decimal


def _move_values(s, reference):
    with s.uow(readonly=True) as uow:
        rows, _t = inv.move_rows(uow, reference=reference)
    return [r["value"] for r in rows]


def test_moving_average(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP", valuation="average", cost="0")
    fi.receive(s, "CUP", 10, unit_cost="10")       # 10 × 10 = 100; average 10
    fi.receive(s, "CUP", 10, unit_cost="13")       # +130 → 230 / 20 = 11.5
    with s.uow(readonly=True) as uow:
        assert uow.get(Product, cup).cost == D("11.5")
    with s.uow() as uow:
        inv.deliver(uow, [inv.StockLine("CUP", "5")], "A-01-01", reference="OUT-1")
    assert _move_values(s, "OUT-1") == [D("57.5")]  # 5 × 11.5
    fi.receive(s, "CUP", 5, unit_cost="17.5")      # 172.5 + 87.5 = 260 / 20 = 13
    with s.uow(readonly=True) as uow:
        assert uow.get(Product, cup).cost == D(13)
        v = inv.valuation(uow)
    assert v["total_value"] == D(260)
    [line] = v["lines"]
    assert (line["sku"], line["quantity"], line["value"], line["unit_cost"]) == ("CUP", D(20), D(260), D(13))
    assert v["gl_inventory_balance"] == D(260)  # each move posted its stock side


def test_fifo_consumes_the_oldest_layers_first(db):
    s = fi.shop(db)
    pan = fi.product(s, "PAN", valuation="fifo", cost="9")
    fi.receive(s, "PAN", 10, unit_cost="10")
    fi.receive(s, "PAN", 10, unit_cost="13")
    with s.uow() as uow:
        inv.deliver(uow, [inv.StockLine("PAN", "12")], "A-01-01", reference="OUT-1")
    assert _move_values(s, "OUT-1") == [D(126)]  # 10 × 10 + 2 × 13
    fi.receive(s, "PAN", 5, unit_cost="20")
    with s.uow() as uow:
        inv.deliver(uow, [inv.StockLine("PAN", "9")], "A-01-01", reference="OUT-2")
    assert _move_values(s, "OUT-2") == [D(124)]  # 8 × 13 + 1 × 20
    with s.uow(readonly=True) as uow:
        v = inv.valuation(uow)
        assert uow.get(Product, pan).cost == D(9)  # FIFO keeps no average on the product
    assert v["total_value"] == D(80)  # 4 × 20 left
    assert v["lines"][0]["quantity"] == 4


def test_internal_moves_do_not_change_value_and_adjustments_are_valued_at_cost(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP", valuation="average", cost="10")
    fi.receive(s, "CUP", 10, unit_cost="10")
    with s.uow() as uow:
        inv.move(uow, cup, D(4), s.bin_a, s.bin_b)
        adj = inv.create_adjustment(uow, "盘盈", [inv.AdjustmentLineIn("CUP", "B-01-01", "6")])
    with s.uow() as uow:
        inv.validate_adjustment(uow, adj.id)
    with s.uow(readonly=True) as uow:
        assert inv.valuation(uow)["total_value"] == D(120)  # 10 × 10 + 2 found × 10


def test_every_valued_move_posts_its_stock_side_to_the_general_ledger(db):
    """Receipts credit GRNI, deliveries debit COGS, counts go to 待处理财产损溢; the stock
    accounts always equal the valuation, to the cent, even when costs do not divide evenly."""
    from opensupply.accounting import service as gl

    s = fi.shop(db)
    fi.product(s, "CUP")
    fi.receive(s, "CUP", 3, unit_cost="10")
    fi.receive(s, "CUP", 4, unit_cost="11.01")  # average 10.577143
    for qty in ("1", "2", "1"):
        fi.deliver(s, "CUP", qty)
    with s.uow(readonly=True) as uow:
        v = inv.valuation(uow)
        assert v["gl_inventory_balance"] == v["total_value"]
        assert gl.account_balance(uow, ("220201",)) == D("-74.04")  # 30 + 44.04 received, not yet billed
        tb = gl.trial_balance(uow)
        assert tb["total_debit"] == tb["total_credit"]
    fi.deliver(s, "CUP", "3")  # the last units take exactly the value left
    with s.uow(readonly=True) as uow:
        v = inv.valuation(uow)
        assert v["total_value"] == 0 == v["gl_inventory_balance"]
        assert gl.account_balance(uow, ("6401",)) == D("74.04")
