"""Warehouse reports from the ledger: in/out per day, SKU, bin and operator; stock ageing by FIFO
arrival; bin utilisation; picker productivity in lines per hour."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import update

from opensupply.core.types import utcnow
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockMove
from opensupply.wms import inbound, putaway, reports
from opensupply.wms.models import WmsTask
from tests.wms.inbound import factories as fi

D = Decimal


def _receive_and_put_away(s, qty) -> str:
    po_id = s.order([("cup", qty)])
    with s.uow() as uow:
        res = inbound.receive(uow, po_id, s.wh.warehouse_id, [inbound.ReceiveLine(s.products["cup"], qty)])
        (task,) = res.tasks
        code = next(c for c, b in s.wh.bins.items() if b.location_id == task.dest_location_id)
        putaway.confirm_putaway(uow, task.id, code)
    return code


def test_in_out_report_counts_receipts_and_deliveries_not_internal_moves(db):
    s = fi.setup(db)
    code = _receive_and_put_away(s, "12")
    with s.uow() as uow:
        inv.deliver(uow, [inv.StockLine(s.products["cup"], D(5))], s.wh.bins[code].location_id)
    with s.uow(readonly=True) as uow:
        by_day = reports.inout(uow, s.wh.warehouse_id, group="day")
        assert len(by_day["rows"]) == 30 and by_day["totals"]["in_qty"] == 12 and by_day["totals"]["out_qty"] == 5
        by_sku = reports.inout(uow, s.wh.warehouse_id, group="sku")
        assert [(r["label"], r["in_qty"], r["out_qty"]) for r in by_sku["rows"]] == [
            ("YS-CUP-350 不锈钢保温杯 350ml", 12, 5)]
        by_bin = {r["label"]: (r["in_qty"], r["out_qty"]) for r in reports.inout(uow, s.wh.warehouse_id,
                                                                               group="bin")["rows"]}
        assert by_bin["RCV"] == (12, 12) and by_bin[code] == (12, 5)
        assert reports.inout(uow, s.wh.warehouse_id, group="sku", q="MUG")["rows"] == []


def test_ageing_puts_what_is_left_in_the_latest_arrivals(db):
    s = fi.setup(db)
    fi.stock(s, "cup", "A-01-01", 10)
    with s.uow() as uow:  # that first arrival was 70 days ago
        uow.session.execute(update(StockMove).where(StockMove.company_id == s.company)
                            .values(date_done=utcnow() - dt.timedelta(days=70)))
    fi.stock(s, "cup", "A-01-01", 4)
    with s.uow() as uow:
        inv.deliver(uow, [inv.StockLine(s.products["cup"], D(8))], s.wh.bins["A-01-01"].location_id)
    with s.uow(readonly=True) as uow:
        rows = reports.ageing(uow, s.wh.warehouse_id)["rows"]
        assert [(r["sku"], r["on_hand"], r["0-30"], r["61-90"], r["90+"]) for r in rows] == [
            ("YS-CUP-350", 6, 4, 2, 0)]


def test_utilisation_and_picker_productivity(db):
    s = fi.setup(db, capacity_units=D(10))
    fi.stock(s, "cup", "A-01-01", 5)
    fi.stock(s, "mug", "A-01-02", 10)
    picker = fi.clerk(s, "picker1")
    shanghai = ZoneInfo("Asia/Shanghai")  # the company's zone: picks at 10:00-10:30 local, one working day
    now = dt.datetime.combine(dt.datetime.now(shanghai).date(), dt.time(10, 40), shanghai).astimezone(dt.UTC)
    with s.uow() as uow:
        for i in range(6):
            uow.add(WmsTask(kind="pick", state="done", warehouse_id=s.wh.warehouse_id, product_id=s.products["cup"],
                            quantity=D(1), qty_done=D(1), done_by_id=picker.user_id,
                            started_at=now - dt.timedelta(minutes=40 - 5 * i),
                            done_at=now - dt.timedelta(minutes=35 - 5 * i)))
    with s.uow(readonly=True) as uow:
        u = reports.utilisation(uow, s.wh.warehouse_id, bin_type="pick")
        by_code = {r["code"]: r for r in u["rows"]}
        assert by_code["A-01-01"]["pct"] == 50.0 and by_code["A-01-02"]["pct"] == 100.0
        assert u["totals"]["occupied"] == 2 and u["summary"][0]["capacity_pct"] == 15 / 120 * 100
        p = reports.productivity(uow, s.wh.warehouse_id)["rows"]
        assert [(r["picker"], r["lines"]) for r in p] == [("picker1", 6)]
        assert p[0]["lines_per_hour"] == 12.0  # 6 lines in the 30 minutes from first start to last pick


def test_in_out_per_operator_names_who_booked_the_goods(db):
    from opensupply.core.uow import UnitOfWork

    s = fi.setup(db)
    clerk = fi.clerk(s, "zhangsan")
    po_id = s.order([("cup", "3")])
    with UnitOfWork(clerk, db=db) as uow:
        inbound.receive(uow, po_id, s.wh.warehouse_id, [inbound.ReceiveLine("YS-CUP-350", "3")])
    fi.stock(s, "mug", "A-01-01", 2)  # booked by the system
    with s.uow(readonly=True) as uow:
        rows = reports.inout(uow, s.wh.warehouse_id, group="operator")["rows"]
        assert sorted((r["label"], r["in_qty"]) for r in rows) == [("zhangsan", 3), ("系统", 2)]
