"""The outbound pages through a logged-in browser session (no JavaScript): wave list and build
form, wave detail with the route, the PDA pick flow, the pack station."""

from __future__ import annotations

import re

from tests import factories as f
from tests.wms.outbound import factories as fo


def csrf(client, url: str = "/wms/waves") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).text).group(1)


def test_pages_wave_pick_pack_ship(db):
    fl = fo.floor(db)
    fid = fo.order(fl, {"YS-MUG-01": 1})
    c = f.web_client(db, f.user(db, fl.company, roles=("warehouse",)))
    page = c.get("/wms/waves")
    assert page.status_code == 200 and "组建波次" in page.text and 'data-ready>1<' in page.text
    token = csrf(c)
    r = c.post("/wms/waves", data={"csrf_token": token, "warehouse_id": fl.wh.warehouse_id, "max_orders": "10",
                                   "pick_mode": "cluster", "release": "1"})
    assert r.status_code == 303 and re.match(r"/wms/waves/\d+", r.headers["location"]), r.text
    detail = c.get(r.headers["location"])
    wave_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert "A-04-03" in detail.text and "<svg" in detail.text and "已下发" in detail.text
    assert c.get("/wms/waves/export?format=csv").text.count("\n") == 2

    pda = c.get(f"/wms/pda/pick/{wave_id}")
    assert pda.status_code == 200 and "A-04-03" in pda.text
    task_id = re.search(r'data-task="(\d+)"', pda.text).group(1)
    # a wrong item, as the PDA script posts it: refused with the Chinese message, status 422
    r = c.post(f"/wms/pda/pick/{wave_id}/{task_id}", headers={"X-PDA": "1", "X-CSRF-Token": token},
               data={"bin": "A-04-03", "item": "YS-CUP-350", "qty": "1", "client_scan_id": "p1"})
    assert r.status_code == 422 and r.json()["message"] == "扫描的商品 YS-CUP-350 与拣货任务要求的 YS-MUG-01 不符"
    r = c.post(f"/wms/pda/pick/{wave_id}/{task_id}", headers={"X-PDA": "1", "X-CSRF-Token": token},
               data={"bin": "A-04-03", "item": "6901234500035", "qty": "1", "client_scan_id": "p2"})
    assert r.status_code == 200 and r.json()["ok"] and r.json()["next"] == f"/wms/pda/pick/{wave_id}"
    assert "本波次已拣完" in c.get(f"/wms/pda/pick/{wave_id}").text

    with fl.uow(readonly=True) as uow:
        from opensupply.oms.models import OmsFulfilment

        number = uow.get(OmsFulfilment, fid).number
    r = c.get("/wms/pack", params={"code": number})
    assert r.status_code == 303 and r.headers["location"] == f"/wms/pack/{fid}"
    assert "未找到发货单" in c.get("/wms/pack", params={"code": "NOPE"}).text
    hdr = {"X-PDA": "1", "X-CSRF-Token": token}
    assert c.post(f"/wms/pack/{fid}/item", headers=hdr, data={"item": "YS-CUP-350", "qty": "1"}).status_code == 422
    r = c.post(f"/wms/pack/{fid}/item", headers=hdr, data={"item": "YS-MUG-01", "qty": "1", "client_scan_id": "k1"})
    assert r.json()["ok"], r.text
    pkg = re.search(r'name="package_id" value="(\d+)"', c.get(f"/wms/pack/{fid}").text).group(1)
    assert c.post(f"/wms/pack/{fid}/close", headers=hdr, data={"package_id": pkg, "weight_kg": "0.5"}).json()["ok"]
    assert c.post(f"/wms/pack/{fid}/waybill", headers=hdr, data={"carrier_id": str(fl.carrier)}).json()["ok"]
    station = c.get(f"/wms/pack/{fid}").text
    assert 'id="label-link"' in station and "确认发货" in station
    label = c.get(f"/wms/pack/{fid}/label.pdf")
    assert label.status_code == 200 and label.content.startswith(b"%PDF")
    r = c.post(f"/wms/pack/{fid}/ship", headers=hdr, data={})
    assert r.json()["ok"] and "已发货" in r.json()["message"]
    assert "data-shipped" in c.get(f"/wms/pack/{fid}").text


def test_pages_need_login_and_permission(db):
    fl = fo.floor(db)
    assert f.anonymous(db, follow_redirects=False).get("/wms/waves").status_code in (302, 303, 307)
    c = f.web_client(db, f.user(db, fl.company, roles=("sales",)))
    assert c.get("/wms/waves").status_code == 403


def test_pages_draft_wave_release_cancel_and_pda_short_pick(db):
    fl = fo.floor(db)
    fo.order(fl, {"YS-CUP-350": 8})
    c = f.web_client(db, f.user(db, fl.company, roles=("warehouse",)))
    token = csrf(c)
    r = c.post("/wms/waves", data={"csrf_token": token, "warehouse_id": fl.wh.warehouse_id, "pick_mode": "single"})
    wave_url = r.headers["location"]
    wave_id = int(wave_url.rsplit("/", 1)[1])
    assert "下发拣货" in c.get(wave_url).text
    r = c.post(f"{wave_url}/release", data={"csrf_token": token})
    assert r.status_code == 303 and "已下发" in c.get(wave_url).text
    assert c.post(f"{wave_url}/nonsense", data={"csrf_token": token}).status_code == 303

    pda = c.get(f"/wms/pda/pick/{wave_id}").text
    task_id = re.search(r'data-task="(\d+)"', pda).group(1)
    r = c.post(f"/wms/pda/pick/{wave_id}/{task_id}/short", headers={"X-PDA": "1", "X-CSRF-Token": token},
               data={"found_qty": "0", "reason": "货架空", "client_scan_id": "short-1"})
    assert r.status_code == 200 and "替代库位" in r.json()["message"] and "A-03-05" in r.json()["message"]
    assert "A-03-05" in c.get(f"/wms/pda/pick/{wave_id}").text  # the next stop is the substitute bin

    r = c.post(f"{wave_url}/cancel", data={"csrf_token": token, "reason": "测试"})
    assert r.status_code == 303 and "已取消" in c.get(wave_url).text
    assert "no such" not in c.get("/wms/pda/pick").text


def test_without_javascript_a_refused_scan_comes_back_as_a_red_banner(db):
    fl = fo.floor(db)
    fo.order(fl, {"YS-MUG-01": 1})
    c = f.web_client(db, f.user(db, fl.company, roles=("warehouse",)))
    token = csrf(c)
    r = c.post("/wms/waves", data={"csrf_token": token, "warehouse_id": fl.wh.warehouse_id, "release": "1"})
    wave_id = int(r.headers["location"].rsplit("/", 1)[1])
    task_id = re.search(r'data-task="(\d+)"', c.get(f"/wms/pda/pick/{wave_id}").text).group(1)
    r = c.post(f"/wms/pda/pick/{wave_id}/{task_id}", data={"csrf_token": token, "bin": "A-01-01", "item": "YS-MUG-01"})
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert 'class="pda-banner err"' in page and "扫描的库位 A-01-01 与拣货任务要求的 A-04-03 不符" in page


def test_build_form_cutoff_is_the_companys_local_time(db):
    import datetime as dt

    from opensupply.oms.models import OmsFulfilment

    fl = fo.floor(db)
    early, late = fo.order(fl, {"YS-MUG-01": 1}), fo.order(fl, {"YS-MUG-01": 1})
    with fl.uow() as uow:  # ship-by 09:00 and 11:00 Shanghai time
        uow.get(OmsFulfilment, early).ship_by = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
        uow.get(OmsFulfilment, late).ship_by = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)
    c = f.web_client(db, f.user(db, fl.company, roles=("warehouse",)))
    r = c.post("/wms/waves", data={"csrf_token": csrf(c), "warehouse_id": fl.wh.warehouse_id,
                                   "ship_by_before": "2026-11-26T10:00"})
    wave_id = int(r.headers["location"].rsplit("/", 1)[1])
    with fl.uow(readonly=True) as uow:
        from opensupply.wms import waves

        assert [m.fulfilment_id for m in waves.live_members(uow, wave_id)] == [early]
