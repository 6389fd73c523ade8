"""PDA pages as the scan script drives them (JSON replies) and as plain forms: receive a PO by
scanning, put it away by scanning the bin, count blind; wrong scans are refused in Chinese."""

import re
from decimal import Decimal

from opensupply.erp.purchasing.models import PurchaseOrder
from opensupply.wms.models import WmsScan, WmsTask
from tests import factories as f
from tests.wms.inbound import factories as fi

D = Decimal


class Pda:
    """A phone's browser: posts forms like pda.js does (JSON answer, CSRF header, client scan id)."""

    def __init__(self, web):
        self.web = web
        self.token = re.search(r'data-csrf="([^"]+)"', web.get("/wms/pda").text).group(1)
        self.n = 0

    def scan(self, url, scan_id=None, **data):
        self.n += 1
        data = {"client_scan_id": scan_id or f"t-{self.n}", **data}
        return self.web.post(url, data=data, headers={"X-CSRF-Token": self.token, "Accept": "application/json"})


def test_receive_a_po_by_scanning_and_put_it_away_on_the_phone(db):
    s = fi.setup(db)
    pda = Pda(f.web_client(db, f.user(db, s.company, roles=("warehouse",))))
    po_id = s.order([("cup", "5"), ("mug", "2")])
    with s.uow(readonly=True) as uow:
        number = uow.get(PurchaseOrder, po_id).number
    home = pda.web.get("/wms/pda/receive")
    assert home.status_code == 200 and number in home.text
    r = pda.scan("/wms/pda/receive", po=number.lower(), warehouse=str(s.wh.warehouse_id))
    assert r.json()["ok"] and r.json()["next"].startswith(f"/wms/pda/receive/{po_id}")
    nope = pda.scan("/wms/pda/receive", po="PO-NOPE")
    assert nope.status_code == 404 and "未找到采购单" in nope.json()["message"]
    page = pda.web.get(f"/wms/pda/receive/{po_id}")
    assert page.status_code == 200 and "YS-CUP-350" in page.text and "完成收货" in page.text
    url = f"/wms/pda/receive/{po_id}/scan"
    wrong = pda.scan(url, item="YS-TOWEL-01", qty="1")
    assert wrong.status_code == 422 and wrong.json()["message"].startswith("扫描的商品 YS-TOWEL-01 不在采购单")
    first = pda.scan(url, "dup-1", item="6901234567892", qty="5")
    assert first.json()["ok"] and "YS-CUP-350" in first.json()["html"]
    again = pda.scan(url, "dup-1", item="6901234567892", qty="5")  # the phone resent it
    assert again.json()["replayed"]
    assert pda.scan(url, item="YS-MUG-01", qty="2").json()["ok"]
    with s.uow(readonly=True) as uow:
        assert uow.session.query(WmsScan).filter_by(company_id=s.company, flow="receive").count() == 2
    done = pda.scan(f"/wms/pda/receive/{po_id}/complete", warehouse=str(s.wh.warehouse_id))
    assert done.json()["ok"] and "上架任务" in done.json()["message"]
    tasks_page = pda.web.get(done.json()["next"])
    assert tasks_page.status_code == 200 and "YS-CUP-350" in tasks_page.text
    found = pda.scan("/wms/pda/putaway", item="YS-CUP-350", warehouse=str(s.wh.warehouse_id))
    task_url = found.json()["next"].split("?")[0]
    task_id = int(task_url.rsplit("/", 1)[1])
    with s.uow(readonly=True) as uow:
        task = uow.get(WmsTask, task_id)
        suggested = next(c for c, b in s.wh.bins.items() if b.location_id == task.dest_location_id)
    page = pda.web.get(task_url)
    assert suggested in page.text and "确认上架" in page.text
    bad = pda.scan(task_url, item="YS-MUG-01", bin=suggested, qty="5")
    assert bad.status_code == 422
    assert bad.json()["message"] == "扫描的商品 YS-MUG-01 与任务要求的 YS-CUP-350 不符"
    ok = pda.scan(task_url, item="6901234567892", bin=suggested, qty="5")
    assert ok.json()["ok"] and ok.json()["state"] == "done" and suggested in ok.json()["message"]
    assert s.on_hand("cup", suggested) == 5 and s.on_hand("cup", "RCV") == 0


def test_without_javascript_a_refused_scan_shows_the_red_banner(db):
    s = fi.setup(db)
    web = f.web_client(db, f.user(db, s.company, roles=("warehouse",)))
    po_id = s.order([("cup", "5")])
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(f"/wms/pda/receive/{po_id}").text).group(1)
    r = web.post(f"/wms/pda/receive/{po_id}/scan", data={"csrf_token": token, "item": "YS-MUG-01", "qty": "1"})
    assert r.status_code == 422 and "pda-banner err" in r.text and "不在采购单" in r.text
    r = web.post(f"/wms/pda/receive/{po_id}/scan", data={"csrf_token": token, "item": "YS-CUP-350", "qty": "2"})
    assert r.status_code == 200 and "pda-banner ok" in r.text and "2 / 5" in r.text


def test_a_blind_count_on_the_phone_hides_the_book_quantity(db):
    s = fi.setup(db)
    fi.stock(s, "cup", "A-01-01", 1733)  # a number no user name, id or token on the page happens to contain
    with s.uow() as uow:
        from opensupply.wms import counts

        count_id = counts.create_count(uow, s.wh.warehouse_id, bin_codes=["A-01-01"]).id
    pda = Pda(f.web_client(db, f.user(db, s.company, roles=("warehouse",))))
    sheet = pda.web.get(f"/wms/pda/count/{count_id}")
    assert sheet.status_code == 200 and "YS-CUP-350" in sheet.text and "1733" not in sheet.text
    r = pda.scan(f"/wms/pda/count/{count_id}", bin="A-01-01", item="YS-CUP-350", qty="16")
    assert r.json()["ok"] and "16" in r.json()["html"] and "1733" not in r.json()["html"]
    move = pda.scan("/wms/pda/move", from_bin="A-01-01", item="YS-CUP-350", qty="2", to_bin="A-01-02",
                    warehouse=str(s.wh.warehouse_id))
    assert move.json()["ok"], move.text
    assert s.on_hand("cup", "A-01-02") == 2


def test_qc_held_goods_are_released_on_the_phone(db):
    from opensupply.wms import inbound

    s = fi.setup(db)
    po_id = s.order([("cup", "5")])
    with s.uow() as uow:
        inbound.receive(uow, po_id, s.wh.warehouse_id, [inbound.ReceiveLine("YS-CUP-350", "5", qc=True)])
    pda = Pda(f.web_client(db, f.user(db, s.company, roles=("warehouse",))))
    page = pda.web.get("/wms/pda/qc")
    assert page.status_code == 200 and "YS-CUP-350" in page.text and "合格放行" in page.text
    no_reason = pda.scan("/wms/pda/qc", item="YS-CUP-350", qty="1", decision="fail")
    assert no_reason.status_code == 422 and "原因" in no_reason.json()["message"]
    failed = pda.scan("/wms/pda/qc", item="YS-CUP-350", qty="1", decision="fail", reason="外箱破损")
    assert failed.json()["ok"] and "不合格" in failed.json()["message"]
    passed = pda.scan("/wms/pda/qc", item="YS-CUP-350", qty="4", decision="pass")
    assert passed.json()["ok"] and "上架任务" in passed.json()["message"]
    assert "没有待检商品" in pda.web.get("/wms/pda/qc").text
    assert s.on_hand("cup", "QC") == 4  # waiting for its putaway
    with s.uow(readonly=True) as uow:
        assert uow.session.query(WmsTask).filter_by(company_id=s.company, kind="putaway", state="open").count() >= 1
