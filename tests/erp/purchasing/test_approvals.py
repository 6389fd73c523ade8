"""Approval of purchase requests: thresholds per company, one or two steps, reasons for rejection."""

from tests.erp.purchasing import factories as pf


def _request(p, amount_qty: int, unit_price: str = "100") -> dict:
    return pf.ok(p.client("buyer").post("/api/v1/erp/purchase-requests", json={
        "supplier": p.supplier, "submit": True,
        "lines": [{"product": "YS-CUP-350", "quantity": amount_qty, "unit_price": unit_price}]}), 201)


def test_default_thresholds_auto_one_and_two_steps(db):
    p = pf.setup(db)
    rules = pf.ok(p.client("buyer").get("/api/v1/erp/purchase-approval-rules"))["items"]
    assert [(r["max_amount"], r["steps"]) for r in rules] == [("5000.00", 0), ("50000.00", 1), (None, 2)]
    small = _request(p, 50)  # 5,000
    assert small["state"] == "approved" and small["steps"][0]["decision"] == "approved"

    medium = _request(p, 200)  # 20,000: one approver with erp.purchase_approve
    assert medium["state"] == "pending" and medium["required_steps"] == 1
    assert p.client("buyer").post(f"/api/v1/erp/purchase-requests/{medium['id']}/approve").status_code == 403
    r = p.client("buyer").post(f"/api/v1/erp/purchase-requests/{medium['id']}/orders")
    assert r.status_code == 409  # not approved yet
    done = pf.ok(p.client("approver").post(f"/api/v1/erp/purchase-requests/{medium['id']}/approve",
                                           json={"comment": "同意"}))
    assert done["state"] == "approved"
    assert [(s["step"], s["username"], s["decision"], s["comment"]) for s in done["steps"]] == \
        [(1, p.usernames["approver"], "approved", "同意")]

    large = _request(p, 800)  # 80,000: two steps, the second by an administrator
    assert large["required_steps"] == 2
    first = pf.ok(p.client("approver").post(f"/api/v1/erp/purchase-requests/{large['id']}/approve"))
    assert first["state"] == "pending" and first["approved_steps"] == 1
    r = p.client("approver").post(f"/api/v1/erp/purchase-requests/{large['id']}/approve")
    assert r.status_code == 403  # the same person cannot give the second approval
    second = pf.ok(p.client("admin").post(f"/api/v1/erp/purchase-requests/{large['id']}/approve"))
    assert second["state"] == "approved"
    assert [s["username"] for s in second["steps"]] == [p.usernames["approver"], p.usernames["admin"]]


def test_second_step_needs_the_higher_role(db):
    p = pf.setup(db)
    from tests import factories as f

    f.user(db, p.company, "approver2", roles=("purchase_manager",))
    other = f.api_client(db, "approver2")
    large = _request(p, 800)
    pf.ok(p.client("approver").post(f"/api/v1/erp/purchase-requests/{large['id']}/approve"))
    r = other.post(f"/api/v1/erp/purchase-requests/{large['id']}/approve")
    assert r.status_code == 403 and "admin" in r.json()["error"]["message"]


def test_rejection_needs_a_reason_and_is_recorded(db):
    p = pf.setup(db)
    req = _request(p, 200)
    r = p.client("approver").post(f"/api/v1/erp/purchase-requests/{req['id']}/reject", json={"reason": "  "})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    rejected = pf.ok(p.client("approver").post(f"/api/v1/erp/purchase-requests/{req['id']}/reject",
                                               json={"reason": "预算不足，下月再买"}))
    assert rejected["state"] == "rejected" and rejected["reject_reason"] == "预算不足，下月再买"
    assert rejected["steps"][-1]["decision"] == "rejected"
    assert rejected["steps"][-1]["username"] == p.usernames["approver"]
    # the buyer may revise and submit again
    assert pf.ok(p.client("buyer").post(f"/api/v1/erp/purchase-requests/{req['id']}/submit"))["state"] == "pending"


def test_thresholds_are_configurable_per_company(db):
    p = pf.setup(db)
    r = p.client("buyer").put("/api/v1/erp/purchase-approval-rules", json={"rules": [{"max_amount": "1000",
                                                                                     "steps": 0}]})
    assert r.status_code == 403
    bad = p.client("approver").put("/api/v1/erp/purchase-approval-rules", json={"rules": [
        {"max_amount": "1000", "steps": 0}]})
    assert bad.status_code == 422  # the last rule must cover any amount
    pf.ok(p.client("approver").put("/api/v1/erp/purchase-approval-rules", json={"rules": [
        {"max_amount": "1000", "steps": 0}, {"max_amount": None, "steps": 1}]}))
    assert _request(p, 30)["state"] == "pending"  # 3,000 now needs an approver


def test_request_becomes_one_order_per_supplier(db):
    p = pf.setup(db)
    other = pf.partner(db, p.company, "S-NTFZ", "南通锦绣纺织有限公司")
    req = pf.ok(p.client("buyer").post("/api/v1/erp/purchase-requests", json={"submit": True, "lines": [
        {"product": "YS-CUP-350", "quantity": 10, "unit_price": "30", "supplier": p.supplier},
        {"product": "YS-TOWEL-01", "quantity": 20, "unit_price": "18", "supplier": "S-NTFZ"}]}), 201)
    orders = pf.ok(p.client("buyer").post(f"/api/v1/erp/purchase-requests/{req['id']}/orders"), 201)["items"]
    assert sorted(o["supplier_id"] for o in orders) == sorted([p.supplier, other])
    assert all(o["state"] == "draft" and o["request_id"] == req["id"] for o in orders)
    assert pf.ok(p.client("buyer").get(f"/api/v1/erp/purchase-requests/{req['id']}"))["state"] == "ordered"
