"""A wave never picks an order twice, even when several people build and release waves, or two
handhelds confirm the same pick, at the same moment (threads on the real database)."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from opensupply.core.errors import Conflict, DomainError
from opensupply.core.uow import atomic
from opensupply.oms.models import OmsFulfilmentLine
from opensupply.wms import picking, waves
from opensupply.wms.models import WmsTask, WmsWaveFulfilment
from tests import factories as f
from tests.wms.outbound import factories as fo


def _race(fns):
    barrier = threading.Barrier(len(fns))
    results = [None] * len(fns)

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as exc:  # the outcome is what the test looks at
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _build_and_release(uow, warehouse_id):
    wave = waves.build_wave(uow, warehouse_id, max_orders=3)
    waves.release_wave(uow, wave.id)
    return wave.id


def test_concurrent_waves_never_share_or_repick_a_fulfilment(db):
    fl = fo.floor(db)
    fids = [fo.order(fl, {"YS-MUG-01": 1, "YS-TOWEL-01": 1}) for _ in range(6)]
    actor = f.system(fl.company)
    results = _race([lambda: atomic(actor, _build_and_release, fl.wh.warehouse_id, db=db) for _ in range(3)])
    built = [r for r in results if isinstance(r, int)]
    assert built and all(isinstance(r, int) or (isinstance(r, Conflict) and r.code == "nothing_ready")
                         for r in results), results
    with fl.uow(readonly=True) as uow:
        live = uow.session.execute(select(WmsWaveFulfilment.fulfilment_id, WmsWaveFulfilment.wave_id).where(
            WmsWaveFulfilment.active_key == 1)).all()
        assert Counter(fid for fid, _w in live).most_common(1)[0][1] == 1  # one live wave per fulfilment
        assert {fid for fid, _w in live} == set(fids)
        tasks = uow.session.scalars(select(WmsTask).where(WmsTask.kind == "pick")).all()
        per_line = Counter()
        for t in tasks:
            per_line[t.fulfilment_line_id] += t.quantity
        ordered = dict(uow.session.execute(select(OmsFulfilmentLine.id, OmsFulfilmentLine.quantity)).all())
        assert per_line == Counter({lid: q for lid, q in ordered.items()})  # each unit picked exactly once
        assert {t.wave_id for t in tasks} == set(built)
        for fid in fids:
            assert len({t.wave_id for t in tasks if t.fulfilment_id == fid}) == 1


def test_two_handhelds_confirming_one_pick_move_it_once(db):
    fl = fo.floor(db)
    fo.order(fl, {"YS-MUG-01": 2})
    with fl.uow() as uow:
        wid = _build_and_release(uow, fl.wh.warehouse_id)
    with fl.uow(readonly=True) as uow:
        (task,) = waves.wave_tasks(uow, wid)
        tid = task.id
    actor = f.system(fl.company)

    def confirm(scan_id):
        return atomic(actor, lambda uow: picking.confirm_pick(uow, tid, bin_code="A-04-03", product_code="YS-MUG-01",
                                                             quantity="2", client_scan_id=scan_id), db=db)

    results = _race([lambda: confirm("dev-a"), lambda: confirm("dev-b")])
    assert sum(isinstance(r, dict) and r["ok"] for r in results) == 1
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert fo.on_hand(fl, "YS-MUG-01", "PACK") == Decimal(2)
    with fl.uow(readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(WmsTask).where(WmsTask.state == "done")) == 1


def test_ship_confirm_racing_a_platform_refund_ships_or_intercepts_never_both(db, monkeypatch):
    from opensupply.core import jobs
    from opensupply.oms import orders as oms_orders
    from opensupply.oms.models import OmsFulfilment
    from opensupply.wms import packing

    monkeypatch.setattr(jobs, "in_process", False)
    fl = fo.floor(db)
    oid, fid = fo.channel_order(fl, {"YS-MUG-01": 1})
    with fl.uow() as uow:
        wid = _build_and_release(uow, fl.wh.warehouse_id)
    with fl.uow(readonly=True) as uow:
        (task,) = waves.wave_tasks(uow, wid)
    with fl.uow() as uow:
        picking.confirm_pick(uow, task.id, bin_code="A-04-03", product_code="YS-MUG-01", quantity="1")
    with fl.uow() as uow:
        packing.pack_item(uow, fid, product_code="YS-MUG-01")
    actor = f.system(fl.company)
    results = _race([
        lambda: atomic(actor, lambda uow: packing.ship_confirm(uow, fid)["status"], db=db),
        lambda: atomic(actor, lambda uow: oms_orders.apply_platform_refund(uow, oid, reason="买家退款", cancelled=True),
                       db=db),
    ])
    shipped, refund = results
    with fl.uow(readonly=True) as uow:
        ful = uow.get(OmsFulfilment, fid)
        if shipped == "shipped":  # the parcel left first: the refund becomes an after-sales case
            assert refund == "after_sales" and ful.status == "shipped" and not ful.intercepted
        else:  # the refund came first: intercepted, and ship confirm was refused
            assert isinstance(shipped, Conflict) and shipped.code == "intercepted", results
            assert refund == "intercepted" and ful.intercepted and ful.status != "shipped"
            assert fo.on_hand(fl, "YS-MUG-01", "PACK") == 1  # still on the bench, to go back to the shelf
