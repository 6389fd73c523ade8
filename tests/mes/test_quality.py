"""Quality checks (品控) through the services: checklists, measurement limits deciding pass or fail,
dispositions (scrap posts one move to scrap with balanced books, rework opens a rework order on the same lot,
accept needs a reason), the lot's record, the final-inspection status and first-pass yield."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, InsufficientStock, ValidationFailed
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot, StockMove, StockReservation
from opensupply.masterdata import service as mds
from opensupply.mes import quality, routings
from opensupply.mes import work_orders as wos
from opensupply.mes.models import QualityCheck, WorkOrder
from tests.mes import factories as fm

D = Decimal
ITEMS = "长度 | measure | 99.5 | 100.5 | mm\n外观 | check"


def _checklist(p: fm.Plant, code: str = "QC-TOP", items: str = ITEMS) -> int:
    with p.uow() as uow:
        return rs.create_record(uow, quality.checklists, {"code": code, "name": "桌面板完工检验", "items": items}).id


def _with_final_checklist(p: fm.Plant) -> int:
    cl = _checklist(p)
    with p.uow() as uow:
        routing = routings.routing_for(uow, p.products["top"], None)
        routings.update_routing(uow, routing.id, {"final_checklist_id": cl})
    return cl


def _made_tops(p: fm.Plant, qty: str = "10", lot: str = "TOP-2612-01") -> int:
    """A finished top order: the lot is in stock, waiting for its final inspection."""
    with p.uow() as uow:
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity=qty, lot_name=lot)
        wos.release_work_order(uow, wo.id)
        wos.complete_work_order(uow, wo.id, qty)
        return wo.id


def _check(p: fm.Plant, wo_id: int, length: str, look: str = "合格", qty: str = "5", **kw) -> QualityCheck:
    with p.uow() as uow:
        results = [{"name": "长度", "value": length}, {"name": "外观", "value": look}]
        c = quality.record_check(uow, wo_id, results=results, qty_inspected=qty, **kw)
        uow.session.expunge(c)
        return c


def _lot_id(p: fm.Plant, name: str) -> int:
    with p.uow(readonly=True) as uow:
        return uow.session.scalar(select(StockLot.id).where(StockLot.name == name))


def test_checklist_items_are_typed_one_per_line_and_validated(db):
    p = fm.plant(db, stock=False)
    cl = _checklist(p)
    with p.uow(readonly=True) as uow:
        stored = quality.get_checklist(uow, cl).items
    assert stored == [{"name": "长度", "kind": "measure", "min": 99.5, "max": 100.5, "unit": "mm"},
                      {"name": "外观", "kind": "check"}]
    assert quality.format_items(stored) == "长度 | measure | 99.5 | 100.5 | mm\n外观 | check"
    # the kind may be left out when limits follow; Chinese kind words are understood
    assert quality.parse_items("厚度 | 17.8 | 18.2 | mm；含水率 | 测量 | | 12 | %")[0]["kind"] == "measure"
    assert quality.parse_items("含水率 | 测量 | | 12 | %")[0] == {"name": "含水率", "kind": "measure", "min": None,
                                                               "max": 12, "unit": "%"}
    for bad, words in [("长度 | measure | 100.5 | 99.5", "下限"), ("长度 | 尺寸量 | 1 | 2", "类型"),
                       ("外观 | check | 1 | 2", "判定项"), ("外观\n外观", "重复"), ("长度 | measure", "下限或上限"),
                       ('[{"name": "长度", "kind": "measure", "min": "abc"}]', "数字")]:
        with pytest.raises(ValidationFailed) as err, p.uow() as uow:
            rs.create_record(uow, quality.checklists, {"code": "BAD", "name": "x", "items": bad})
        assert words in err.value.message and err.value.field == "items"
    with p.uow(readonly=True) as uow:
        assert rs.find_by_key(uow, quality.checklists, "BAD") is None


def test_measurement_limits_decide_pass_or_fail(db):
    p = fm.plant(db)
    _with_final_checklist(p)
    wo = _made_tops(p)
    inside = _check(p, wo, "100.5", qty="4")  # the limit itself is inside
    assert (inside.result, inside.qty_failed, inside.stage) == ("pass", 0, "final")
    assert [r["ok"] for r in inside.results] == [True, True]
    assert inside.number.startswith("QC") and inside.lot_id == _lot_id(p, "TOP-2612-01")
    outside = _check(p, wo, "100.7", qty="2")
    assert outside.result == "fail" and outside.qty_failed == 2  # a failed item fails every inspected unit
    assert outside.results[0] == {"name": "长度", "kind": "measure", "value": "100.7", "ok": False, "min": 99.5,
                                  "max": 100.5, "unit": "mm"}
    partly = _check(p, wo, "100", look="不合格", qty="2", qty_failed="1")
    assert partly.result == "fail" and partly.qty_failed == 1
    units_failed = _check(p, wo, "100", qty="1", qty_failed="1")  # items fine, a unit found bad anyway
    assert units_failed.result == "fail"
    with pytest.raises(ValidationFailed, match="完工检验数量合计"):  # 4 + 2 + 2 + 1 + 2 > 10
        _check(p, wo, "100", qty="2")
    with pytest.raises(ValidationFailed, match="不合格数量必须大于 0"):
        _check(p, wo, "99", qty="1", qty_failed="0")
    with pytest.raises(ValidationFailed, match="请填写检验项目「外观」"), p.uow() as uow:
        quality.record_check(uow, wo, results=[{"name": "长度", "value": "100"}], qty_inspected="1")
    with pytest.raises(ValidationFailed, match="测量值"), p.uow() as uow:
        quality.record_check(uow, wo, results=[{"name": "长度", "value": "长"}, {"name": "外观", "value": "ok"}],
                             qty_inspected="1")
    with p.uow(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(QualityCheck)) == 4


def test_scrap_posts_exactly_one_scrap_move_and_keeps_the_books_balanced(db):
    p = fm.plant(db)
    _with_final_checklist(p)
    wo = _made_tops(p)
    check = _check(p, wo, "101", qty="3")
    lot = _lot_id(p, "TOP-2612-01")
    with pytest.raises(ValidationFailed, match="请填写原因"), p.uow() as uow:
        quality.dispose(uow, check.id, "scrap", "3")
    with pytest.raises(ValidationFailed, match="超过工单数量"), p.uow() as uow:
        quality.dispose(uow, check.id, "scrap", "11")
    with p.uow() as uow:
        done = quality.dispose(uow, check.id, "scrap", "3", "尺寸超差，无法返修")
        assert (done.disposition, done.disposition_qty) == ("scrap", 3)
    with p.uow(readonly=True) as uow:
        moves = list(uow.session.scalars(select(StockMove).where(StockMove.ref_type == quality.CHECK_REF)))
        assert len(moves) == 1
        m = moves[0]
        assert (m.quantity, m.lot_id, m.dest_location_id, m.reference) == (
            3, lot, mds.virtual_location(uow, "scrap").id, check.number)
        assert inv.on_hand(uow, p.products["top"], lot_id=lot) == 7
    books = fm.books(p)
    assert books["debit"] == books["credit"]
    assert books["stock_value"] == books["gl_stock"]
    with pytest.raises(Conflict, match="已处置"), p.uow() as uow:
        quality.dispose(uow, check.id, "accept", None, "再次处置")
    # a sample condemns the whole lot, but only what is still in stock can be scrapped
    second = _check(p, wo, "101", qty="2")
    with pytest.raises(InsufficientStock, match="在库 7，不足报废数量 8"), p.uow() as uow:
        quality.dispose(uow, second.id, "scrap", "8", "整批报废")
    with p.uow(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(StockMove).where(
            StockMove.ref_type == quality.CHECK_REF)) == 1
        assert quality.get_check(uow, second.id).disposition == "none"


def test_rework_opens_a_rework_order_on_the_same_lot_that_consumes_the_bad_units(db):
    p = fm.plant(db)
    _with_final_checklist(p)
    wo = _made_tops(p)
    check = _check(p, wo, "100.9", qty="2")
    lot = _lot_id(p, "TOP-2612-01")
    with p.uow() as uow:
        quality.dispose(uow, check.id, "rework", None, "封边返修")
    with p.uow(readonly=True) as uow:
        c = quality.get_check(uow, check.id)
        rework = uow.get(WorkOrder, c.rework_work_order_id)
        assert (rework.kind, rework.source, rework.source_ref, rework.parent_id) == ("rework", "quality", c.number, wo)
        assert rework.quantity == 2 and rework.lot_name == "TOP-2612-01" and rework.state == "draft"
        assert [(x.product_id, x.required_qty) for x in rework.components] == [(p.products["top"], 2)]
        held = uow.session.execute(select(StockReservation.lot_id, StockReservation.quantity).where(
            StockReservation.ref_type == wos.COMPONENT_REF, StockReservation.state == "active",
            StockReservation.ref_id == rework.components[0].id)).all()
        assert held == [(lot, 2)]  # the bad units are held for the rework, not sold
        assert inv.available(uow, p.products["top"]) == 8
        rework_id = rework.id
    with p.uow() as uow:
        wos.release_work_order(uow, rework_id)
        wos.complete_work_order(uow, rework_id, "2")
    with p.uow(readonly=True) as uow:
        assert inv.on_hand(uow, p.products["top"], lot_id=lot) == 10  # reworked, not made twice
    books = fm.books(p)
    assert books["debit"] == books["credit"] and books["stock_value"] == books["gl_stock"]


def test_every_check_and_disposition_is_recorded_on_the_lot(db):
    p = fm.plant(db)
    _with_final_checklist(p)
    wo = _made_tops(p)
    with p.uow(readonly=True) as uow:
        status = quality.final_inspection_status(uow, wo)
    assert status["required"] and not status["ok"] and "尚未检验" in status["message"]
    good = _check(p, wo, "100", qty="8")
    bad = _check(p, wo, "99", qty="2")
    with p.uow(readonly=True) as uow:
        status = quality.final_inspection_status(uow, wo)
    assert not status["ok"] and bad.number in status["message"] and status["qty_open"] == "2"
    with pytest.raises(ValidationFailed, match="请填写原因"), p.uow() as uow:
        quality.dispose(uow, bad.id, "accept")
    with p.uow() as uow:
        quality.dispose(uow, bad.id, "accept", None, "客户同意让步接收，偏差 0.5 mm")
    lot = _lot_id(p, "TOP-2612-01")
    with p.uow(readonly=True) as uow:
        rows = quality.checks_for_lot(uow, lot)
        status = quality.final_inspection_status(uow, wo)
    assert [(r["number"], r["result"], r["disposition"]) for r in rows] == [
        (good.number, "pass", "none"), (bad.number, "fail", "accept")]
    assert rows[1]["disposition_label"] == "让步接收" and rows[1]["disposition_reason"].startswith("客户同意")
    assert status["ok"] and (status["qty_passed"], status["qty_accepted"], status["qty_uninspected"]) == ("8", "2", "0")


def test_in_process_check_uses_the_operation_checklist_and_first_pass_yield_counts_first_passes(db):
    p = fm.plant(db)
    cl = _checklist(p, "QC-CUT", "板厚 | measure | 17.8 | 18.2 | mm")
    with p.uow() as uow:
        routing = routings.routing_for(uow, p.products["top"], None)
        routings.update_routing(uow, routing.id, {"operations": [
            {"name": "开料", "work_center": "CUT", "setup_minutes": "20", "run_minutes": "6", "checklist_id": cl},
            {"name": "封边", "work_center": "CUT", "run_minutes": "4"}]})
        wo = wos.create_work_order(uow, product="YS-TOP-120", quantity="10")
        wos.release_work_order(uow, wo.id)
        first_op = wo.operations[0].id
        wo_id = wo.id
    with pytest.raises(Conflict, match="还未开工"), p.uow() as uow:
        quality.record_check(uow, wo_id, operation_id=first_op, results=[{"name": "板厚", "value": "18"}],
                             qty_inspected="1")
    from opensupply.mes import terminal

    with p.uow() as uow:
        terminal.start_operation(uow, first_op)
    with p.uow() as uow:
        form = quality.inspection_form(uow, wo_id, first_op)
        assert form["items"][0]["limits"] == "17.8 – 18.2 mm" and form["stage"] == "operation"
        ok = quality.record_check(uow, wo_id, operation_id=first_op, results=[{"name": "板厚", "value": "18.1"}],
                                  qty_inspected="3")
        ng = quality.record_check(uow, wo_id, operation_id=first_op, results=[{"name": "板厚", "value": "18.3"}],
                                  qty_inspected="1")
        assert (ok.stage, ok.checklist_id, ok.result, ng.result) == ("operation", cl, "pass", "fail")
    with p.uow(readonly=True) as uow:
        by_product = quality.first_pass_yield(uow, group_by="product", period="day")
        by_center = quality.first_pass_yield(uow, group_by="work_center", period="week")
    assert [(r["key"], r["inspected"], r["passed"], r["fpy_pct"]) for r in by_product["totals"]] == [
        ("YS-TOP-120", "4", "3", "75.0")]
    assert [(r["key"], r["fpy_pct"]) for r in by_center["totals"]] == [("CUT", "75.0")]
    assert by_center["periods"][0].count("-W") == 1
    with pytest.raises(ValidationFailed), p.uow(readonly=True) as uow:
        quality.first_pass_yield(uow, group_by="colour")
