"""Product documents (产品文档): drawings, specifications and other files of a product, optionally of one BOM
version or raised with an ECO.

Uploads are checked before anything is kept: size (the `max_upload_mb` setting, 20 MB by default), an allowed
extension (pdf png jpg dxf dwg step/stp xlsx docx txt) *and* content that really is of that type (magic bytes,
the ZIP parts of an Office file, the header of a STEP or DXF file), so a renamed executable is refused. The
bytes are stored under `<data dir>/plm/<company>/<random name>` — never at a path built from the client's
file name, which is kept only for display and download — with their SHA-256. A file written for a transaction
that then rolls back is removed again.

Confidential documents (`confidential`) are seen, listed and downloaded only with
`plm.documents.confidential`; everyone else does not see them in lists and is refused (403) by id.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import String, cast, event, func, or_, select

from opensupply.core.config import get_settings
from opensupply.core.errors import NotFound, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from opensupply.masterdata import models as md

from .lifecycle import _text, _usernames
from .models import DOCUMENT_KINDS, Document, Eco

READ = "plm.read"
WRITE = "plm.write"
CONFIDENTIAL = "plm.documents.confidential"
KIND_LABELS = {"drawing": _l("图纸"), "spec": _l("规格书"), "other": _l("其他")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# file type → (content type, extensions)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", ("pdf",)),
    "png": ("image/png", ("png",)),
    "jpg": ("image/jpeg", ("jpg", "jpeg")),
    "dxf": ("image/vnd.dxf", ("dxf",)),
    "dwg": ("image/vnd.dwg", ("dwg",)),
    "step": ("model/step", ("step", "stp")),
    "xlsx": (XLSX, ("xlsx",)),
    "docx": (DOCX, ("docx",)),
    "txt": ("text/plain; charset=utf-8", ("txt",)),
}
EXTENSIONS = {ext: kind for kind, (_ct, exts) in TYPES.items() for ext in exts}
ALLOWED_TEXT = "PDF、PNG、JPG、DXF、DWG、STEP/STP、XLSX、DOCX、TXT"
DXF_ASCII = re.compile(rb"^\s*(999\s*\r?\n[^\n]*\n\s*)*0\s*\r?\n\s*SECTION\s*\r?\n", re.S)
DWG = re.compile(rb"^AC1\d{3}")


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def max_bytes() -> int:
    return get_settings().max_upload_mb * 1024 * 1024


def storage_root() -> Path:
    return get_settings().ensure_data_dir() / "plm"


# ------------------------------------------------------------------ checking a file
def display_name(filename: str | None) -> str:
    """The client's file name made safe to show and to send back: last path part, no control characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".") or "file"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot and len(ext) < 10 else name[:200]
    return name


def _zip_names(data: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:  # only the directory is read, nothing is inflated
            return set(z.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for enc in ("utf-8-sig", "gb18030"):
        try:
            data.decode(enc)
            return True
        except UnicodeDecodeError:
            continue
    return False


def sniff(file_type: str, data: bytes) -> bool:
    """Whether `data` really is a file of `file_type` (looked at the content, not the name)."""
    head = data[:4096]
    if file_type == "pdf":
        return head.lstrip(b"\xef\xbb\xbf \r\n\t")[:5] == b"%PDF-"
    if file_type == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if file_type == "jpg":
        return head.startswith(b"\xff\xd8\xff")
    if file_type == "dwg":
        return bool(DWG.match(head))
    if file_type == "dxf":
        return head.startswith(b"AutoCAD Binary DXF\r\n\x1a\x00") or (
            _is_text(head[:2048]) and bool(DXF_ASCII.match(head)))
    if file_type == "step":
        return head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"ISO-10303-21;")
    if file_type in ("xlsx", "docx"):
        if not head.startswith(b"PK\x03\x04"):
            return False
        names = _zip_names(data)
        part = "xl/workbook.xml" if file_type == "xlsx" else "word/document.xml"
        # macro-carrying workbooks/documents are a different (refused) type even when renamed .xlsx/.docx
        return bool(names) and "[Content_Types].xml" in names and part in names and not any(
            n.lower().endswith("vbaproject.bin") for n in names)
    if file_type == "txt":
        return _is_text(data)
    return False


def check_file(filename: str | None, data: bytes) -> tuple[str, str]:
    """Refuse what must not be stored; returns (display name, file type)."""
    name = display_name(filename)
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    file_type = EXTENSIONS.get(ext)
    if file_type is None:
        raise ValidationFailed(_("不支持的文件类型：{ext}（允许：{allowed}）", ext=("." + ext) if ext else name,
                                 allowed=ALLOWED_TEXT), field="file")
    if not data:
        raise ValidationFailed(_("文件为空"), field="file")
    if len(data) > max_bytes():
        raise ValidationFailed(_("文件过大（上限 {n} MB）", n=get_settings().max_upload_mb), field="file")
    if not sniff(file_type, data):
        raise ValidationFailed(_("文件内容与扩展名 .{ext} 不符，已拒绝", ext=ext), field="file")
    return name, file_type


def _remove_on_rollback(uow: UnitOfWork, path: Path) -> None:
    """The file is written before the row commits; if the transaction is rolled back, remove it again."""
    state = {"committed": False}

    def committed(_session):
        state["committed"] = True

    def rolled_back(_session, previous):
        if previous.parent is None and not state["committed"]:
            path.unlink(missing_ok=True)

    event.listen(uow.session, "after_commit", committed)
    event.listen(uow.session, "after_soft_rollback", rolled_back)


# ------------------------------------------------------------------ use cases
def upload_document(uow: UnitOfWork, *, product: int | str, filename: str | None, data: bytes,
                    title: str | None = None, kind: str = "other", version_label: str | None = None,
                    bom_id: int | None = None, eco_id: int | None = None, confidential: bool = False,
                    notes: str | None = None) -> Document:
    uow.actor.require(WRITE)
    if confidential:
        uow.actor.require(CONFIDENTIAL)  # who could not read it may not file it either
    prod = boms._product(uow, product, "product")
    kind = (kind or "other").strip()
    if kind not in DOCUMENT_KINDS:
        raise ValidationFailed(_("文档类别无效：{value}", value=kind), field="kind")
    if bom_id not in (None, ""):
        bom = boms.get_bom(uow, int(bom_id))
        if bom.product_id != prod.id:
            raise ValidationFailed(_("物料清单不属于该商品"), field="bom_id")
        bom_id = bom.id
    else:
        bom_id = None
    if eco_id not in (None, ""):
        eco = uow.get(Eco, int(eco_id))
        if eco.product_id != prod.id:
            raise ValidationFailed(_("工程变更单不属于该商品"), field="eco_id")
        eco_id = eco.id
    else:
        eco_id = None
    version_label = _text(version_label or "A", "version_label", _("版本"), max_length=20)
    name, file_type = check_file(filename, data)
    title = _text(title, "title", _("标题"), required=False, max_length=200) or name.rpartition(".")[0] or name
    notes = _text(notes, "notes", _("备注"), required=False)
    key = f"{uow.company_id}/{uuid.uuid4().hex}.{file_type}"
    path = storage_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # never a half-written file under the final name
    _remove_on_rollback(uow, path)
    doc = Document(company_id=uow.company_id, product_id=prod.id, bom_id=bom_id, eco_id=eco_id, title=title,
                   kind=kind, version_label=version_label, file_name=name, file_type=file_type,
                   content_type=TYPES[file_type][0], size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                   storage_key=key, confidential=bool(confidential), notes=notes)
    uow.session.add(doc)
    uow.flush()
    uow.emit("plm.document_uploaded", document_id=doc.id, product_id=prod.id, confidential=doc.confidential)
    return doc


def _visible(uow: UnitOfWork, doc: Document) -> Document:
    if doc.confidential and not uow.actor.can(CONFIDENTIAL):
        raise PermissionDenied(_("该文档为机密文档，没有查看权限"), code="confidential")
    return doc


def get_document(uow: UnitOfWork, document_id: int, *, for_update: bool = False) -> Document:
    return _visible(uow, uow.get(Document, document_id, for_update=for_update))


def open_document(uow: UnitOfWork, document_id: int) -> tuple[Document, Path]:
    """The document and the path of its bytes (checked to be inside the store)."""
    doc = get_document(uow, document_id)
    root = storage_root().resolve()
    path = (root / doc.storage_key).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound(_("文档文件不存在或已丢失：{name}", name=doc.file_name))
    return doc, path


def archive_document(uow: UnitOfWork, document_id: int) -> Document:
    """Take a document out of the lists (the file and its history stay)."""
    uow.actor.require(WRITE)
    doc = get_document(uow, document_id, for_update=True)
    doc.active = False
    uow.flush()
    return doc


def list_documents(uow: UnitOfWork, *, q: str | None = None, product_id: int | None = None,
                   bom_id: int | None = None, eco_id: int | None = None, kind: str | None = None,
                   include_archived: bool = False, limit: int = 50, offset: int = 0) -> tuple[list[Document], int]:
    stmt = select(Document).join(md.Product, md.Product.id == Document.product_id).where(
        Document.company_id == uow.company_id)
    if not uow.actor.can(CONFIDENTIAL):
        stmt = stmt.where(Document.confidential.is_(False))
    if not include_archived:
        stmt = stmt.where(Document.active.is_(True))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Document.title.ilike(like), Document.file_name.ilike(like),
                              Document.version_label.ilike(like), md.Product.sku.ilike(like),
                              md.Product.name.ilike(like), Document.sha256 == q.strip().lower(),
                              cast(Document.notes, String).ilike(like)))
    if product_id:
        stmt = stmt.where(Document.product_id == product_id)
    if bom_id:
        stmt = stmt.where(Document.bom_id == bom_id)
    if eco_id:
        stmt = stmt.where(Document.eco_id == eco_id)
    if kind:
        if kind not in DOCUMENT_KINDS:
            raise ValidationFailed(_("文档类别无效：{value}", value=kind), field="kind")
        stmt = stmt.where(Document.kind == kind)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(Document.id.desc()).limit(max(1, min(limit, 1000)))
                                     .offset(max(0, offset))))
    return items, total


# ------------------------------------------------------------------ presentation
def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` (RFC 6266 / 5987):
    every browser gets a usable name, non-ASCII names arrive intact, and no quote or line break can
    end the header value early."""
    name = display_name(filename)
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;%' else "_" for ch in name)
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def document_to_dict(uow: UnitOfWork, doc: Document, names: dict | None = None, versions: dict | None = None) -> dict:
    names = names if names is not None else _usernames(uow, [doc.created_by_id])
    if versions is None:
        versions = dict(uow.session.execute(select(md.Bom.id, md.Bom.version).where(
            md.Bom.id == doc.bom_id)).all()) if doc.bom_id else {}
    return {"id": doc.id, "product_id": doc.product_id, "sku": doc.product.sku, "product_name": doc.product.name,
            "bom_id": doc.bom_id, "bom_version": versions.get(doc.bom_id), "eco_id": doc.eco_id, "title": doc.title,
            "kind": doc.kind, "kind_label": kind_label(doc.kind), "version_label": doc.version_label,
            "file_name": doc.file_name, "file_type": doc.file_type, "content_type": doc.content_type,
            "size_bytes": doc.size_bytes, "size": human_size(doc.size_bytes), "sha256": doc.sha256,
            "confidential": doc.confidential, "notes": doc.notes, "active": doc.active,
            "uploaded_by": names.get(doc.created_by_id),
            "created_at": doc.created_at.isoformat() if doc.created_at else None, "created": doc.created_at}


def documents_to_dicts(uow: UnitOfWork, docs: list[Document]) -> list[dict]:
    names = _usernames(uow, [d.created_by_id for d in docs])
    bom_ids = {d.bom_id for d in docs if d.bom_id}
    versions = dict(uow.session.execute(select(md.Bom.id, md.Bom.version).where(md.Bom.id.in_(bom_ids))).all()) \
        if bom_ids else {}
    return [document_to_dict(uow, d, names, versions) for d in docs]


def parse_bool(raw: Any) -> bool:
    return raw in (True, 1) or str(raw or "").strip().lower() in ("1", "true", "on", "yes", "是")


__all__ = ["CONFIDENTIAL", "TYPES", "archive_document", "check_file", "content_disposition", "display_name",
           "document_to_dict", "documents_to_dicts", "get_document", "list_documents", "open_document",
           "parse_bool", "sniff", "upload_document"]
