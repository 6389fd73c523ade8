"""The stock ledger through its services: on-hand follows done moves, shortages are refused
with a clear message and nothing written, lots and serials, reservations, adjustments, units."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opensupply.core.audit import AuditLog
from opensupply.core.errors import Conflict, InsufficientStock, NotFound, ValidationFailed
from opensupply.core.events import OutboxEvent
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockMove, StockReservation
from opensupply.masterdata.service import virtual_location
from tests.inventory import factories as fi

D = Decimal


def test_receipt_into_bin_shows_on_hand_equal_to_done_moves(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    fi.receive(s, "CUP", 10)
    fi.receive(s, "CUP", "2.5", "B-01-01")
    fi.deliver(s, "CUP", 4)
    assert fi.on_hand(s, cup, s.bin_a) == D(6)
    assert fi.on_hand(s, cup, s.bin_b) == D("2.5")
    assert fi.on_hand(s, cup) == D("8.5")
    assert fi.ledger_ok(s)
    with s.uow(readonly=True) as uow:
        rows, total = inv.on_hand_rows(uow, product="CUP")
    assert total == 2
    assert {(r["location"], r["on_hand"], r["available"]) for r in rows} == {
        ("WH/STOCK/A-01-01", D(6), D(6)), ("WH/STOCK/B-01-01", D("2.5"), D("2.5"))}


def test_done_moves_write_audit_rows_and_an_event(db):
    s = fi.shop(db)
    fi.product(s, "CUP")
    ids = fi.receive(s, "CUP", 3)
    with s.uow(readonly=True) as uow:
        audited = uow.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.entity == "stock_move", AuditLog.entity_id == str(ids[0])))
        events = uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == "inventory.moves_done")).all()
    assert audited == 1
    assert [e.payload["move_ids"] for e in events] == [ids]


def test_shortage_is_refused_with_a_clear_message_and_nothing_written(db):
    s = fi.shop(db)
    fi.product(s, "CUP")
    fi.receive(s, "CUP", 5)
    with s.uow(readonly=True) as uow:
        moves_before = uow.session.scalar(select(func.count()).select_from(StockMove))
    with pytest.raises(InsufficientStock) as err:
        with s.uow() as uow:
            inv.deliver(uow, [inv.StockLine("CUP", "3"), inv.StockLine("CUP", "3")], "A-01-01")
    assert "库存不足" in err.value.message
    assert "CUP" in err.value.message and "A-01-01" in err.value.message
    assert "可用 5" in err.value.message and "需要 6" in err.value.message
    with s.uow(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(StockMove)) == moves_before
    assert fi.on_hand(s, inv_product(s, "CUP")) == D(5)
    assert fi.ledger_ok(s)


def inv_product(s, sku):
    with s.uow(readonly=True) as uow:
        return inv.resolve_product(uow, sku).id


def test_negative_allowed_only_where_the_location_says_so(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    from opensupply.masterdata.models import Location

    with s.uow() as uow:
        uow.get(Location, s.bin_b).allow_negative = True
    fi.deliver(s, "CUP", 2, "B-01-01")
    assert fi.on_hand(s, cup, s.bin_b) == D(-2)
    with pytest.raises(InsufficientStock):
        fi.deliver(s, "CUP", 2, "A-01-01")
    assert fi.ledger_ok(s)


def test_internal_transfer_keeps_total_and_needs_stock(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    fi.receive(s, "CUP", 10)
    with s.uow() as uow:
        inv.move(uow, cup, D(4), s.bin_a, s.bin_b, reference="TRF-1")
    assert (fi.on_hand(s, cup, s.bin_a), fi.on_hand(s, cup, s.bin_b)) == (D(6), D(4))
    with pytest.raises(InsufficientStock), s.uow() as uow:
        inv.move(uow, cup, D(7), s.bin_a, s.bin_b)
    with pytest.raises(ValidationFailed), s.uow() as uow:
        inv.move(uow, cup, D(1), s.bin_a, s.bin_a)
    with pytest.raises(ValidationFailed), s.uow() as uow:
        inv.move(uow, cup, D(0), s.bin_a, s.bin_b)


def test_planned_moves_change_nothing_until_done_and_done_moves_cannot_be_cancelled(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    with s.uow() as uow:
        supplier = virtual_location(uow, "supplier").id
        ids = inv.create_moves(uow, [inv.MoveSpec(cup, D(7), supplier, s.bin_a, reference="PO-1")])
        inv.confirm_moves(uow, ids)
    assert fi.on_hand(s, cup) == 0
    with s.uow() as uow:
        inv.done_moves(uow, ids)
    assert fi.on_hand(s, cup) == D(7)
    with pytest.raises(Conflict), s.uow() as uow:
        inv.cancel_moves(uow, ids)
    with s.uow() as uow:
        inv.reverse_moves(uow, ids)
    assert fi.on_hand(s, cup) == 0
    assert fi.ledger_ok(s)


def test_lot_tracked_products_need_a_lot_and_lots_are_kept_apart(db):
    s = fi.shop(db)
    towel = fi.product(s, "TOWEL", tracking="lot")
    with pytest.raises(ValidationFailed) as err:
        fi.receive(s, "TOWEL", 5)
    assert "批次" in err.value.message
    fi.receive(s, "TOWEL", 5, lot="L1")
    fi.receive(s, "TOWEL", 3, lot="L2")
    with pytest.raises(InsufficientStock):
        fi.deliver(s, "TOWEL", 4, lot="L2")
    fi.deliver(s, "TOWEL", 4, lot="L1")
    with s.uow(readonly=True) as uow:
        rows, _t = inv.on_hand_rows(uow, product="TOWEL")
    assert {(r["lot"], r["on_hand"]) for r in rows} == {("L1", D(1)), ("L2", D(3))}
    assert fi.on_hand(s, towel) == D(4)
    with pytest.raises(NotFound):
        fi.deliver(s, "TOWEL", 1, lot="NOPE")


def test_untracked_products_refuse_a_lot(db):
    s = fi.shop(db)
    fi.product(s, "CUP")
    with pytest.raises(ValidationFailed):
        fi.receive(s, "CUP", 1, lot="L1")


def test_serials_are_one_each_and_never_on_hand_twice(db):
    s = fi.shop(db)
    kettle = fi.product(s, "KETTLE", tracking="serial")
    with pytest.raises(ValidationFailed) as err:
        fi.receive(s, "KETTLE", 2, lot="SN001")
    assert "序列号" in err.value.message
    fi.receive(s, "KETTLE", 1, lot="SN001")
    with pytest.raises(Conflict) as err:
        fi.receive(s, "KETTLE", 1, "B-01-01", lot="SN001")
    assert "SN001" in err.value.message
    fi.deliver(s, "KETTLE", 1, lot="SN001")
    fi.receive(s, "KETTLE", 1, lot="SN001")  # came back (a return): on hand once again
    assert fi.on_hand(s, kettle) == 1
    assert fi.ledger_ok(s)


def test_units_of_the_same_category_are_converted(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    with s.uow() as uow:
        inv.receive(uow, [inv.StockLine("CUP", "2", uom="box")], "A-01-01")  # 箱 = 12 件
    assert fi.on_hand(s, cup) == D(24)
    with pytest.raises(ValidationFailed) as err, s.uow() as uow:
        inv.receive(uow, [inv.StockLine("CUP", "2", uom="kg")], "A-01-01")
    assert "换算" in err.value.message


def test_product_by_barcode_and_location_by_full_code(db):
    s = fi.shop(db)
    from tests import factories as f

    cup = f.product(db, s.company, "CUP", barcode="6901234567012")
    with s.uow() as uow:
        inv.receive(uow, [inv.StockLine("6901234567012", "3")], "WH/STOCK/B-01-01")
    assert fi.on_hand(s, cup, s.bin_b) == 3
    with pytest.raises(NotFound) as err, s.uow() as uow:
        inv.receive(uow, [inv.StockLine("CUP", "3")], "Z-99-99")
    assert "Z-99-99" in err.value.message


# ------------------------------------------------------------------ reservations
def test_reservations_reduce_available_and_protect_reserved_goods(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    fi.receive(s, "CUP", 10)
    with s.uow() as uow:
        [rid] = inv.reserve(uow, [inv.ReservationRequest(cup, s.bin_a, D(7), reference="SO-1")])
    with s.uow(readonly=True) as uow:
        assert inv.available(uow, cup, s.bin_a) == D(3)
    with pytest.raises(InsufficientStock) as err:
        fi.deliver(s, "CUP", 4)  # only 3 are free: the other 7 are promised
    assert "已预留 7" in err.value.message
    with pytest.raises(InsufficientStock), s.uow() as uow:
        inv.reserve(uow, [inv.ReservationRequest(cup, s.bin_a, D(4))])
    with s.uow() as uow:
        ids = inv.reserve(uow, [inv.ReservationRequest(cup, s.bin_a, D(4))], partial=True)
        assert [r["quantity"] for r in inv.get_reservations(uow, ids)] == [D(3)]
        inv.release(uow, ids)
    with s.uow() as uow:
        inv.deliver_reserved(uow, [rid])
    with s.uow(readonly=True) as uow:
        res = uow.session.get(StockReservation, rid)
        assert res.state == "consumed" and res.move_id is not None
        assert inv.on_hand(uow, cup) == D(3) and inv.available(uow, cup) == D(3)
    with pytest.raises(Conflict), s.uow() as uow:
        inv.release(uow, [rid])


def test_batch_reservation_is_all_or_nothing(db):
    s = fi.shop(db)
    cup, mug = fi.product(s, "CUP"), fi.product(s, "MUG")
    fi.receive(s, "CUP", 5)
    fi.receive(s, "MUG", 1)
    with pytest.raises(InsufficientStock), s.uow() as uow:
        inv.reserve(uow, [inv.ReservationRequest(cup, s.bin_a, D(5)), inv.ReservationRequest(mug, s.bin_a, D(2))])
    with s.uow(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(StockReservation)) == 0


def test_partial_consumption_keeps_the_rest_reserved(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    fi.receive(s, "CUP", 10)
    with s.uow() as uow:
        [rid] = inv.reserve(uow, [inv.ReservationRequest(cup, s.bin_a, D(6), reference="SO-9")])
        customer = virtual_location(uow, "customer").id
        inv.post_moves(uow, [inv.MoveSpec(cup, D(2), s.bin_a, customer, reservation_id=rid)])
    with s.uow(readonly=True) as uow:
        assert inv.reserved(uow, cup) == D(4)
        assert inv.on_hand(uow, cup) == D(8)


# ------------------------------------------------------------------ adjustments
def test_adjustment_posts_exactly_the_difference(db):
    s = fi.shop(db)
    cup, mug = fi.product(s, "CUP"), fi.product(s, "MUG")
    fi.receive(s, "CUP", 10)
    fi.receive(s, "MUG", 4, "B-01-01")
    with s.uow() as uow:
        adj = inv.create_adjustment(uow, "月末盘点", [inv.AdjustmentLineIn("CUP", "A-01-01", "7"),
                                                   inv.AdjustmentLineIn("MUG", "B-01-01", "6"),
                                                   inv.AdjustmentLineIn("CUP", "B-01-01", "0")])
        adj_id, number = adj.id, adj.number
    assert number.startswith("ADJ")
    assert fi.on_hand(s, cup) == 10  # a draft changes nothing
    with s.uow() as uow:
        inv.validate_adjustment(uow, adj_id)
    assert fi.on_hand(s, cup, s.bin_a) == 7
    assert fi.on_hand(s, mug, s.bin_b) == 6
    with s.uow(readonly=True) as uow:
        d = inv.adjustment_dict(uow, uow.get(inv.InventoryAdjustment, adj_id))
        moves, total = inv.move_rows(uow, reference=number)
    assert [(ln["sku"], ln["theoretical_quantity"], ln["difference"]) for ln in d["lines"]] == [
        ("CUP", D(10), D(-3)), ("MUG", D(4), D(2)), ("CUP", D(0), D(0))]
    assert total == 2  # no move for a line without difference
    assert {(m["source"], m["destination"], m["quantity"]) for m in moves} == {
        ("WH/STOCK/A-01-01", "ADJUST", D(3)), ("ADJUST", "WH/STOCK/B-01-01", D(2))}
    with pytest.raises(Conflict), s.uow() as uow:
        inv.validate_adjustment(uow, adj_id)
    assert fi.ledger_ok(s)


def test_check_ledger_finds_and_rebuild_repairs_a_tampered_on_hand(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    fi.receive(s, "CUP", 10)
    from sqlalchemy import update

    from opensupply.inventory.models import StockQuant

    with s.uow() as uow:
        uow.session.execute(update(StockQuant).values(quantity=D(99)))
    with s.uow(readonly=True) as uow:
        [diff] = inv.check_ledger(uow)
    assert diff["on_hand"] == 99 and diff["from_moves"] == 10
    with s.uow() as uow:
        assert len(inv.rebuild_quants(uow)) == 1
    assert fi.ledger_ok(s) and fi.on_hand(s, cup) == 10


def test_history_is_newest_first_by_date_done_even_when_back_dated(db):
    import datetime as dt

    s = fi.shop(db)
    fi.product(s, "CUP")
    now = dt.datetime.now(dt.UTC)
    with s.uow() as uow:
        inv.receive(uow, [inv.StockLine("CUP", "5")], "A-01-01", reference="NEW", date_done=now)
        inv.receive(uow, [inv.StockLine("CUP", "5")], "A-01-01", reference="OLD", date_done=now - dt.timedelta(days=30))
    with s.uow(readonly=True) as uow:
        rows, _t = inv.move_rows(uow)
        assert [r["reference"] for r in rows] == ["NEW", "OLD"]
        old_only, n = inv.move_rows(uow, date_to=(now - dt.timedelta(days=20)).date())
        assert n == 1 and old_only[0]["reference"] == "OLD"


def test_lotless_reservation_of_a_lot_product_shows_on_the_lots_it_would_take(db):
    import datetime as dt

    s = fi.shop(db)
    towel = fi.product(s, "TOWEL", tracking="lot")
    with s.uow() as uow:
        inv.create_lot(uow, towel, "LATE", dt.date(2028, 1, 1))
        inv.create_lot(uow, towel, "SOON", dt.date(2027, 1, 1))
    fi.receive(s, "TOWEL", 5, lot="LATE")
    fi.receive(s, "TOWEL", 3, lot="SOON")
    with s.uow() as uow:
        inv.reserve(uow, [inv.ReservationRequest(towel, s.bin_a, D(4))])  # any lot
    with s.uow(readonly=True) as uow:
        rows, _t = inv.on_hand_rows(uow, product="TOWEL")
    assert {r["lot"]: (r["on_hand"], r["reserved"], r["available"]) for r in rows} == {
        "SOON": (D(3), D(3), D(0)), "LATE": (D(5), D(1), D(4))}
    with pytest.raises(InsufficientStock):
        fi.deliver(s, "TOWEL", 5, lot="LATE")  # 4 of the 8 are promised: only 4 may leave
    fi.deliver(s, "TOWEL", 4, lot="LATE")


def test_transfer_reserved_moves_goods_and_keeps_them_reserved_for_the_same_document(db):
    s = fi.shop(db)
    cup = fi.product(s, "CUP")
    fi.receive(s, "CUP", 10)
    with s.uow() as uow:
        (rid,) = inv.reserve(uow, [inv.ReservationRequest(cup, s.bin_a, D(6), ref_type="doc.line", ref_id=7,
                                                          reference="SO-7")])
        ((_move, new_rid),) = inv.transfer_reserved(uow, [(rid, D(4))], s.bin_b, ref_type="pick", ref_id=1)
    with s.uow(readonly=True) as uow:
        rows = {r["id"]: r for r in inv.get_reservations(uow, [rid, new_rid])}
        assert (inv.reserved(uow, cup, s.bin_a), inv.reserved(uow, cup, s.bin_b)) == (D(2), D(4))
        assert rows[new_rid]["ref_id"] == 7 and rows[new_rid]["ref_type"] == "doc.line"
    assert (fi.on_hand(s, cup, s.bin_a), fi.on_hand(s, cup, s.bin_b)) == (D(6), D(4))
    assert fi.ledger_ok(s)
    with pytest.raises(ValidationFailed), s.uow() as uow:  # more than reserved
        inv.transfer_reserved(uow, [(new_rid, D(5))], s.bin_a)
