"""Complaints over HTTP: lifecycle through the API, pages in Chinese and English, overdue list, permissions,
export."""

from __future__ import annotations

import re

from tests import factories as f
from tests.srm.factories import registered, shop


def test_complaint_api_lifecycle_and_counts(db):
    s = shop(db)
    registered(s, "steel")
    api = f.api_client(db, "buyer1")
    r = api.post("/api/v1/srm/complaints", json={
        "partner": "S-GANG", "title": "尺寸超差", "defect_description": "厚度 1.9mm，要求 2.0±0.05",
        "product": "RM-STEEL", "lot": "L1", "owner": "buyer2", "supplier_contact": "李工",
        "reported_on": "2026-11-02", "due_date": "2026-11-09", "severity": "critical"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert r.json()["owner"] == "buyer2" and r.json()["overdue"] is True
    assert f.api_client(db, "viewer").post(f"/api/v1/srm/complaints/{cid}/close").status_code == 403
    assert api.post(f"/api/v1/srm/complaints/{cid}/close").status_code == 409
    assert api.post(f"/api/v1/srm/complaints/{cid}/action",
                    json={"corrective_action": "更换轧辊"}).json()["state"] == "action_proposed"
    assert api.post(f"/api/v1/srm/complaints/{cid}/verify", json={"effective": True}).json()["state"] == "verified"
    assert api.post(f"/api/v1/srm/complaints/{cid}/close").json()["state"] == "closed"
    counts = api.get(f"/api/v1/srm/complaints/counts?start=2026-11-01&end=2026-11-30&partner={s.partners['steel']}")
    assert counts.json()["items"][str(s.partners["steel"])]["critical"] == 1


def test_complaint_pages(db):
    s = shop(db)
    registered(s, "steel")
    web = f.web_client(db, "buyer1")
    form = web.get("/srm/complaints/new?partner=S-GANG").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = {"csrf_token": token, "partner": "S-GANG", "title": "包装破损", "severity": "minor",
            "defect_description": "外箱破损 5 箱", "owner": "buyer1", "reported_on": "2026-10-01",
            "due_date": "2026-10-05"}
    bad = web.post("/srm/complaints/new", data=dict(data, defect_description=""))
    assert bad.status_code == 422 and "请填写不合格描述" in bad.text
    r = web.post("/srm/complaints/new", data=data)
    assert r.status_code == 303
    url = r.headers["location"]
    assert "逾期" in web.get(url).text
    overdue = web.get("/srm/complaints?overdue=1")
    assert overdue.status_code == 200 and "包装破损" in overdue.text
    assert web.post(url + "/action", data={"csrf_token": token, "text": "加固包装"}).status_code == 303
    assert web.post(url + "/verify", data={"csrf_token": token, "effective": "1"}).status_code == 303
    assert web.post(url + "/close", data={"csrf_token": token}).status_code == 303
    assert 'data-state="closed"' in web.get(url).text
    assert "包装破损" not in web.get("/srm/complaints?overdue=1").text
    assert "包装破损" in web.get("/srm/complaints/export?format=csv").content.decode("utf-8-sig")
    assert web.get("/srm/complaints/export").status_code == 200
    viewer = f.web_client(db, "viewer")
    assert viewer.get("/srm/complaints").status_code == 200
    assert viewer.get("/srm/complaints/new").status_code == 403
    web.post("/settings/locale", data={"locale": "en", "next": "/srm/complaints", "csrf_token": f.csrf(web)})
    en = web.get("/srm/complaints").text
    assert "Supplier complaints" in en and "Overdue" in en
    assert "Corrective action" in web.get(url).text
