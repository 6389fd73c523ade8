"""A recall: one supplier lot of oak boards is traced forward through two BOM levels (boards → table tops →
desks) to exactly the customers and orders that received desks containing it, and a desk lot is traced
back to the supplier lots, receipts and purchase orders in it — in one API call each."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from tests import factories as f
from tests.mes import factories as fm


def _story(db):
    """Lot OAK-2611-A (supplier 德清木业, bought first) makes TOP-A, all of which becomes DESK-A: 3 desks to
    杭州青禾, 2 to 宁波海曙. Lot OAK-2612-B (bought later, earlier expiry so it is used first from then on)
    makes TOP-B → DESK-B → 温州鹿城. The leg lot goes into both desk lots."""
    p = fm.plant(db)
    fm.make(p, "YS-TOP-120", "5", "TOP-A")
    fm.make(p, "YS-DESK-120", "5", "DESK-A")
    x = fm.customer(p, "C-QINGHE", "杭州青禾家居")
    y = fm.customer(p, "C-HAISHU", "宁波海曙办公用品")
    z = fm.customer(p, "C-LUCHENG", "温州鹿城书城")
    sold = {"x": fm.sell(p, x, "YS-DESK-120", "3"), "y": fm.sell(p, y, "YS-DESK-120", "2")}
    b = fm.purchase(p, "wood", [("RM-OAK-18", "10", "85", "OAK-2612-B", dt.date(2027, 6, 30))])
    fm.make(p, "YS-TOP-120", "2", "TOP-B")
    fm.make(p, "YS-DESK-120", "2", "DESK-B")
    sold["z"] = fm.sell(p, z, "YS-DESK-120", "2")
    return p, sold, b


def _customers(result) -> set[tuple]:
    return {(c["customer"], c["order"], c["lot"], c["quantity"]) for c in result["customers"]}


def test_supplier_lot_traced_forward_to_exact_customers_and_back(db):
    p, sold, lot_b = _story(db)
    user = f.user(db, p.company, roles=("production",))
    api = f.api_client(db, user)

    r = api.get("/api/v1/mes/trace", params={"lot": "OAK-2611-A"})
    assert r.status_code == 200, r.text
    fwd = r.json()
    assert _customers(fwd) == {("杭州青禾家居", sold["x"]["order"], "DESK-A", "3"),
                               ("宁波海曙办公用品", sold["y"]["order"], "DESK-A", "2")}
    top = fwd["forward"]["used_in"]
    assert [(n["lot"], n["via"], n["consumed_here"]) for n in top] == [("TOP-A", top[0]["via"], "10.5")]
    assert [n["lot"] for n in top[0]["used_in"]] == ["DESK-A"]
    assert {d["customer"] for d in top[0]["used_in"][0]["delivered"]} == {"杭州青禾家居", "宁波海曙办公用品"}
    # the backward half of the same answer: the supplier lot itself came in on a receipt of a PO
    assert [(x["supplier"], x["lot"]) for x in fwd["supplier_lots"]] == [("湖州德清木业有限公司", "OAK-2611-A")]

    other = api.get("/api/v1/mes/trace", params={"lot": "OAK-2612-B"}).json()
    assert _customers(other) == {("温州鹿城书城", sold["z"]["order"], "DESK-B", "2")}

    legs = api.get("/api/v1/mes/trace", params={"lot": "LEG-2611-01"}).json()
    assert {c[0] for c in _customers(legs)} == {"杭州青禾家居", "宁波海曙办公用品", "温州鹿城书城"}

    back = api.get("/api/v1/mes/trace", params={"lot": "DESK-B", "product": "YS-DESK-120"}).json()
    suppliers = {(s["supplier"], s["order"], s["lot"], s["quantity"]) for s in back["supplier_lots"]}
    assert suppliers == {("湖州德清木业有限公司", lot_b["po"], "OAK-2612-B", "10"),
                         ("永康五金配件厂", suppliers_po(back, "LEG-2611-01"), "LEG-2611-01", "100")}
    tree = back["backward"]
    assert tree["lot"] == "DESK-B" and tree["produced_by"][0]["work_order"].startswith("WO")
    comps = {c["sku"]: c for c in tree["components"]}
    assert comps["YS-TOP-120"]["lot"] == "TOP-B" and comps["YS-TOP-120"]["quantity"] == "2"
    assert comps["RM-SCREW-M6"]["untracked"] is True and comps["RM-SCREW-M6"]["quantity"] == "32"
    oak = {c["sku"]: c for c in comps["YS-TOP-120"]["components"]}["RM-OAK-18"]
    assert oak["lot"] == "OAK-2612-B" and oak["received"][0]["order"] == lot_b["po"]


def suppliers_po(result, lot: str) -> str:
    return next(s["order"] for s in result["supplier_lots"] if s["lot"] == lot)


def test_recall_list_export_and_clear_errors(db):
    p, sold, _b = _story(db)
    api = f.api_client(db, f.user(db, p.company, roles=("production",)))
    r = api.get("/api/v1/mes/trace/export", params={"lot": "OAK-2611-A"})
    assert r.status_code == 200
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("客户编码", "客户", "销售订单")
    assert {(row[0], row[2]) for row in rows[1:]} == {("C-QINGHE", sold["x"]["order"]),
                                                       ("C-HAISHU", sold["y"]["order"])}
    missing = api.get("/api/v1/mes/trace", params={"lot": "NO-SUCH-LOT"})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "lot"
    assert api.get("/api/v1/mes/trace").status_code == 422
    sales = f.api_client(db, f.user(db, p.company, roles=("sales",)))
    assert sales.get("/api/v1/mes/trace", params={"lot": "OAK-2611-A"}).status_code == 403
