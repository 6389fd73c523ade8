"""The layout and bin endpoints: generate a layout (preview first), maintain bin attributes,
export and re-import them, and ask for a walking order."""

import io
from decimal import Decimal

from openpyxl import load_workbook

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from tests import factories as f
from tests.wms.factories import warehouse_with_layout


def _warehouse(api) -> int:
    return api.get("/api/v1/warehouses").json()["items"][0]["id"]


def test_admin_previews_then_generates_a_layout_and_edits_bins(db):
    company = f.company(db)
    api = f.api_client(db, f.user(db, company))
    wh = _warehouse(api)
    spec = {"zone": "D", "aisles": 3, "bins_per_side": 4, "blocks": 2}
    r = api.post("/api/v1/wms/layouts", json={"warehouse_id": wh, "spec": spec, "preview": True})
    assert r.status_code == 201 and r.json()["bins"] == 24 and r.json()["new"] == 24
    assert api.get("/api/v1/wms/bins", params={"warehouse_id": wh}).json()["total"] == 0  # a preview creates nothing
    r = api.post("/api/v1/wms/layouts", json={"warehouse_id": wh, "spec": spec, "capacity_units": "50"})
    assert r.status_code == 201 and r.json()["bins"] == 24
    assert api.post("/api/v1/wms/layouts", json={"warehouse_id": wh, "spec": spec}).json()["bins"] == 24
    listed = api.get("/api/v1/wms/bins", params={"q": "D-02", "limit": 5}).json()
    assert listed["total"] == 8 and len(listed["items"]) == 5 and listed["items"][0]["capacity_units"] == "50"
    bad = api.post("/api/v1/wms/layouts", json={"warehouse_id": wh, "spec": {"aisles": 0}})
    assert bad.status_code == 422 and "aisles" in bad.text

    bin_id = listed["items"][0]["id"]
    f.product(db, company, "SKU-FIX")
    r = api.patch(f"/api/v1/wms/bins/{bin_id}", json={"fixed_product_sku": "SKU-FIX", "min_qty": "5", "max_qty": "40",
                                                     "blocked": True})
    assert r.status_code == 200 and r.json()["fixed_product_sku"] == "SKU-FIX" and r.json()["blocked"] is True
    r = api.patch(f"/api/v1/wms/bins/{bin_id}", json={"min_qty": "50"})
    assert r.status_code == 422 and "最低量不能大于最高量" in r.json()["error"]["message"]
    assert api.get(f"/api/v1/wms/bins/{bin_id}").json()["min_qty"] == "5"  # the refused change left nothing
    assert api.get("/api/v1/wms/bins", params={"blocked": True}).json()["total"] == 1

    extra = api.post("/api/v1/wms/bins", json={"warehouse_id": wh, "code": "bulk-1", "bin_type": "bulk"})
    assert extra.status_code == 201 and extra.json()["code"] == "BULK-1"
    assert api.post("/api/v1/wms/bins", json={"warehouse_id": wh, "code": "BULK-1"}).status_code == 422
    assert api.delete(f"/api/v1/wms/bins/{extra.json()['id']}").json()["active"] is False


def test_export_and_reimport_bin_attributes(db):
    company = f.company(db)
    setup = warehouse_with_layout(db, company, aisles=2, bins_per_side=2)
    api = f.api_client(db, f.user(db, company))
    xlsx = api.get("/api/v1/wms/bins/export", params={"warehouse_id": setup.warehouse_id, "bin_type": "pick"})
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][0] == "库位" and len(rows) == 1 + 8
    rows[1][6] = "30"  # 容量(件)
    rows[1][13] = "是"  # 锁定
    csv_text = "\n".join(",".join("" if v is None else str(v) for v in r) for r in rows)
    r = api.post("/api/v1/wms/bins/import", data={"warehouse_id": str(setup.warehouse_id)},
                 files={"file": ("bins.csv", csv_text.encode("utf-8"), "text/csv")})
    assert r.status_code == 200 and r.json() == {"updated": 8}
    one = api.get(f"/api/v1/wms/bins/{setup.bins[rows[1][0]].id}").json()
    assert one["capacity_units"] == "30" and one["blocked"] is True
    broken = csv_text.replace("A-02-04", "A-09-09")
    r = api.post("/api/v1/wms/bins/import", data={"warehouse_id": str(setup.warehouse_id)},
                 files={"file": ("bins.csv", broken.replace(",30,", ",99,").encode(), "text/csv")})
    assert r.status_code == 422 and "第 9 行" in r.json()["error"]["message"]
    assert api.get(f"/api/v1/wms/bins/{setup.bins[rows[1][0]].id}").json()["capacity_units"] == "30"


def test_grid_shows_fill_and_pick_route_walks_the_aisles(db):
    company = f.company(db)
    setup = warehouse_with_layout(db, company, aisles=3, bins_per_side=5, capacity_units=Decimal(20))
    sku = f.product(db, company, "GRID-1")
    with UnitOfWork(Actor.system(company), db=db) as uow:
        inv.receive(uow, [inv.StockLine(product=sku, quantity=Decimal(5), unit_cost="1")], setup.loc("A-02-03"))
        inv.move(uow, sku, Decimal(1), setup.loc("A-02-03"), setup.pack.location_id)  # a pick
        inv.move(uow, sku, Decimal(1), setup.loc("A-02-03"), setup.loc("A-02-04"))  # re-slotting: not a pick
    api = f.api_client(db, f.user(db, company, roles=("warehouse",)))
    grid = api.get("/api/v1/wms/layout/grid", params={"warehouse_id": setup.warehouse_id}).json()
    cell = next(c for c in grid["cells"] if c["code"] == "A-02-03")
    assert cell["value"] == 15.0 and cell["units"] == "3" and cell["items"] == ["GRID-1 × 3"]
    assert len(grid["cells"]) == 3 * 2 * 5 and grid["columns"][:2] == ["01左", "01右"]
    freq = api.get("/api/v1/wms/layout/grid", params={"warehouse_id": setup.warehouse_id, "metric": "frequency"})
    assert next(c for c in freq.json()["cells"] if c["code"] == "A-02-03")["value"] == 1
    r = api.post("/api/v1/wms/pick-routes", json={"warehouse_id": setup.warehouse_id,
                                                 "bins": ["A-03-01", "A-01-09", "A-01-02", "A-03-10"]})
    assert r.status_code == 200
    body = r.json()
    assert body["method"] == "rr" and body["length_m"] <= body["sshape_m"]
    assert sorted(body["order"]) == ["A-01-02", "A-01-09", "A-03-01", "A-03-10"]
    sales = f.api_client(db, f.user(db, company, roles=("sales",)))
    assert sales.post("/api/v1/wms/layouts", json={"warehouse_id": setup.warehouse_id, "spec": {}}).status_code == 403
