"""Document pages under /plm/documents: list (search, product, kind, pagination; confidential ones only for
those allowed), upload form (also posted from the ECO page, which comes back there), download, archive."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

from . import documents as docs
from .eco_api import product_ref
from .models import DOCUMENT_KINDS
from .pages import PAGE_SIZE, act, offset_of, pager, safe_next

router = APIRouter(prefix="/plm", include_in_schema=False)
READ = Depends(page_permission(docs.READ))
WRITE = Depends(page_permission(docs.WRITE))
BACK = "/plm/documents"


def _list(p: Page, request: Request, *, error: DomainError | None = None, values: dict | None = None):
    qp = request.query_params
    offset = offset_of(qp.get("offset"))
    with UnitOfWork(p.actor, readonly=True) as uow:
        try:
            rows, total = docs.list_documents(uow, q=qp.get("q") or None,
                                              product_id=product_ref(uow, qp.get("product")),
                                              kind=qp.get("kind") or None, limit=PAGE_SIZE, offset=offset)
        except DomainError as exc:
            rows, total, error = [], 0, error or exc
        items = docs.documents_to_dicts(uow, rows)
    return render(p, "plm/documents.html", status_code=422 if error else 200, title=_("产品文档"), items=items,
                  total=total, filters=qp, pager=pager(request, total, offset), values=values or {},
                  kinds=[(k, docs.kind_label(k)) for k in DOCUMENT_KINDS], error=error.message if error else None,
                  can_write=p.actor.can(docs.WRITE), can_confidential=p.actor.can(docs.CONFIDENTIAL),
                  max_mb=docs.get_settings().max_upload_mb, allowed=docs.ALLOWED_TEXT)


@router.get("/documents")
def documents_page(request: Request, p: Page = READ):
    return _list(p, request)


@router.post("/documents")
async def documents_upload(request: Request, p: Page = WRITE):
    form = await request.form()
    upload = form.get("file")
    values = {k: str(form.get(k) or "").strip() for k in ("product", "title", "kind", "version_label", "bom_id",
                                                           "eco_id", "notes")}
    back = safe_next(str(form.get("next") or ""), BACK)

    def run() -> int:
        if upload is None or not getattr(upload, "filename", None):
            raise ValidationFailed(_("请选择文件"), field="file")
        data = upload.file.read(docs.max_bytes() + 1)
        for key in ("bom_id", "eco_id"):
            if values[key] and not values[key].isdigit():
                raise ValidationFailed(_("{name} 无效", name=key), field=key)
        with UnitOfWork(p.actor) as uow:
            return docs.upload_document(
                uow, product=values["product"], filename=upload.filename, data=data, title=values["title"] or None,
                kind=values["kind"] or "other", version_label=values["version_label"] or None,
                bom_id=int(values["bom_id"]) if values["bom_id"] else None,
                eco_id=int(values["eco_id"]) if values["eco_id"] else None,
                confidential=docs.parse_bool(form.get("confidential")), notes=values["notes"] or None).id

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        if back != BACK:
            return redirect(back, exc.message, "error")
        return _list(p, request, error=exc, values=values)
    return redirect(back, _("文档已上传"))


@router.get("/documents/{document_id}/download")
def document_download(document_id: int, p: Page = READ):
    with UnitOfWork(p.actor, readonly=True) as uow:
        doc, path = docs.open_document(uow, document_id)
        name, media = doc.file_name, doc.content_type
    return FileResponse(path, media_type=media, headers={"Content-Disposition": docs.content_disposition(name)})


@router.post("/documents/{document_id}/archive")
async def document_archive(document_id: int, p: Page = WRITE):
    return await act(p, BACK, lambda uow: docs.archive_document(uow, document_id), _("已归档"))
