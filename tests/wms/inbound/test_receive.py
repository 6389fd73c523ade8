"""Receiving against a purchase order by scanning: each scan is a draft line, 完成收货 posts one
receipt to the dock and creates putaway tasks; wrong items and over-receipts are refused."""

from decimal import Decimal

import pytest

from opensupply.core.errors import ValidationFailed
from opensupply.core.uow import Actor
from opensupply.erp.purchasing.models import PurchaseOrder
from opensupply.wms import inbound, pda
from opensupply.wms.models import WmsTask
from tests.wms.inbound import factories as fi

D = Decimal


def _scan(s, po_id, code, qty, scan_id=None, **kw):
    return pda.run_scan(Actor.system(s.company), scan_id, "receive", code,
                        lambda uow: inbound.scan_receive_line(uow, po_id, code, qty, **kw), db=s.db,
                        note=inbound._draft_key(po_id))


def test_scanned_lines_post_one_receipt_to_the_dock_and_create_putaway_tasks(db):
    s = fi.setup(db)
    po_id = s.order([("cup", "10"), ("towel", "5")])
    with s.uow(readonly=True) as uow:
        number = inbound.find_order(uow, uow.get(PurchaseOrder, po_id).number.lower()).number
    assert _scan(s, po_id, "6901234567892", "4", "dev-1")["ok"]  # barcode
    assert _scan(s, po_id, "6901234567892", "4", "dev-1")["replayed"]  # resubmitted: recorded once
    assert _scan(s, po_id, "YS-CUP-350", "6")["ok"]
    bad = _scan(s, po_id, "YS-TOWEL-01", "5")
    assert not bad["ok"] and "批次" in bad["message"]
    assert _scan(s, po_id, "YS-TOWEL-01", "5", lot="L2026-11")["ok"]
    with s.uow(readonly=True) as uow:
        lines = inbound.order_lines(uow, uow.get(PurchaseOrder, po_id))
        assert [(ln["sku"], ln["scanned"], ln["open"]) for ln in lines] == [("YS-CUP-350", 10, 0),
                                                                              ("YS-TOWEL-01", 5, 0)]
    with s.uow() as uow:
        result = inbound.complete_receipt(uow, po_id, s.wh.warehouse_id)
        assert len(result.receipts) == 1 and result.receipts[0].number.startswith("GR")
    assert s.on_hand("cup", "RCV") == 10 and s.on_hand("towel", "RCV") == 5
    with s.uow(readonly=True) as uow:
        po = uow.get(PurchaseOrder, po_id)
        assert po.state == "done" and number == po.number
        tasks = uow.session.query(WmsTask).filter_by(company_id=s.company, kind="putaway").all()
        assert sum(t.quantity for t in tasks) == 15 and all(t.dest_location_id for t in tasks)
        assert all(t.reference == result.receipts[0].number for t in tasks)
        assert inbound.draft_lines(uow, po_id) == []


def test_a_wrong_item_or_an_over_receipt_is_refused_with_a_clear_message(db):
    s = fi.setup(db)
    po_id = s.order([("cup", "10")])
    wrong = _scan(s, po_id, "YS-MUG-01", "1")
    assert not wrong["ok"] and "扫描的商品 YS-MUG-01 不在采购单" in wrong["message"]
    unknown = _scan(s, po_id, "NOPE-1", "1")
    assert not unknown["ok"] and "NOPE-1" in unknown["message"]
    assert _scan(s, po_id, "YS-CUP-350", "10")["ok"]
    over = _scan(s, po_id, "YS-CUP-350", "1")
    assert not over["ok"] and "超收" in over["message"]
    with s.uow(readonly=True) as uow:
        assert [d["quantity"] for d in inbound.draft_lines(uow, po_id)] == [10]  # refused scans left nothing


def test_an_empty_receipt_and_an_unconfirmed_order_are_refused(db):
    s = fi.setup(db)
    po_id = s.order([("cup", "3")])
    with pytest.raises(ValidationFailed, match="还没有扫描"), s.uow() as uow:
        inbound.complete_receipt(uow, po_id, s.wh.warehouse_id)
    with pytest.raises(Exception, match="未找到采购单"), s.uow() as uow:
        inbound.find_order(uow, "PO-NOPE")


def test_qc_held_goods_wait_in_qc_until_released(db):
    s = fi.setup(db)
    po_id = s.order([("cup", "8")])
    assert _scan(s, po_id, "YS-CUP-350", "8", qc=True)["ok"]
    with s.uow() as uow:
        result = inbound.complete_receipt(uow, po_id, s.wh.warehouse_id)
        assert result.tasks == [] and len(result.qc_lines) == 1
    assert s.on_hand("cup", "QC") == 8
    with s.uow() as uow:
        assert [h["quantity"] for h in inbound.qc_holds(uow, s.wh.warehouse_id)] == [8]
        out = inbound.release_qc(uow, s.wh.warehouse_id, "YS-CUP-350", "6", passed=True)
        assert out["task_ids"]
    with pytest.raises(ValidationFailed, match="原因"), s.uow() as uow:
        inbound.release_qc(uow, s.wh.warehouse_id, "YS-CUP-350", "2", passed=False)
    with pytest.raises(ValidationFailed, match="待检数量只有 2"), s.uow() as uow:
        inbound.release_qc(uow, s.wh.warehouse_id, "YS-CUP-350", "3", passed=False, reason="破损")
    with s.uow() as uow:
        inbound.release_qc(uow, s.wh.warehouse_id, "YS-CUP-350", "2", passed=False, reason="外箱破损")
        assert inbound.qc_holds(uow, s.wh.warehouse_id) == []
    assert s.on_hand("cup", "QC") == 6  # the passed 6 wait for their putaway
