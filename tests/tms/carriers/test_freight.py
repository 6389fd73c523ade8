"""Freight bill reconciliation: a 12 % overcharge at 5 % tolerance is flagged, the approved amount is posted
(Dr 销售费用-运费 / Cr 应付账款 carrier) and becomes the shipment's actual cost; the books stay balanced."""

from decimal import Decimal as D

import pytest
from sqlalchemy import select

from opensupply.accounting import service as acc
from opensupply.accounting.models import JournalLine
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.tms import freight, rates, shipments
from tests import factories as f

from . import factories as tf


def _booked(db, c, wh, carrier, province="北京"):
    sid = tf.shipment(db, c, warehouse_id=wh, province=province)
    with UnitOfWork(Actor.system(c)) as uow:
        rates.choose(uow, sid, by=carrier)
        return shipments.book_waybill(uow, sid).tracking_number, sid


def test_overcharge_flagged_approved_at_quote_and_posted(db):
    c = f.company(db)
    wh = tf.zhejiang_warehouse(db, c)
    sf = tf.carrier(db, c, "SF", "顺丰速运")
    tf.sf_card(db, c, sf)
    t1, s1 = _booked(db, c, wh, sf)  # quoted ¥49.00
    t2, s2 = _booked(db, c, wh, sf)  # quoted ¥49.00
    # ¥54.88 = 49 × 1.12 (12 % over); ¥50.00 is +2.04 % (within 5 %); an unknown waybill
    csv = f"运单号,计费重量,运费金额\n{t1},3,54.88\n{t2},3,50.00\nSF999,1,20.00\n".encode()
    with UnitOfWork(Actor.system(c)) as uow:
        bill = freight.import_bill(uow, sf, "sf-2026-11.csv", csv, tolerance_pct="5")
        lines = {ln.tracking_number: ln for ln in bill.lines}
        assert (lines[t1].status, lines[t1].variance_pct, lines[t1].expected_amount) == ("over", D("12.00"), D(49))
        assert (lines[t2].status, lines[t2].variance_pct) == ("matched", D("2.04"))
        assert lines["SF999"].status == "unknown" and lines["SF999"].line_no == 4
        assert bill.total_billed == D("124.88")
        bid, l1, l3 = bill.id, lines[t1].id, lines["SF999"].id
    with UnitOfWork(Actor.system(c)) as uow, pytest.raises(Conflict, match="差异未处理"):
        freight.approve_bill(uow, bid)
    with UnitOfWork(Actor.system(c)) as uow:
        freight.approve_line(uow, l1, use="expected")  # pay the quote, not the overcharge
        freight.approve_line(uow, l3, use="billed", note="退货运单")
        bill = freight.approve_bill(uow, bid)
        assert bill.total_approved == D("119.00")  # 49 + 50 + 20
    with UnitOfWork(Actor.system(c)) as uow:
        bill = freight.post_bill(uow, bid)
        entry_id = bill.journal_entry_id
    with UnitOfWork(Actor.system(c)) as uow:
        tb = acc.trial_balance(uow)
        assert tb["total_debit"] == tb["total_credit"] == D("119.00")
        rows = uow.session.execute(select(JournalLine.debit, JournalLine.credit, JournalLine.partner_id)
                                   .where(JournalLine.entry_id == entry_id)).all()
        assert sorted((D(d), D(cr)) for d, cr, _p in rows) == [(D(0), D(119)), (D(119), D(0))]
        assert {p for d, cr, p in rows if cr} == {sf}
        assert acc.account_balance(uow, ("660102",)) == D("119.00")
        assert shipments.get_shipment(uow, s1).actual_cost == D("49.00")
        assert shipments.get_shipment(uow, s2).actual_cost == D("50.00")
        with pytest.raises(Conflict, match="已入账"):
            freight.post_bill(uow, bid)
        with pytest.raises(Conflict, match="已导入过"):
            freight.import_bill(uow, sf, "again.csv", csv)


def test_bad_rows_are_reported_by_line_and_nothing_imported(db):
    c = f.company(db)
    sf = tf.carrier(db, c, "SF", "顺丰速运")
    csv = "运单号,运费金额\nSF1,12\n,5\nSF3,abc\n".encode()
    with UnitOfWork(Actor.system(c)) as uow, pytest.raises(ValidationFailed) as err:
        freight.import_bill(uow, sf, "bad.csv", csv)
    assert [r["line"] for r in err.value.rejected] == [3, 4]
    with UnitOfWork(Actor.system(c)) as uow:
        assert freight.list_bills(uow)[1] == 0


def test_freight_cost_per_order_by_customer_and_channel(db):
    from opensupply.oms import allocation
    from opensupply.oms import orders as oo
    from tests.oms.orders import factories as fo

    w = fo.world(db)
    tf.zhejiang_warehouse(db, w.company)
    sf = tf.carrier(db, w.company, "SF", "顺丰速运")
    tf.sf_card(db, w.company, sf)
    fids = []
    for _ in range(2):
        oid = fo.approved(w, [("CUP", 1, "49.90")], province="北京市")
        with w.uow() as uow:
            assert allocation.allocate_orders(uow, [oid])[0]["ok"]
        with w.uow(readonly=True) as uow:
            fids += sorted({x.id for _fl, x in oo.fulfilment_lines_of(uow, [oid])})
    numbers = []
    for fid in fids:
        with w.uow() as uow:
            s = shipments.create_shipment(uow, fulfilment_id=fid, warehouse_id=w.wh1,
                                          receiver={"province": "北京"}, packages=[{"weight_kg": "1"}])
            rates.choose(uow, s.id, by="cost")
            numbers.append(shipments.book_waybill(uow, s.id).tracking_number)
    # 1 kg to 北京 quoted ¥23; the bill charges ¥23 and ¥24 (+4.35 %, within 5 %)
    csv = f"运单号,运费金额\n{numbers[0]},23\n{numbers[1]},24\n".encode()
    with w.uow() as uow:
        bill = freight.import_bill(uow, sf, "b.csv", csv)
        assert [ln.status for ln in bill.lines] == ["matched", "matched"]
        freight.approve_bill(uow, bill.id)
        freight.post_bill(uow, bill.id)
    with w.uow(readonly=True) as uow:
        (row,) = freight.freight_cost_report(uow)
    assert (row["customer"], row["channel"], row["orders"], row["freight"], row["per_order"]) == (
        "淘宝消费者", "taobao", 2, "47.00", "23.50")
