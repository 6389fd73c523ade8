"""The upload page (preview with row errors → confirm → counts and rejected rows), the import
API, shop settings (credentials masked) and the SKU mapping page, through HTTP."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from opensupply.oms.models import OmsOrder, OmsShop
from opensupply.oms.samples import write_sample
from tests import factories as f


def _orders(db) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(OmsOrder))


def test_import_api_is_idempotent_and_names_bad_lines(db, tmp_path):
    c = f.company(db)
    client = f.api_client(db, f.user(db, c))
    path = write_sample("jd", tmp_path / "jd.csv", orders=12)
    data = path.read_bytes()
    r = client.post("/api/v1/oms/imports", data={"channel": "jd"}, files={"file": ("jd.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["created"] == 12 and body["channel"] == "jd"
    assert [e["line"] for e in body["rejected"]] and all(e["reason"] for e in body["rejected"])
    again = client.post("/api/v1/oms/imports", data={"shop_id": str(body["shop_id"])},
                        files={"file": ("jd.csv", data, "text/csv")}).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 12)
    assert _orders(db) == 12
    bad = client.post("/api/v1/oms/imports", data={"channel": "jd"}, files={"file": ("x.pdf", b"%PDF", "x")})
    assert bad.status_code == 422
    shops = client.get("/api/v1/oms/shops").json()
    assert shops["total"] == 1 and shops["items"][0]["app_secret"].startswith("******")
    unmatched = client.get("/api/v1/oms/sku-mappings/unmatched").json()["items"]
    assert unmatched and all(u["orders"] >= 1 for u in unmatched)


def test_upload_preview_confirm_result(db, tmp_path):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    token = f.csrf(web)
    assert web.get("/oms/imports/new").status_code == 200
    data = write_sample("taobao", tmp_path / "tb.csv", orders=25).read_bytes()
    form = {"csrf_token": token, "channel": "taobao", "shop": "", "shop_name": "旗舰店"}
    r = web.post("/oms/imports/preview", data=form,
                 files={"file": ("淘宝订单.csv", data, "text/csv")})
    assert r.status_code == 200, r.text
    assert 'data-testid="preview-orders">25<' in r.text
    assert "订单编号 为空" in r.text  # the broken row, with its line
    assert _orders(db) == 0  # a preview stores nothing
    confirm = re.search(r'action="(/oms/imports/[0-9a-f]{32}/confirm)"', r.text).group(1)
    done = web.post(confirm, data={"csrf_token": token})
    assert done.status_code == 303
    page = web.get(done.headers["location"])
    assert 'data-testid="created">25<' in page.text
    assert _orders(db) == 25
    csv = web.get(done.headers["location"] + "/rejected.csv")
    assert csv.status_code == 200 and "订单编号 为空" in csv.text
    with db.sessionmaker() as s:
        assert s.scalars(select(OmsShop.name)).one() == "旗舰店"
    # confirming twice does not import twice
    assert web.post(confirm, data={"csrf_token": token}).status_code == 303
    assert _orders(db) == 25


def test_shop_settings_mask_credentials_and_mapping_page_maps(db, tmp_path):
    c = f.company(db)
    f.product(db, c, "KETTLE-9")
    web = f.web_client(db, f.user(db, c))
    token = f.csrf(web)
    r = web.post("/oms/shops", data={"csrf_token": token, "channel": "pdd", "name": "拼多多店"})
    assert r.status_code == 303
    url = r.headers["location"]
    saved = web.post(url, data={"csrf_token": token, "name": "拼多多店", "app_key": "pdd-key",
                                "app_secret": "s3cret-value-1234", "tax_rate": "13", "merge_enabled": "on",
                                "active": "on"})
    assert saved.status_code == 303
    page = web.get(url).text
    assert "s3cret-value-1234" not in page and "******1234" in page and "/api/v1/webhooks/oms/PDD" in page
    with db.sessionmaker() as s:
        shop = s.scalars(select(OmsShop)).one()
        assert shop.app_secret == "s3cret-value-1234" and str(shop.tax_rate).startswith("0.13")
        shop_id = shop.id
    data = write_sample("pdd", tmp_path / "pdd.csv", orders=8).read_bytes()
    api = f.api_client(db, f.user(db, c))
    api.post("/api/v1/oms/imports", data={"shop_id": str(shop_id)}, files={"file": ("pdd.csv", data, "text/csv")})
    listing = web.get(f"/oms/sku-mappings?shop={shop_id}")
    assert listing.status_code == 200
    code = api.get("/api/v1/oms/sku-mappings/unmatched").json()["items"][0]["channel_sku"]
    mapped = web.post("/oms/sku-mappings", data={"csrf_token": token, "shop_id": str(shop_id), "channel_sku": code,
                                                 "product": "KETTLE-9", "quantity": "1"})
    assert mapped.status_code == 303
    assert code not in [u["channel_sku"] for u in api.get("/api/v1/oms/sku-mappings/unmatched").json()["items"]]
    mapping = api.get("/api/v1/oms/sku-mappings").json()["items"][0]
    assert mapping["product_sku"] == "KETTLE-9" and mapping["channel_sku"] == code
    assert web.post(f"/oms/sku-mappings/{mapping['id']}/delete", data={"csrf_token": token}).status_code == 303
    assert api.get("/api/v1/oms/sku-mappings").json()["total"] == 0
    other = web.post("/oms/shops", data={"csrf_token": token, "channel": "jd", "name": "京东店"}).headers["location"]
    pulled = web.post(f"{other}/pull", data={"csrf_token": token})
    assert pulled.status_code == 303 and pulled.headers["location"] == other  # no platform API configured yet


def test_a_big_upload_is_imported_by_a_background_job(db, tmp_path, monkeypatch):
    from opensupply.core.jobs import Job, wait_for
    from opensupply.oms import intake_web

    monkeypatch.setattr(intake_web, "JOB_THRESHOLD_BYTES", 100)
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    token = f.csrf(web)
    data = write_sample("miniapp", tmp_path / "yz.csv", orders=10, encoding="utf-8").read_bytes()
    r = web.post("/oms/imports/preview", data={"csrf_token": token, "channel": "miniapp", "shop": ""},
                 files={"file": ("有赞.csv", data, "text/csv")})
    confirm = re.search(r'action="(/oms/imports/[0-9a-f]{32}/confirm)"', r.text).group(1)
    done = web.post(confirm, data={"csrf_token": token})
    assert done.status_code == 303
    with db.sessionmaker() as s:
        job_id = s.scalars(select(Job.id).where(Job.kind == "oms.import_file")).one()
    assert wait_for(db, job_id, timeout=60).status == "done"
    page = web.get(done.headers["location"])
    assert 'data-testid="created">10<' in page.text
    assert _orders(db) == 10
