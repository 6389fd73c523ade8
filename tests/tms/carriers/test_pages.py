"""TMS carrier pages: shipments list/detail (comparison with the cheapest highlighted, ineligible with reasons,
timeline), rate cards with an import that lists bad rows, carrier settings, freight bills upload → approve → post."""

import re

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.tms import rates, shipments
from tests import factories as f

from . import factories as tf


def _world(db):
    c = f.company(db)
    wh = tf.zhejiang_warehouse(db, c)
    sf = tf.carrier(db, c, "SF", "顺丰速运")
    zto = tf.carrier(db, c, "ZTO", "中通快递")
    tf.sf_card(db, c, sf)
    tf.zto_card(db, c, zto)
    web = f.web_client(db, f.user(db, c))
    return c, wh, sf, zto, web


def test_shipment_pages_show_comparison_and_timeline(db):
    c, wh, _sf, zto, web = _world(db)
    sid = tf.shipment(db, c, warehouse_id=wh, province="广东省", reference="SO-778")
    token = f.csrf(web)
    r = web.post(f"/tms/shipments/{sid}/choose", data={"by": "cost", "csrf_token": token})
    assert r.status_code == 303
    html = web.get(f"/tms/shipments/{sid}").text
    assert "顺丰速运" in html and "中通快递" in html
    assert "不覆盖目的地：广东省" in html  # 中通's card has no 广东 line
    row = re.search(r'<tr class="highlight[^"]*" data-cheapest="1">(.*?)</tr>', html, re.S).group(1)
    assert "顺丰速运" in row and "已选" in row
    assert web.post(f"/tms/shipments/{sid}/book", data={"csrf_token": token}).status_code == 303
    web.post(f"/tms/shipments/{sid}/events", data={"status": "in_transit", "location": "杭州转运中心",
                                                  "description": "已发车", "csrf_token": token})
    html = web.get(f"/tms/shipments/{sid}").text
    assert "杭州转运中心" in html and "运输中" in html and "打印面单" in html
    r = web.post(f"/tms/shipments/{sid}/refresh", data={"csrf_token": token})
    assert r.status_code == 303 and "error" not in r.headers.get("set-cookie", "")
    r = web.post("/tms/shipments/flag-late", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/tms/shipments?late=1"
    lst = web.get("/tms/shipments", params={"status": "in_transit"}).text
    assert "SO-778" in lst
    assert "SO-778" not in web.get("/tms/shipments", params={"late": "1"}).text
    x = web.get("/tms/shipments/export", params={"format": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    with UnitOfWork(Actor.system(c)) as uow:
        assert shipments.get_shipment(uow, sid).status == "in_transit"
    assert zto


def test_rate_card_pages_import_lists_bad_rows(db):
    _c, _wh, sf, _zto, web = _world(db)
    token = f.csrf(web)
    r = web.post("/tms/rate-cards", data={"code": "SF-LTL", "name": "顺丰重货", "carrier_id": str(sf),
                                          "service": "freight", "volumetric_divisor": "6000", "csrf_token": token})
    assert r.status_code == 303
    url = r.headers["location"]
    bad = "目的省份,首重(kg),首重价格,续重单位(kg),续重价格,最低收费,时效(天)\n江苏,1,12,1,2,,1\n火星,1,1,1,1,,1\n"
    r = web.post(f"{url}/import", data={"csrf_token": token}, files={"file": ("x.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and "省份不正确：火星" in r.text and '<td class="num">3</td>' in r.text
    good = bad.splitlines()[0] + "\n江苏,1,12,1,2,,1\n"
    r = web.post(f"{url}/import", data={"csrf_token": token}, files={"file": ("x.csv", good.encode(), "text/csv")})
    assert r.status_code == 303
    assert "江苏省" in web.get(url).text
    assert "SF-LTL" in web.get("/tms/rate-cards").text
    r = web.post(f"/tms/carriers/{sf}/setting", data={"code": "SF", "connector": "manual", "rules": '{"priority": 1}',
                                                      "active": "1", "csrf_token": token})
    assert r.status_code == 303
    assert "priority" in web.get("/tms/carriers").text


def test_freight_bill_pages_upload_approve_post(db):
    c, wh, sf, _zto, web = _world(db)
    sid = tf.shipment(db, c, warehouse_id=wh, province="北京")
    with UnitOfWork(Actor.system(c)) as uow:
        rates.choose(uow, sid, by=sf)
        tn = shipments.book_waybill(uow, sid).tracking_number
    token = f.csrf(web)
    csv = f"运单号,计费重量,运费金额\n{tn},3,54.88\n".encode()
    r = web.post("/tms/freight-bills", data={"carrier_id": str(sf), "tolerance_pct": "5", "csrf_token": token},
                 files={"file": ("bill.csv", csv, "text/csv")})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    html = web.get(url).text
    assert "多收" in html and "12.00" in html
    r = web.post(f"{url}/approve", data={"csrf_token": token})
    assert r.status_code == 303
    line_id = re.search(r'/lines/(\d+)/approve', html).group(1)
    web.post(f"{url}/lines/{line_id}/approve", data={"use": "expected", "csrf_token": token})
    web.post(f"{url}/approve", data={"csrf_token": token})
    web.post(f"{url}/post", data={"csrf_token": token})
    html = web.get(url).text
    assert "已入账" in html and "49.00" in html
    assert "运费对账" in web.get("/tms/freight-bills").text
    assert web.get("/tms/freight-cost").status_code == 200
