"""Product documents under /api/v1/plm/: list (confidential ones only with `plm.documents.confidential`),
upload (multipart), metadata, download (Content-Disposition with the original name, RFC 5987), archive."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import ValidationFailed
from opensupply.core.http import require
from opensupply.core.i18n import _
from opensupply.core.uow import Actor, UnitOfWork

from . import documents as docs
from .eco_api import product_ref

router = APIRouter(prefix="/plm", tags=["plm documents"])
READ = Depends(require(docs.READ))
WRITE = Depends(require(docs.WRITE))


async def read_limited(upload: UploadFile | None) -> bytes:
    """The upload's bytes, reading at most one byte past the limit (a huge file is not held in memory)."""
    if upload is None:
        raise ValidationFailed(_("请选择文件"), field="file")
    data = await upload.read(docs.max_bytes() + 1)
    if len(data) > docs.max_bytes():
        from opensupply.core.config import get_settings

        raise ValidationFailed(_("文件过大（上限 {n} MB）", n=get_settings().max_upload_mb), field="file")
    return data


@router.get("/documents", summary="Product documents (search, product, BOM version, ECO, kind)")
def list_documents(q: str | None = None, product: str | None = None, bom_id: int | None = None,
                   eco_id: int | None = None, kind: str | None = None, include_archived: bool = False,
                   limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0), actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = docs.list_documents(uow, q=q, product_id=product_ref(uow, product), bom_id=bom_id,
                                          eco_id=eco_id, kind=kind, include_archived=include_archived, limit=limit,
                                          offset=offset)
        items = docs.documents_to_dicts(uow, rows)
        for d in items:
            d.pop("created", None)
        return {"items": items, "total": total}


@router.post("/documents", status_code=201, summary="Upload a document (multipart: file + product + fields)")
async def upload(product: str = Form(...), file: UploadFile = File(...), title: str | None = Form(None),
                 kind: str = Form("other"), version_label: str | None = Form(None), bom_id: int | None = Form(None),
                 eco_id: int | None = Form(None), confidential: bool = Form(False), notes: str | None = Form(None),
                 actor: Actor = WRITE) -> dict:
    data = await read_limited(file)

    def run():
        with UnitOfWork(actor) as uow:
            doc = docs.upload_document(uow, product=product, filename=file.filename, data=data, title=title,
                                       kind=kind, version_label=version_label, bom_id=bom_id, eco_id=eco_id,
                                       confidential=confidential, notes=notes)
            out = docs.document_to_dict(uow, doc)
            out.pop("created", None)
            return out

    return await run_in_threadpool(run)


@router.get("/documents/{document_id}", summary="A document's details")
def get_document(document_id: int, actor: Actor = READ) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        out = docs.document_to_dict(uow, docs.get_document(uow, document_id))
        out.pop("created", None)
        return out


@router.get("/documents/{document_id}/download", summary="The file, under its original name")
def download(document_id: int, actor: Actor = READ):
    with UnitOfWork(actor, readonly=True) as uow:
        doc, path = docs.open_document(uow, document_id)
        name, media = doc.file_name, doc.content_type
    return FileResponse(path, media_type=media, headers={"Content-Disposition": docs.content_disposition(name)})


@router.post("/documents/{document_id}/archive", summary="Take a document out of the lists")
def archive(document_id: int, actor: Actor = WRITE) -> dict:
    with UnitOfWork(actor) as uow:
        out = docs.document_to_dict(uow, docs.archive_document(uow, document_id))
        out.pop("created", None)
        return out
