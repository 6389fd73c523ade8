"""The PDA shell: a phone page listing the scanning flows, with the scan script it needs."""

from tests import factories as f


def test_pda_home_lists_the_flows_and_serves_its_scan_script(db):
    company = f.company(db)
    web = f.web_client(db, f.user(db, company, roles=("admin",)))
    page = web.get("/wms/pda")
    assert page.status_code == 200
    for label in ("收货", "上架", "移库", "盘点"):
        assert label in page.text
    assert 'name="viewport"' in page.text and 'id="pda-banner"' in page.text
    js = web.get("/wms/pda/pda.js")
    assert js.status_code == 200 and "client_scan_id" in js.text and "randomUUID" in js.text
