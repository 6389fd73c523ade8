"""Product documents: uploads checked by extension and content, stored under the data directory by a name of
our own with their SHA-256, downloaded under the original (Chinese) name, and confidential ones invisible to
those without the permission."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from opensupply.core.config import get_settings
from opensupply.core.tabular import write_xlsx
from opensupply.plm import documents as docs
from opensupply.plm.models import Document
from tests import factories as f

from . import factories as pf

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
STEP = b"ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n"
DXF = b"  0\r\nSECTION\r\n  2\r\nHEADER\r\n  0\r\nENDSEC\r\n  0\r\nEOF\r\n"


def _zip(names: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, data in names.items():
            z.writestr(n, data)
    return buf.getvalue()


DOCX = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def _stored(company: int) -> list:
    folder = docs.storage_root() / str(company)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _rows(w) -> int:
    with w.uow(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(Document))


@pytest.mark.parametrize(("name", "data"), [
    ("a.pdf", PDF), ("a.PNG", PNG), ("a.stp", STEP), ("a.step", STEP), ("a.dxf", DXF),
    ("a.dwg", b"AC1032" + b"\0" * 20),
    ("a.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 20), ("a.txt", "工艺说明".encode("gb18030")), ("a.docx", DOCX),
    ("a.xlsx", write_xlsx(["物料"], [["RM-OAK-18"]]))])
def test_allowed_types_pass_the_content_check(name, data):
    assert docs.check_file(name, data)[1] == docs.EXTENSIONS[name.rsplit(".", 1)[1].lower()]


@pytest.mark.parametrize(("name", "data", "needle"), [
    ("setup.exe", b"MZ\x90\x00", "不支持的文件类型"), ("drawing.pdf", b"MZ\x90\x00 not a pdf", "不符"),
    ("photo.png", PDF, "不符"), ("sheet.xlsx", DOCX, "不符"), ("noext", PDF, "不支持的文件类型"),
    ("macro.xlsx", _zip({"[Content_Types].xml": b"", "xl/workbook.xml": b"", "xl/vbaProject.bin": b""}), "不符"),
    ("bin.txt", b"abc\x00def", "不符"), ("empty.pdf", b"", "文件为空")])
def test_wrong_types_are_refused(name, data, needle):
    with pytest.raises(docs.ValidationFailed, match=needle):
        docs.check_file(name, data)


def test_display_name_never_carries_a_path():
    assert docs.display_name("../../etc/passwd") == "passwd"
    assert docs.display_name("C:\\Users\\x\\图纸\r\n.pdf") == "图纸.pdf"
    assert docs.display_name("..") == "file"
    header = docs.content_disposition('桌面板"图纸";v2.pdf')
    assert header.startswith('attachment; filename="') and "\n" not in header
    assert unquote(header.split("filename*=UTF-8''")[1]) == '桌面板"图纸";v2.pdf'


def test_upload_and_download_keep_the_file_and_its_name(db):
    w = pf.world(db)
    api = w.api("engineer")
    r = api.post("/api/v1/plm/documents", data={"product": "YS-TOP-120", "kind": "drawing", "version_label": "B",
                                                "bom_id": str(w.plant.boms["top"])},
                 files={"file": ("../桌面板 图纸.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["file_name"] == "桌面板 图纸.pdf" and doc["title"] == "桌面板 图纸" and doc["bom_version"] == "V1.0"
    assert doc["sha256"] == hashlib.sha256(PDF).hexdigest() and doc["size_bytes"] == len(PDF)
    stored = _stored(w.company)
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}\.pdf", stored[0])  # our name, not the client's
    r = w.api("viewer").get(f"/api/v1/plm/documents/{doc['id']}/download")
    assert r.status_code == 200 and r.content == PDF and r.headers["content-type"] == "application/pdf"
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment;")
    assert "filename*=UTF-8''%E6%A1%8C%E9%9D%A2%E6%9D%BF%20%E5%9B%BE%E7%BA%B8.pdf" in cd
    listed = w.api("viewer").get("/api/v1/plm/documents", params={"q": "图纸"}).json()
    assert listed["total"] == 1 and listed["items"][0]["kind_label"] == "图纸"
    assert w.api("viewer").get("/api/v1/plm/documents", params={"product": "YS-DESK-120"}).json()["total"] == 0
    assert w.api("viewer").get("/api/v1/plm/documents", params={"q": doc["sha256"]}).json()["total"] == 1
    # a reader cannot upload; another company sees nothing
    r = w.api("viewer").post("/api/v1/plm/documents", data={"product": "YS-TOP-120"},
                             files={"file": ("x.pdf", PDF, "application/pdf")})
    assert r.status_code == 403
    other = pf.world(db, suffix="-b")
    assert other.api("viewer").get(f"/api/v1/plm/documents/{doc['id']}/download").status_code == 404
    r = api.post(f"/api/v1/plm/documents/{doc['id']}/archive")
    assert r.status_code == 200 and w.api("viewer").get("/api/v1/plm/documents").json()["total"] == 0


def test_a_wrong_or_too_large_upload_is_refused_and_nothing_is_stored(db, monkeypatch):
    w = pf.world(db)
    api = w.api("engineer")
    for name, data in (("virus.exe", b"MZ\x90\x00"), ("drawing.pdf", b"MZ\x90\x00 renamed"),
                       ("empty.dwg", b"")):
        r = api.post("/api/v1/plm/documents", data={"product": "YS-TOP-120"}, files={"file": (name, data)})
        assert r.status_code == 422 and r.json()["error"]["field"] == "file", r.text
    monkeypatch.setattr(get_settings(), "max_upload_mb", 1)
    big = PDF + b"0" * (1024 * 1024)
    r = api.post("/api/v1/plm/documents", data={"product": "YS-TOP-120"}, files={"file": ("big.pdf", big)})
    assert r.status_code == 422 and "1 MB" in r.json()["error"]["message"]
    r = api.post("/api/v1/plm/documents", data={"product": "NOPE"}, files={"file": ("ok.pdf", PDF)})
    assert r.status_code == 422 and r.json()["error"]["field"] == "product"
    assert _rows(w) == 0 and _stored(w.company) == []
    # the page says why, and stores nothing either
    web = w.web("engineer")
    r = web.post("/plm/documents", data={"product": "YS-TOP-120", "csrf_token": f.csrf(web)},
                 files={"file": ("virus.exe", b"MZ")})
    assert r.status_code == 422 and "不支持的文件类型" in r.text
    assert _rows(w) == 0 and _stored(w.company) == []


def test_a_file_of_a_rolled_back_upload_is_removed(db):
    w = pf.world(db)
    with pytest.raises(RuntimeError), w.uow("engineer") as uow:
        docs.upload_document(uow, product="YS-TOP-120", filename="a.pdf", data=PDF)
        assert len(_stored(w.company)) == 1
        raise RuntimeError("later step of the same transaction failed")
    assert _stored(w.company) == [] and _rows(w) == 0
    with w.uow("engineer") as uow:
        docs.upload_document(uow, product="YS-TOP-120", filename="a.pdf", data=PDF)
    assert len(_stored(w.company)) == 1 and _rows(w) == 1


def test_confidential_documents_are_invisible_without_the_permission(db):
    w = pf.world(db)
    r = w.api("engineer").post("/api/v1/plm/documents", data={"product": "YS-DESK-120", "confidential": "true"},
                               files={"file": ("secret.pdf", PDF)})
    assert r.status_code == 403  # cannot file what one could not read
    sec = w.api("secret")
    r = sec.post("/api/v1/plm/documents",
                 data={"product": "YS-DESK-120", "confidential": "true", "title": "客户专供图纸"},
                 files={"file": ("secret.pdf", PDF)})
    assert r.status_code == 201, r.text
    secret_id = r.json()["id"]
    sec.post("/api/v1/plm/documents", data={"product": "YS-DESK-120", "title": "通用说明"},
             files={"file": ("readme.txt", "安装说明".encode())})
    viewer = w.api("viewer")
    listed = viewer.get("/api/v1/plm/documents").json()
    assert listed["total"] == 1 and listed["items"][0]["title"] == "通用说明"
    assert viewer.get(f"/api/v1/plm/documents/{secret_id}").status_code == 403
    r = viewer.get(f"/api/v1/plm/documents/{secret_id}/download")
    assert r.status_code == 403 and r.content != PDF
    assert sec.get("/api/v1/plm/documents").json()["total"] == 2
    assert sec.get(f"/api/v1/plm/documents/{secret_id}/download").content == PDF
    web = w.web("viewer")
    assert "客户专供图纸" not in web.get("/plm/documents").text
    assert web.get(f"/plm/documents/{secret_id}/download").status_code == 403
    assert "客户专供图纸" in w.web("secret").get("/plm/documents").text
