"""Cycle counts: blind counts by bin or ABC class; an approved variance posts exactly one
adjustment with its reason; a count is approved once, and only by someone allowed to."""

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.core.uow import UnitOfWork
from opensupply.inventory.models import InventoryAdjustment
from opensupply.wms import counts
from tests.wms.inbound import factories as fi

D = Decimal


def _adjustments(s) -> int:
    with s.uow(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(InventoryAdjustment).where(
            InventoryAdjustment.company_id == s.company))


def test_a_variance_posts_exactly_one_adjustment_and_a_second_approval_is_refused(db):
    s = fi.setup(db)
    fi.stock(s, "cup", "A-01-01", 10)
    fi.stock(s, "mug", "A-01-01", 4)
    fi.stock(s, "towel", "A-01-02", 6, lot="L1")
    with s.uow() as uow:
        count = counts.create_count(uow, s.wh.warehouse_id, bin_codes=["A-01-01", "A-01-02"])
        assert count.blind and len(count.lines) == 3 and count.number.startswith("CC")
        count_id = count.id
    with s.uow() as uow:
        counts.enter_count(uow, count_id, "A-01-01", "YS-CUP-350", "8")
        counts.enter_count(uow, count_id, "A-01-01", "YS-MUG-01", "4")
        with pytest.raises(ValidationFailed, match="批次"):
            counts.enter_count(uow, count_id, "A-01-02", "YS-TOWEL-01", "6")
    with pytest.raises(ValidationFailed, match="还有 1 行未盘点"), s.uow() as uow:
        counts.approve_count(uow, count_id, "月度盘点")
    with s.uow() as uow:
        counts.enter_count(uow, count_id, "A-01-02", "YS-TOWEL-01", "7", lot="L1")
        assert uow.get(counts.WmsCount, count_id).state == "counted"
    fi.stock(s, "cup", "A-01-01", 5)  # goods arrive after the count: not "corrected" away
    clerk = fi.clerk(s)
    with pytest.raises(PermissionDenied), UnitOfWork(clerk, db=db) as uow:
        counts.approve_count(uow, count_id, "月度盘点")
    with pytest.raises(ValidationFailed, match="差异原因"), s.uow() as uow:
        counts.approve_count(uow, count_id, "")
    lead = fi.clerk(s, approve=True)
    with UnitOfWork(lead, db=db) as uow:
        c = counts.approve_count(uow, count_id, "破损未登记")
        adj = uow.get(InventoryAdjustment, c.adjustment_id)
        assert adj.state == "done" and "破损未登记" in adj.reason and len(adj.lines) == 2
    assert _adjustments(s) == 1
    assert s.on_hand("cup", "A-01-01") == 13 and s.on_hand("towel", "A-01-02") == 7 and s.on_hand("mug", "A-01-01") == 4
    with pytest.raises(Conflict, match="已审核，不能重复审核"), UnitOfWork(lead, db=db) as uow:
        counts.approve_count(uow, count_id, "再来一次")
    assert _adjustments(s) == 1


def test_a_count_without_variance_posts_nothing_and_found_goods_become_a_line(db):
    s = fi.setup(db)
    fi.stock(s, "cup", "A-01-01", 3)
    with s.uow() as uow:
        count_id = counts.create_count(uow, s.wh.warehouse_id, bin_codes=["A-01-01"]).id
    with s.uow() as uow:
        counts.enter_count(uow, count_id, "A-01-01", "YS-CUP-350", "3")
        c = counts.approve_count(uow, count_id)
        assert c.state == "approved" and c.adjustment_id is None
    assert _adjustments(s) == 0
    with s.uow() as uow:
        count_id = counts.create_count(uow, s.wh.warehouse_id, bin_codes=["A-01-02"]).id
        line = counts.enter_count(uow, count_id, "A-01-02", "YS-MUG-01", "2")  # not on the book
        assert line.book_qty == 0
        counts.approve_count(uow, count_id, "盘盈")
    assert s.on_hand("mug", "A-01-02") == 2 and _adjustments(s) == 1


def test_counts_are_scheduled_by_abc_frequency(db):
    s = fi.setup(db)
    fi.stock(s, "cup", "A-01-01", 3)
    fi.stock(s, "mug", "A-01-02", 3)
    with s.uow() as uow:
        due = counts.due_products(uow, s.wh.warehouse_id)
        assert sorted(due["C"]) == sorted([s.products["cup"], s.products["mug"]])  # never counted, never picked
        made = counts.schedule_counts(uow, s.wh.warehouse_id)
        assert [(c.abc_class, len(c.lines)) for c in made] == [("C", 2)]
    with s.uow() as uow:
        assert counts.schedule_counts(uow, s.wh.warehouse_id) == []  # counted now: not due for a year
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
        assert counts.due_products(uow, s.wh.warehouse_id, now=later)["C"]
        assert counts.due_products(uow, s.wh.warehouse_id, {"C": 500}, now=later)["C"] == []
