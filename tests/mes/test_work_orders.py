"""Work orders through the services: the BOM version in force, reservations, issue to the line, completion
posting consumption and output with balanced books that clear 生产成本, closing and cancelling."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core.errors import Conflict, InsufficientStock, ValidationFailed
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockMove
from opensupply.masterdata import boms
from opensupply.masterdata.lifecycle import LifecycleBlocked
from opensupply.masterdata.models import Product
from opensupply.mes import work_orders as wos
from opensupply.mes.models import LotLink, WorkCenter
from tests.mes import factories as fm

D = Decimal


def _wo(p: fm.Plant, sku: str, qty: str, **kw) -> int:
    with p.uow() as uow:
        return wos.create_work_order(uow, product=sku, quantity=qty, **kw).id


def _dict(p: fm.Plant, wo_id: int) -> dict:
    with p.uow(readonly=True) as uow:
        return wos.work_order_to_dict(uow, wos.get_work_order(uow, wo_id))


def test_work_order_copies_the_released_bom_and_routing(db):
    p = fm.plant(db, stock=False)
    d = _dict(p, _wo(p, "YS-TOP-120", "10"))
    assert d["state"] == "draft" and d["bom_version"] == "V1.0"
    comps = {c["sku"]: c for c in d["components"]}
    assert comps["RM-OAK-18"]["quantity_per_unit"] == "2.1"  # 2 boards + 5 % scrap
    assert comps["RM-OAK-18"]["required_qty"] == "21"
    assert comps["RM-GLUE"]["required_qty"] == "1"
    assert [(o["sequence"], o["name"], o["work_center"]) for o in d["operations"]] == [
        (10, "开料", "CUT"), (20, "封边", "CUT")]
    assert d["operations"][0]["planned_minutes"] == "80"  # 20 setup + 10 × 6
    assert d["operations"][0]["barcode"] == f"{d['number']}/10"


def test_release_reserves_what_is_there_and_shows_the_shortage(db):
    p = fm.plant(db)
    wo = _wo(p, "YS-TOP-120", "30")  # needs 63 boards, 50 on hand
    with p.uow() as uow:
        wos.release_work_order(uow, wo)
    comps = {c["sku"]: c for c in _dict(p, wo)["components"]}
    assert comps["RM-OAK-18"]["reserved_qty"] == "50" and comps["RM-OAK-18"]["missing_qty"] == "13"
    assert comps["RM-GLUE"]["missing_qty"] == "0"
    with p.uow(readonly=True) as uow:
        assert inv.available(uow, p.products["oak"]) == 0
    fm.purchase(p, "wood", [("RM-OAK-18", "20", "82", "OAK-2612-B")])
    with p.uow() as uow:
        got = wos.reserve_materials(uow, wo)
    comps = {c["sku"]: c for c in _dict(p, wo)["components"]}
    assert sum(got.values()) == 13 and comps["RM-OAK-18"]["missing_qty"] == "0"


def test_completion_posts_consumption_and_output_and_clears_wip(db):
    p = fm.plant(db)
    before = fm.books(p)
    wo = _wo(p, "YS-TOP-120", "10", lot_name="TOP-2612-01")
    with p.uow() as uow:
        wos.release_work_order(uow, wo)
    with p.uow() as uow:
        c = wos.complete_work_order(uow, wo, "10")
        completion = (c.material_value, c.conversion_value, c.finished_value)
    # by hand: 21 boards × 80 + 1 kg glue × 20 = 1,700; (20 + 10×6 + 10×4) min at ¥120/h = 240
    assert completion == (D("1700"), D("240"), D("1940"))
    d = _dict(p, wo)
    assert d["state"] == "done" and d["qty_done"] == "10"
    assert {c["sku"]: c["consumed_qty"] for c in d["components"]} == {"RM-OAK-18": "21", "RM-GLUE": "1"}
    with p.uow(readonly=True) as uow:
        assert inv.on_hand(uow, p.products["top"]) == 10
        assert inv.on_hand(uow, p.products["oak"]) == 29
        lots = {lot["name"] for lot in inv.lot_rows(uow, product=p.products["top"])[0]}
        assert lots == {"TOP-2612-01"}
        assert inv.check_ledger(uow) == []
    b = fm.books(p)
    assert b["debit"] == b["credit"]
    assert b["stock_value"] == b["gl_stock"] == before["gl_stock"] - 1700 + 1940
    assert b["balances"].get("5001", 0) == 0  # WIP clears
    assert b["balances"]["5101"] == -240  # conversion absorbed (credit)


def test_two_levels_value_the_subassembly_at_its_cost(db):
    p = fm.plant(db)
    top = _wo(p, "YS-TOP-120", "5")
    with p.uow() as uow:
        wos.release_work_order(uow, top)
        wos.complete_work_order(uow, top, "5", lot="TOP-A")
    desk = _wo(p, "YS-DESK-120", "5", lot_name="DESK-A")
    with p.uow() as uow:
        wos.release_work_order(uow, desk)
        c = wos.complete_work_order(uow, desk, "5")
        desk_value = c.finished_value
    # top: (10.5 boards × 80 + 0.5 kg × 20) + (20 + 30 + 20) min × ¥120/h = 850 + 140 = 990 → 198 each
    # desk: 5 tops 990 + 20 legs × 25 + 80 screws × 0.2 + (10 + 75 + 25) min × ¥90/h = 990 + 500 + 16 + 165
    assert desk_value == D("1671")
    with p.uow(readonly=True) as uow:
        links = uow.session.scalars(select(LotLink).where(LotLink.work_order_id == desk)).all()
        consumed = {(ln.consumed_product_id, ln.consumed_lot_id is not None) for ln in links}
    assert (p.products["top"], True) in consumed and (p.products["leg"], True) in consumed
    assert (p.products["screw"], False) in consumed
    b = fm.books(p)
    assert b["debit"] == b["credit"] and b["stock_value"] == b["gl_stock"] and b["balances"].get("5001", 0) == 0


def test_partial_completions_then_close_return_staged_material(db):
    p = fm.plant(db)
    wo = _wo(p, "YS-TOP-120", "10", consumption="pick")
    with p.uow() as uow:
        wos.release_work_order(uow, wo)
        moves = wos.issue_materials(uow, wo)
    assert len(moves) == 2
    d = _dict(p, wo)
    assert {c["sku"]: c["issued_qty"] for c in d["components"]} == {"RM-OAK-18": "21", "RM-GLUE": "1"}
    with p.uow(readonly=True) as uow:
        wc = uow.session.scalar(select(WorkCenter).where(WorkCenter.code == "CUT"))
        staging = wc.staging_location_id
        assert inv.on_hand(uow, p.products["oak"], staging) == 21
    with p.uow() as uow:
        wos.complete_work_order(uow, wo, "4", qty_scrap="1")  # 5 made → 10.5 boards
    assert _dict(p, wo)["state"] == "in_progress"
    with p.uow() as uow:
        wos.close_work_order(uow, wo)
    d = _dict(p, wo)
    assert d["state"] == "done" and d["qty_done"] == "4" and d["qty_scrapped"] == "1"
    with p.uow(readonly=True) as uow:
        assert inv.on_hand(uow, p.products["oak"], staging) == 0  # the rest went back to stock
        assert inv.on_hand(uow, p.products["oak"]) == D("39.5")
        assert inv.reserved(uow, p.products["oak"]) == 0
    b = fm.books(p)
    assert b["debit"] == b["credit"] and b["stock_value"] == b["gl_stock"] and b["balances"].get("5001", 0) == 0


def test_completion_without_enough_material_changes_nothing(db):
    p = fm.plant(db)
    wo = _wo(p, "YS-TOP-120", "30")
    with p.uow() as uow:
        wos.release_work_order(uow, wo)
    with pytest.raises(InsufficientStock, match="RM-OAK-18"), p.uow() as uow:
        wos.complete_work_order(uow, wo, "30")
    d = _dict(p, wo)
    assert d["state"] == "released" and d["completions"] == []
    with p.uow(readonly=True) as uow:
        assert inv.on_hand(uow, p.products["oak"]) == 50
        assert uow.session.scalar(select(StockMove.id).where(StockMove.ref_type == wos.OUTPUT_REF)) is None


def test_repeated_completion_submission_is_recorded_once(db):
    p = fm.plant(db)
    wo = _wo(p, "YS-TOP-120", "10")
    with p.uow() as uow:
        wos.release_work_order(uow, wo)
    for _ in range(2):
        with p.uow() as uow:
            wos.complete_work_order(uow, wo, "3", client_key="tablet-7:42")
    assert len(_dict(p, wo)["completions"]) == 1


def test_new_version_in_force_applies_to_new_work_orders_only(db):
    p = fm.plant(db, stock=False)
    old = _wo(p, "YS-TOP-120", "5")
    with p.uow() as uow:
        v11 = boms.copy_bom(uow, p.boms["top"])
        boms.update_bom(uow, v11.id, {"lines": [{"component": "RM-OAK-18", "quantity": "2"},
                                                {"component": "RM-GLUE", "quantity": "0.15"}]})
        boms.release_bom(uow, v11.id)
    new = _wo(p, "YS-TOP-120", "5")
    assert _dict(p, old)["bom_version"] == "V1.0"
    assert {c["sku"]: c["required_qty"] for c in _dict(p, old)["components"]}["RM-OAK-18"] == "10.5"
    d = _dict(p, new)
    assert d["bom_version"] == "V1.1" and {c["sku"]: c["required_qty"] for c in d["components"]} == {
        "RM-OAK-18": "10", "RM-GLUE": "0.75"}
    with p.uow(readonly=True) as uow:
        assert [w.id for w in wos.open_work_orders_on_bom(uow, p.boms["top"])] == [old]
    with pytest.raises(Conflict, match="已作废"), p.uow() as uow:  # the old order must be re-planned
        wos.release_work_order(uow, old)


def test_lifecycle_rules_for_production(db):
    p = fm.plant(db, stock=False)
    with p.uow() as uow:
        uow.get(Product, p.products["top"]).lifecycle_stage = "rd"
    with pytest.raises(LifecycleBlocked, match="试产"), p.uow() as uow:
        wos.create_work_order(uow, product="YS-TOP-120", quantity="2")
    assert _dict(p, _wo(p, "YS-TOP-120", "2", kind="pilot"))["kind"] == "pilot"
    with p.uow() as uow:
        uow.get(Product, p.products["top"]).lifecycle_stage = "eol"
    with pytest.raises(LifecycleBlocked, match="退市"), p.uow() as uow:
        wos.create_work_order(uow, product="YS-TOP-120", quantity="2", kind="pilot")


def test_bad_input_is_refused_clearly(db):
    p = fm.plant(db, stock=False)
    with pytest.raises(ValidationFailed, match="数量"), p.uow() as uow:
        wos.create_work_order(uow, product="YS-TOP-120", quantity="0")
    with pytest.raises(ValidationFailed, match="物料清单"), p.uow() as uow:
        wos.create_work_order(uow, product="RM-OAK-18", quantity="1")
    with pytest.raises(ValidationFailed, match="6 位小数"), p.uow() as uow:
        wos.create_work_order(uow, product="YS-TOP-120", quantity="1.0000001")
    wo = _wo(p, "YS-TOP-120", "2")
    with pytest.raises(Conflict, match="不能完工"), p.uow() as uow:
        wos.complete_work_order(uow, wo, "1")  # still a draft


def test_cancel_returns_staged_material_and_frees_reservations(db):
    p = fm.plant(db)
    wo = _wo(p, "YS-TOP-120", "10", consumption="pick")
    with p.uow() as uow:
        wos.release_work_order(uow, wo)
        wos.issue_materials(uow, wo)
    with p.uow() as uow:
        wos.cancel_work_order(uow, wo, "客户取消订单")
    with p.uow(readonly=True) as uow:
        assert inv.reserved(uow, p.products["oak"]) == 0
        assert inv.available(uow, p.products["oak"]) == 50
        w = wos.get_work_order(uow, wo)
        assert w.state == "cancelled" and "客户取消订单" in w.notes
        assert {o.state for o in w.operations} == {"cancelled"}
