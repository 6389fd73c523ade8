"""The order flow over HTTP: API lists and bulk actions with per-order results, pages with filters,
exports, bulk actions and masked buyer data for users without oms.buyer_data."""

from decimal import Decimal

import pytest

from opensupply.core import auth, jobs
from opensupply.core.uow import Actor, UnitOfWork
from tests import factories as f
from tests.oms.orders import factories as fo

D = Decimal


@pytest.fixture(autouse=True)
def _no_job_threads(monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)


def _viewer(db, company: int) -> str:
    with UnitOfWork(Actor.system(company), db=db) as uow:
        auth.ensure_role(uow, "oms_viewer", "订单查看", ["oms.read"])
    return f.user(db, company, roles=("oms_viewer",))


def test_api_order_flow_with_bulk_results(db):
    w = fo.world(db)
    a = fo.order(w, [("CUP", 1, "50")])
    held = fo.order(w, [("CUP", 1, "50")])
    client = f.api_client(db, f.user(db, w.company, roles=("sales",)))
    r = client.post("/api/v1/oms/orders/hold", json={"order_ids": [held], "kind": "address", "note": "缺门牌号"})
    assert r.status_code == 200 and r.json()["ok"] == 1
    r = client.post("/api/v1/oms/orders/approve", json={"order_ids": [a, held]})
    body = r.json()
    assert body["ok"] == 1 and body["failed"] == 1
    assert [x["ok"] for x in body["results"]] == [True, False] and "挂起" in body["results"][1]["message"]
    r = client.post("/api/v1/oms/orders/allocate", json={"order_ids": [a]})
    assert r.json()["results"][0]["ok"], r.text
    lst = client.get("/api/v1/oms/orders", params={"status": "allocated"}).json()
    assert lst["total"] == 1 and lst["items"][0]["id"] == a
    assert client.get("/api/v1/oms/orders", params={"hold": "address"}).json()["total"] == 1
    detail = client.get(f"/api/v1/oms/orders/{a}").json()
    assert detail["phone"] == "13800138000" and len(detail["fulfilments"]) == 1
    fid = detail["fulfilments"][0]["id"]
    assert client.get("/api/v1/oms/fulfilments", params={"status": "allocated"}).json()["total"] == 1
    r = client.post(f"/api/v1/oms/fulfilments/{fid}/ship", json={"tracking_number": "SF123"})
    assert r.status_code == 200 and r.json()["status"] == "shipped"
    r = client.post(f"/api/v1/oms/fulfilments/{fid}/ship", json={"tracking_number": "SF124"})
    assert r.status_code == 409
    r = client.post("/api/v1/oms/returns", json={"order_id": a, "reason": "尺寸不合适"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert client.post(f"/api/v1/oms/returns/{rid}/receive", json={"disposition": "restock"}).json()["status"] == \
        "received"
    assert client.post(f"/api/v1/oms/returns/{rid}/refund", json={}).json()["status"] == "done"
    assert client.get("/api/v1/oms/returns").json()["total"] == 1
    dash = client.get("/api/v1/oms/dashboard").json()
    assert {b["status"]: b["count"] for b in dash["backlog"]}["shipped"] == 1
    assert sum(c["counts"][-1] for c in dash["per_channel"]) == 2  # both orders were paid today


def test_buyer_data_is_masked_without_permission(db):
    w = fo.world(db)
    oid = fo.order(w, [("CUP", 1, "50")], name="张三丰")
    viewer = f.api_client(db, _viewer(db, w.company))
    d = viewer.get(f"/api/v1/oms/orders/{oid}").json()
    assert d["receiver_name"] == "张**" and d["phone"] == "138****8000" and d["masked"]
    assert "文三路" not in (d["address_detail"] or "")[4:]
    assert viewer.post("/api/v1/oms/orders/approve", json={"order_ids": [oid]}).status_code == 403
    web = f.web_client(db, _viewer(db, w.company))
    html = web.get(f"/oms/orders/{oid}").text
    assert "138****8000" in html and "13800138000" not in html


def test_pages_list_filter_export_and_bulk(db):
    w = fo.world(db)
    a = fo.order(w, [("CUP", 1, "50")], province="广东省")
    b = fo.order(w, [("LAMP", 1, "80")])
    web = f.web_client(db, f.user(db, w.company, roles=("sales",)))
    html = web.get("/oms/orders", params={"province": "广东"}).text
    assert "广东省" in html and html.count('name="order_ids"') == 1
    html = web.get("/oms/orders", params={"sku": "LAMP"}).text
    assert html.count('name="order_ids"') == 1
    r = web.get("/oms/orders/export", params={"format": "csv"})
    assert r.status_code == 200 and "订单号" in r.content.decode("utf-8-sig")
    assert web.get("/oms/orders/export").headers["content-type"].startswith("application/vnd.openxml")
    token = f.csrf(web)
    r = web.post("/oms/orders/bulk", data={"csrf_token": token, "action": "approve", "order_ids": [str(a), str(b)]})
    assert r.status_code == 200 and r.text.count("成功") >= 2
    r = web.post("/oms/orders/bulk", data={"csrf_token": token, "action": "allocate", "order_ids": [str(a)]})
    assert "FH" in r.text
    r = web.post("/oms/orders/bulk", data={"csrf_token": token, "action": "approve", "order_ids": [str(a)]})
    assert "失败" in r.text and "待审核" in r.text
    for url in (f"/oms/orders/{a}", "/oms/fulfilments", "/oms/returns", "/oms/dashboard"):
        assert web.get(url).status_code == 200, url
    detail = web.get(f"/oms/orders/{a}").text
    fid = int(detail.split('/oms/fulfilments/')[1].split('"')[0])
    assert "/STOCK/A-01-01" in web.get(f"/oms/fulfilments/{fid}").text  # the pick plan names the bin
    r = web.post(f"/oms/fulfilments/{fid}/ship", data={"csrf_token": token, "tracking_number": "YT88"})
    assert r.status_code == 303
    assert "YT88" in web.get(f"/oms/fulfilments/{fid}").text


def test_address_fix_on_the_order_page_releases_the_address_hold(db, monkeypatch):
    from opensupply.oms import normalize

    w = fo.world(db)
    oid = fo.order(w, [("CUP", 1, "50")], detail="")
    with w.uow() as uow:
        from opensupply.oms import orders as oo

        oo.place_hold(uow, oid, "address", "地址不完整")
    web = f.web_client(db, f.user(db, w.company, roles=("sales",)))
    token = f.csrf(web)
    assert "修改收货地址" in web.get(f"/oms/orders/{oid}").text
    addr = "浙江省杭州市西湖区文三路 478 号华星科技大厦"
    parsed = normalize.parse_address(addr)
    assert parsed.complete
    r = web.post(f"/oms/orders/{oid}/address", data={"csrf_token": token, "address": addr})
    assert r.status_code == 303
    with w.uow(readonly=True) as uow:
        from opensupply.oms.models import OmsOrder

        o = uow.get(OmsOrder, oid)
        assert not o.on_hold and o.district == parsed.district


def test_only_users_seeing_buyer_data_may_edit_an_address(db):
    w = fo.world(db)
    oid = fo.order(w, [("CUP", 1, "50")])
    with UnitOfWork(Actor.system(w.company), db=db) as uow:
        auth.ensure_role(uow, "oms_clerk", "订单客服", ["oms.read", "oms.write"])
    clerk = f.api_client(db, f.user(db, w.company, roles=("oms_clerk",)))
    r = clerk.post(f"/api/v1/oms/orders/{oid}/address", json={"address": "浙江省杭州市西湖区文三路 478 号"})
    assert r.status_code == 403


def test_api_merge_split_refund_intercept(db):
    w = fo.world(db)
    a = fo.order(w, [("CUP", 1, "50")])
    b = fo.order(w, [("TOWEL", 1, "20")])
    c = fo.order(w, [("CUP", 3, "150")])
    api = f.api_client(db, f.user(db, w.company, roles=("sales",)))
    r = api.post("/api/v1/oms/orders/merge", json={"order_ids": [a, b]})
    assert r.status_code == 200 and sorted(r.json()["order_ids"]) == sorted([a, b])
    assert api.post(f"/api/v1/oms/orders/{b}/unmerge").json()["order_ids"] == [b]
    line = api.get(f"/api/v1/oms/orders/{c}").json()["lines"][0]["id"]
    r = api.post(f"/api/v1/oms/orders/{c}/split", json={"parts": [{str(line): "1"}, {str(line): "1"}]})
    assert r.status_code == 422 and "拆分数量合计" in r.json()["error"]["message"]
    r = api.post(f"/api/v1/oms/orders/{c}/split", json={"parts": [{str(line): "1"}, {str(line): "2"}]})
    assert r.status_code == 200 and len(r.json()["split_plan"]) == 2
    api.post("/api/v1/oms/orders/approve", json={"order_ids": [a, b, c]})
    res = api.post("/api/v1/oms/orders/allocate", json={"order_ids": [a, b, c]}).json()
    assert res["ok"] == 3, res
    fuls = api.get(f"/api/v1/oms/orders/{c}").json()["fulfilments"]
    assert sorted(x["quantity"] for x in fuls) == ["1.000000", "2.000000"]
    r = api.post(f"/api/v1/oms/orders/{a}/deallocate", json={"reason": "换仓"})
    assert r.json()["status"] == "approved"
    fb = api.get(f"/api/v1/oms/orders/{b}").json()["fulfilments"][0]["id"]
    r = api.post(f"/api/v1/oms/fulfilments/{fb}/intercept", json={"reason": "买家来电拦截"})
    assert r.json()["intercepted"]
    assert api.post(f"/api/v1/oms/fulfilments/{fb}/ship", json={"tracking_number": "X1"}).json()["error"]["code"] \
        == "intercepted"
    r = api.post(f"/api/v1/oms/fulfilments/{fb}/cancel", json={"reason": "拦截完成"})
    assert r.json()["status"] == "cancelled"
    assert api.get(f"/api/v1/oms/orders/{b}").json()["status"] == "approved"  # back for the clerk to decide
    r = api.post(f"/api/v1/oms/orders/{c}/refund", json={"reason": "仅退款", "cancelled": True})
    assert r.json()["outcome"] == "cancelled"
    assert api.get(f"/api/v1/oms/orders/{c}").json()["status"] == "cancelled"
    h = api.post("/api/v1/oms/orders/hold", json={"order_ids": [a], "kind": "manual"}).json()
    assert h["ok"] == 1
    hold_id = api.get(f"/api/v1/oms/orders/{a}").json()["holds"][0]["id"]
    assert api.post(f"/api/v1/oms/holds/{hold_id}/release").json()["released_at"]
