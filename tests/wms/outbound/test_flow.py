"""Outbound as the warehouse lives it: build and release a wave, pick in walking order on the
PDA, pack into cartons, ship — and the ways it goes wrong (wrong scan, short bin, interception)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.events import OutboxEvent
from opensupply.oms import fulfilments as oms_ful
from opensupply.oms.models import OmsFulfilment
from opensupply.wms import packing, picking, waves
from opensupply.wms.models import WmsScan, WmsTask
from tests.wms.outbound import factories as fo

D = Decimal


def tasks_of(fl, wave_id: int) -> list[WmsTask]:
    with fl.uow(readonly=True) as uow:
        return waves.wave_tasks(uow, wave_id)


def build_and_release(fl, **kw) -> int:
    with fl.uow() as uow:
        wave = waves.build_wave(uow, fl.wh.warehouse_id, **kw)
        wid = wave.id
    with fl.uow() as uow:
        waves.release_wave(uow, wid)
    return wid


def pick_all(fl, wave_id: int) -> None:
    for t in tasks_of(fl, wave_id):
        if t.state != "open":
            continue
        with fl.uow() as uow:
            code = uow.session.get(WmsTask, t.id)
            bin_code = picking.bin_code_of(uow, code.source_location_id)
            sku = next(s for s, p in fl.products.items() if p == t.product_id)
            res = picking.confirm_pick(uow, t.id, bin_code=bin_code, product_code=fo.PRODUCTS[sku][1],
                                       quantity=str(t.quantity))
            assert res["ok"], res


def pack_all(fl, fid: int, weight: str = "1.2") -> None:
    with fl.uow(readonly=True) as uow:
        state = packing.pack_state(uow, fid)
    for ln in state["lines"]:
        if D(ln["to_pack"]) > 0:
            with fl.uow() as uow:
                packing.pack_item(uow, fid, product_code=ln["barcode"], quantity=ln["to_pack"])
    with fl.uow() as uow:
        pkg = packing.packages_of(uow, fid)[-1]
        packing.close_package(uow, pkg.id, weight_kg=weight)


def test_wave_pick_pack_ship(db):
    fl = fo.floor(db)
    f1 = fo.order(fl, {"YS-CUP-350": 2, "YS-MUG-01": 1})
    f2 = fo.order(fl, {"YS-TOWEL-01": 3, "YS-MUG-01": 2})
    wid = build_and_release(fl)
    with fl.uow(readonly=True) as uow:
        wave = uow.get(waves.WmsWave, wid)
        assert wave.state == "released"
        assert [m.fulfilment_id for m in waves.live_members(uow, wid)] == [f1, f2]
        assert wave.route_length_m and wave.sshape_length_m and wave.route_length_m <= wave.sshape_length_m
    assert fo.fulfilment(fl, f1).status == "picking"
    tasks = tasks_of(fl, wid)
    assert [t.sequence for t in tasks] == list(range(1, len(tasks) + 1))
    assert {t.slot for t in tasks if t.fulfilment_id == f1} == {1}
    assert {t.slot for t in tasks if t.fulfilment_id == f2} == {2}
    assert sum(t.quantity for t in tasks) == 8  # one task per reservation slice, nothing twice

    pick_all(fl, wid)
    assert fo.on_hand(fl, "YS-MUG-01", "PACK") == 3
    assert fo.reserved(fl, "YS-MUG-01", "PACK") == 3  # still held for the orders at the pack station
    assert fo.on_hand(fl, "YS-MUG-01", "A-04-03") == 17
    with fl.uow(readonly=True) as uow:
        assert uow.get(waves.WmsWave, wid).state == "picked"

    pack_all(fl, f1)
    with fl.uow() as uow:
        out = packing.ship_confirm(uow, f1, carrier_id=fl.carrier)
    assert out["tracking_number"].startswith("YTO")
    assert fo.fulfilment(fl, f1).status == "shipped"
    assert fo.fulfilment(fl, f1).tracking_number == out["tracking_number"]
    assert fo.on_hand(fl, "YS-CUP-350", "PACK") == 0  # left through the ERP delivery
    with fl.uow(readonly=True) as uow:
        ev = uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == "wms.shipment_confirmed")).one()
        assert ev.payload["fulfilment_id"] == f1 and ev.payload["carrier_id"] == fl.carrier
        assert ev.payload["packages"][0]["weight_kg"] == "1.2"
        assert ev.payload["receiver"]["city"] == "杭州市"

    pack_all(fl, f2)
    with fl.uow() as uow:
        packing.ship_confirm(uow, f2, tracking_number="YT1234567890")
    assert fo.fulfilment(fl, f2).tracking_number == "YT1234567890"
    with fl.uow(readonly=True) as uow:
        assert uow.get(waves.WmsWave, wid).state == "done"


def test_wrong_scans_are_refused_in_chinese_and_change_nothing(db):
    fl = fo.floor(db)
    fo.order(fl, {"YS-MUG-01": 1})
    wid = build_and_release(fl)
    (task,) = tasks_of(fl, wid)
    with pytest.raises(ValidationFailed) as e, fl.uow() as uow:
        picking.confirm_pick(uow, task.id, bin_code="A-04-03", product_code="YS-CUP-350", quantity="1")
    assert e.value.message == "扫描的商品 YS-CUP-350 与拣货任务要求的 YS-MUG-01 不符"
    with pytest.raises(ValidationFailed) as e, fl.uow() as uow:
        picking.confirm_pick(uow, task.id, bin_code="A-01-01", product_code="YS-MUG-01", quantity="1")
    assert e.value.message == "扫描的库位 A-01-01 与拣货任务要求的 A-04-03 不符"
    with pytest.raises(ValidationFailed), fl.uow() as uow:
        picking.confirm_pick(uow, task.id, bin_code="A-04-03", product_code="YS-MUG-01", quantity="2")
    assert fo.on_hand(fl, "YS-MUG-01", "PACK") == 0
    assert tasks_of(fl, wid)[0].state == "open"


def test_a_resubmitted_scan_picks_once(db):
    fl = fo.floor(db)
    fo.order(fl, {"YS-MUG-01": 2})
    wid = build_and_release(fl)
    (task,) = tasks_of(fl, wid)
    answers = []
    for _ in range(2):
        with fl.uow() as uow:
            answers.append(picking.confirm_pick(uow, task.id, bin_code="A-04-03", product_code="6901234500035",
                                                quantity="1", client_scan_id="dev1-0001"))
    assert answers[1]["replayed"] and answers[1]["qty_done"] == answers[0]["qty_done"] == "1"
    assert fo.on_hand(fl, "YS-MUG-01", "PACK") == 1
    with fl.uow(readonly=True) as uow:
        assert len(uow.session.scalars(select(WmsScan)).all()) == 1
    with fl.uow() as uow:  # the rest of the task, then the task is closed for good
        picking.confirm_pick(uow, task.id, bin_code="A-04-03", product_code="YS-MUG-01", quantity="1")
    with pytest.raises(Conflict), fl.uow() as uow:
        picking.confirm_pick(uow, task.id, bin_code="A-04-03", product_code="YS-MUG-01", quantity="1")
    assert fo.on_hand(fl, "YS-MUG-01", "PACK") == 2


def test_short_pick_takes_the_rest_from_a_substitute_bin(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-CUP-350": 8})  # reserved in A-01-02 (first by code)
    wid = build_and_release(fl)
    (task,) = tasks_of(fl, wid)
    with fl.uow(readonly=True) as uow:
        assert picking.bin_code_of(uow, task.source_location_id) == "A-01-02"
    with fl.uow() as uow:
        res = picking.short_pick(uow, task.id, "3", "货架上只有 3 个")
    assert res["substitute_task_ids"] and res["unfilled"] == "0"
    assert fo.on_hand(fl, "YS-CUP-350", "PACK") == 3
    assert fo.reserved(fl, "YS-CUP-350", "A-01-02") == 0  # the missing part was released there …
    assert fo.reserved(fl, "YS-CUP-350", "A-03-05") == 5  # … and reserved in the substitute bin
    open_tasks = [t for t in tasks_of(fl, wid) if t.state == "open"]
    assert [t.quantity for t in open_tasks] == [5]
    assert open_tasks[0].sequence > task.sequence and open_tasks[0].slot == task.slot
    pick_all(fl, wid)
    pack_all(fl, fid)
    with fl.uow() as uow:
        packing.ship_confirm(uow, fid)
    assert fo.fulfilment(fl, fid).status == "shipped"
    assert fo.on_hand(fl, "YS-CUP-350", "A-03-05") == 0


def test_short_pick_without_substitute_ships_partially_and_backorders(db):
    fl = fo.floor(db, stock={"YS-MUG-01": {"A-04-03": 4}})
    fid = fo.order(fl, {"YS-MUG-01": 4})
    wid = build_and_release(fl)
    (task,) = tasks_of(fl, wid)
    with fl.uow() as uow:
        res = picking.short_pick(uow, task.id, "1", "破损")
    assert res["unfilled"] == "3" and not res["substitute_task_ids"]
    with fl.uow(readonly=True) as uow:
        assert uow.get(waves.WmsWave, wid).state == "picked"
    pack_all(fl, fid)
    with fl.uow() as uow:
        packing.ship_confirm(uow, fid)
    f = fo.fulfilment(fl, fid)
    assert f.status == "shipped" and [ln.quantity for ln in f.lines] == [1]
    with fl.uow(readonly=True) as uow:
        backorder = uow.session.scalars(select(OmsFulfilment).where(OmsFulfilment.id != fid)).one()
        assert backorder.status == "allocated" and backorder.lines[0].quantity == 3


def test_pack_station_refuses_wrong_and_extra_items(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-MUG-01": 1})
    wid = build_and_release(fl)
    with fl.uow() as uow:  # nothing picked yet: nothing to pack
        with pytest.raises(ValidationFailed):
            packing.pack_item(uow, fid, product_code="YS-MUG-01")
    pick_all(fl, wid)
    with pytest.raises(ValidationFailed) as e, fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-CUP-350")
    assert "不在发货单" in e.value.message
    with fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-MUG-01")
    with pytest.raises(ValidationFailed) as e, fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-MUG-01")
    assert "多装了" in e.value.message
    with fl.uow(readonly=True) as uow:
        f = uow.get(OmsFulfilment, fid)
        assert packing.find_fulfilment(uow, f.number).id == fid
        wave = uow.get(waves.WmsWave, wid)
        assert packing.find_fulfilment(uow, f"{wave.number}#1").id == fid


def test_intercepted_fulfilment_is_refused_and_goods_go_back(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-MUG-01": 2})
    wid = build_and_release(fl)
    pick_all(fl, wid)
    with fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-MUG-01", quantity="2")
    with fl.uow() as uow:
        oms_ful.intercept_fulfilment(uow, fid, "买家申请退款")
    with pytest.raises(Conflict) as e, fl.uow() as uow:
        packing.ship_confirm(uow, fid)
    assert e.value.code == "intercepted" and "已拦截" in e.value.message
    with fl.uow() as uow:
        out = packing.return_to_stock(uow, fid)
    assert out["items"][0]["bin"] == "A-04-03"
    assert fo.on_hand(fl, "YS-MUG-01", "PACK") == 0
    assert fo.on_hand(fl, "YS-MUG-01", "A-04-03") == 20
    assert fo.reserved(fl, "YS-MUG-01", "A-04-03") == 0
    assert fo.fulfilment(fl, fid).status == "cancelled"
    with pytest.raises(Conflict), fl.uow() as uow:
        packing.return_to_stock(uow, fid)


def test_cancelled_wave_returns_its_fulfilments_to_the_pool(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-MUG-01": 1})
    wid = build_and_release(fl)
    with fl.uow() as uow:
        waves.cancel_wave(uow, wid, reason="拣货员不足")
    assert fo.fulfilment(fl, fid).status == "allocated"
    assert all(t.state == "cancelled" for t in tasks_of(fl, wid))
    wid2 = build_and_release(fl)
    assert wid2 != wid and len(tasks_of(fl, wid2)) == 1


def test_a_wave_never_takes_a_fulfilment_of_another_live_wave(db):
    fl = fo.floor(db)
    fids = [fo.order(fl, {"YS-MUG-01": 1}) for _ in range(3)]
    with fl.uow() as uow:
        w1 = waves.build_wave(uow, fl.wh.warehouse_id, max_orders=2).id
    with fl.uow() as uow:
        w2 = waves.build_wave(uow, fl.wh.warehouse_id, max_orders=5).id
    with fl.uow(readonly=True) as uow:
        assert [m.fulfilment_id for m in waves.live_members(uow, w1)] == fids[:2]
        assert [m.fulfilment_id for m in waves.live_members(uow, w2)] == fids[2:]
    with pytest.raises(Conflict), fl.uow() as uow:
        waves.build_wave(uow, fl.wh.warehouse_id)


def pdf_text(data: bytes) -> str:
    import io

    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_label_slip_and_pick_list_pdfs_read_back(db):
    from opensupply.wms import labels

    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-CUP-350": 1, "YS-MUG-01": 2})
    wid = build_and_release(fl)
    with fl.uow(readonly=True) as uow:
        data, _name = labels.pick_list_pdf(uow, wid)
        wave_no = uow.get(waves.WmsWave, wid).number
    text = pdf_text(data)
    assert wave_no in text and "A-01-02" in text and text.index("A-01-02") < text.index("A-04-03")
    pick_all(fl, wid)
    pack_all(fl, fid, weight="0.8")
    with fl.uow() as uow:
        tracking = labels.assign_waybill(uow, fid, carrier_id=fl.carrier)
    with fl.uow(readonly=True) as uow:
        label, _name = labels.shipping_label_pdf(uow, fid)
        slip, _name = labels.packing_slip_pdf(uow, fid)
        f = uow.get(OmsFulfilment, fid)
        so_number = labels.order_numbers(uow, fid)[0]["number"]
    text = pdf_text(label)
    assert tracking in text and f.number in text and so_number in text and "王小明" in text
    import io

    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(label)).pages[0].mediabox
    assert round(float(box.width) / 72 * 25.4) == 100 and round(float(box.height) / 72 * 25.4) == 150
    assert f.number in pdf_text(slip) and "YS-MUG-01" in pdf_text(slip)
    with fl.uow() as uow:  # ship confirm keeps the waybill printed on the label
        assert packing.ship_confirm(uow, fid)["tracking_number"] == tracking


def test_a_carton_packed_wrongly_can_be_emptied_and_packed_again(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-MUG-01": 2})
    wid = build_and_release(fl)
    pick_all(fl, wid)
    with fl.uow() as uow:
        pkg_id = packing.pack_item(uow, fid, product_code="YS-MUG-01", quantity="2")["package_id"]
    with fl.uow() as uow:
        packing.unpack_package(uow, pkg_id)
    with fl.uow(readonly=True) as uow:
        assert packing.pack_state(uow, fid)["to_pack"] == "2"
    with pytest.raises(Conflict), fl.uow() as uow:  # nothing packed: nothing ships
        packing.ship_confirm(uow, fid)
    pack_all(fl, fid)
    with fl.uow() as uow:
        assert len(packing.ship_confirm(uow, fid)["packages"]) == 1
