"""Pages for a declarative Resource: list (search, filters, sort, pagination, export),
detail with its audit trail, create/edit forms with field errors, archive, and import
with a preview before anything is written."""

from __future__ import annotations

import secrets
import urllib.parse
from decimal import Decimal

from fastapi import APIRouter, Depends, Request, UploadFile
from sqlalchemy import select

from opensupply.core import audit
from opensupply.core import resource as rs
from opensupply.core.config import get_settings
from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.resource_api import export_response, read_upload
from opensupply.core.tabular import read_table, write_csv
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

PAGE_SIZE = 50


def cell(uow: UnitOfWork, f: rs.Field, value) -> str:
    if value is None:
        return ""
    if f.type == "ref":
        return rs.ref_display(uow, f, value)
    if f.type == "bool":
        return _("是") if value else _("否")
    if f.type == "choice":
        return next((str(label) for code, label in f.choices if code == value), str(value))
    if isinstance(value, Decimal):
        from opensupply.core.i18n import format_decimal

        return format_decimal(value)
    return str(value)


def ref_options(uow: UnitOfWork, f: rs.Field) -> list[tuple]:
    target = rs.resource(f.ref)
    stmt = rs.base_query(uow, target)
    if target.has_active:
        stmt = stmt.where(target.model.active.is_(True))
    rows = uow.session.scalars(stmt.order_by(getattr(target.model, target.key)).limit(2000))
    return [(o.id, f"{getattr(o, target.key)} {getattr(o, target.display, '') or ''}".strip()) for o in rows]


def _uploads_dir():
    path = get_settings().ensure_data_dir() / "uploads"
    path.mkdir(exist_ok=True)
    return path


def stash_upload(name: str, data: bytes) -> str:
    """Keep a previewed upload until the user confirms it; returns the token the confirm form sends back."""
    token = secrets.token_hex(16)
    (_uploads_dir() / token).write_bytes(data)
    (_uploads_dir() / token).with_suffix(".name").write_text(name)
    return token


def take_upload(token: str) -> tuple[str, bytes]:
    """The (file name, bytes) of a stashed upload; a bad or expired token is a clear error."""
    path = _uploads_dir() / token if token.isalnum() else None
    if path is None or not path.exists():
        raise ValidationFailed(_("上传已过期，请重新上传"), field="file")
    return path.with_suffix(".name").read_text(), path.read_bytes()


def drop_upload(token: str) -> None:
    path = _uploads_dir() / token
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)


def resource_pages(res: rs.Resource) -> APIRouter:
    router = APIRouter(prefix=res.page_path, include_in_schema=False)
    base = res.page_path
    read = Depends(page_permission(res.read_permission))
    write = Depends(page_permission(res.write_permission))

    def form_page(p: Page, uow: UnitOfWork, values: dict, obj_id=None, error: DomainError | None = None):
        fields = [f for f in res.visible_fields(uow) if f.form]
        return render(p, "crud/form.html", status_code=422 if error else 200, res=res, base=base, fields=fields,
                      values=values, obj_id=obj_id, error=error.message if error else None,
                      error_field=error.field if error else None,
                      ref_options={f.name: ref_options(uow, f) for f in fields if f.type == "ref"})

    @router.get("")
    def list_page(request: Request, q: str | None = None, sort: str | None = None, offset: int = 0,
                  archived: bool = False, p: Page = read):
        filters = {f.name: request.query_params[f.name] for f in res.fields
                   if f.filter and request.query_params.get(f.name)}
        with UnitOfWork(p.actor, readonly=True) as uow:
            try:
                items, total = rs.list_records(uow, res, q=q, filters=filters, sort=sort, limit=PAGE_SIZE,
                                               offset=max(0, offset), include_archived=archived)
            except ValidationFailed as exc:
                return render(p, "error.html", status_code=422, status=422, message=exc.message)
            columns = [f for f in res.visible_fields(uow) if f.list]
            rows = [{"id": o.id, "cells": {f.name: cell(uow, f, getattr(o, f.name, None)) for f in columns}}
                    for o in items]
            filter_fields = []
            for f in res.fields:
                if not f.filter:
                    continue
                if f.type == "ref":
                    options = ref_options(uow, f)
                elif f.type == "bool":
                    options = [("1", _("是")), ("0", _("否"))]
                else:
                    options = [(c, str(lbl)) for c, lbl in f.choices]
                filter_fields.append({"name": f.name, "label": str(f.label),
                                      "options": [(str(c), lbl) for c, lbl in options]})
        params = {k: v for k, v in request.query_params.items() if k not in ("offset", "sort")}
        keep = urllib.parse.urlencode(params)
        return render(p, "crud/list.html", res=res, base=base, rows=rows, columns=columns, total=total, q=q,
                      sort=sort or res.default_sort, offset=max(0, offset), limit=PAGE_SIZE, filters=filters,
                      filter_fields=filter_fields, archived=archived, can_write=p.actor.can(res.write_permission),
                      query_string=keep, sort_query=keep,
                      page_query=urllib.parse.urlencode({**params, **({"sort": sort} if sort else {})}))

    @router.get("/export")
    def export(request: Request, format: str = "xlsx", q: str | None = None, archived: bool = False,
               p: Page = read):
        filters = {f.name: request.query_params[f.name] for f in res.fields
                   if f.filter and request.query_params.get(f.name)}
        with UnitOfWork(p.actor, readonly=True) as uow:
            items, _t = rs.list_records(uow, res, q=q, filters=filters, limit=1000000, include_archived=archived)
            return export_response(uow, res, items, "csv" if format == "csv" else "xlsx")

    @router.get("/new")
    def new_page(p: Page = write):
        with UnitOfWork(p.actor, readonly=True) as uow:
            values = {f.name: f.default for f in res.fields if f.default is not None}
            return form_page(p, uow, values)

    @router.post("/new")
    async def create(request: Request, p: Page = write):
        data = _form_data(res, await request.form())
        try:
            with UnitOfWork(p.actor) as uow:
                obj = rs.create_record(uow, res, data)
        except DomainError as exc:
            with UnitOfWork(p.actor, readonly=True) as uow:
                return form_page(p, uow, data, error=exc)
        return redirect(f"{base}/{obj.id}", _("已保存"))

    @router.get("/import")
    def import_page(p: Page = write):
        return _import_render(p)

    @router.get("/import/template")
    def import_template(p: Page = write):
        header = [str(f.label) for f in res.fields if f.form and (not f.permission or p.actor.can(f.permission))]
        from fastapi.responses import Response

        return Response(write_csv(header, []), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{res.name}-template.csv"'})

    @router.post("/import")
    async def import_upload(request: Request, p: Page = write):
        form = await request.form()
        token = form.get("token")
        try:
            if token:  # confirm a previewed upload
                name, data = take_upload(token)
            else:
                upload = form.get("file")
                if not isinstance(upload, UploadFile) and not hasattr(upload, "filename"):
                    raise ValidationFailed(_("请选择文件"), field="file")
                name, data = read_upload(upload)
            table = read_table(name, data)
            with UnitOfWork(p.actor) as uow:
                report = rs.import_table(uow, res, table, dry_run=not token)
        except rs.ImportRejected as exc:
            return _import_render(p, error=exc.message, errors=exc.report.errors, status=422)
        except DomainError as exc:
            return _import_render(p, error=exc.message, status=422)
        if token:
            drop_upload(token)
            return redirect(base, _("导入完成：新建 {c} 条，更新 {u} 条，不变 {n} 条", c=report.created,
                                     u=report.updated, n=report.unchanged))
        return _import_render(p, preview=report, upload_token=stash_upload(name, data))

    def _import_render(p: Page, status: int = 200, **ctx):
        return render(p, "crud/import.html", status_code=status, res=res, base=base,
                      columns=[f for f in res.fields if f.form], key_label=str(res.field(res.key).label), **ctx)

    @router.get("/{id_}")
    def detail(id_: int, p: Page = read):
        with UnitOfWork(p.actor, readonly=True) as uow:
            obj = rs.get_record(uow, res, id_)
            cells = [(f, cell(uow, f, getattr(obj, f.name, None))) for f in res.visible_fields(uow)]
            rows = audit.history(uow.session, res.model.__tablename__, obj.id, uow.company_id) \
                if p.actor.can("admin.audit") or p.actor.can(res.write_permission) else []
            title = getattr(obj, res.key)
            # a resource may add to its detail page: res.extra["detail_template"] (extending
            # crud/detail.html, block "extra") and res.extra["detail_context"](uow, obj) → dict
            more = res.extra["detail_context"](uow, obj) if res.extra.get("detail_context") else {}
        return render(p, res.extra.get("detail_template", "crud/detail.html"), res=res, base=base, obj_id=id_,
                      cells=cells, title=title, audit_rows=rows, audit_dumps=audit.dumps,
                      can_write=p.actor.can(res.write_permission), **more)

    @router.get("/{id_}/edit")
    def edit_page(id_: int, p: Page = write):
        with UnitOfWork(p.actor, readonly=True) as uow:
            obj = rs.get_record(uow, res, id_)
            values = {f.name: getattr(obj, f.name, None) for f in res.fields}
            values = {k: (format(v.normalize(), "f") if isinstance(v, Decimal) else v) for k, v in values.items()}
            return form_page(p, uow, values, obj_id=id_)

    @router.post("/{id_}/edit")
    async def update(id_: int, request: Request, p: Page = write):
        data = _form_data(res, await request.form())
        try:
            with UnitOfWork(p.actor) as uow:
                rs.update_record(uow, res, id_, data)
        except DomainError as exc:
            if exc.status == 404:
                raise
            with UnitOfWork(p.actor, readonly=True) as uow:
                return form_page(p, uow, data, obj_id=id_, error=exc)
        return redirect(f"{base}/{id_}", _("已保存"))

    @router.post("/{id_}/archive")
    def archive(id_: int, p: Page = write):
        with UnitOfWork(p.actor) as uow:
            rs.archive_record(uow, res, id_)
        return redirect(base, _("已归档") if res.has_active else _("已删除"))

    return router


def _form_data(res: rs.Resource, form) -> dict:
    data = {}
    for f in res.fields:
        if not f.form or f.name not in form:
            continue
        values = form.getlist(f.name)
        data[f.name] = values[-1] if values else ""  # checkbox: hidden "0" then "1" when ticked
    return data


__all__ = ["resource_pages", "select"]
