"""REST endpoints for a declarative Resource: list/search, read, create, update, archive,
import and export, at /api/v1/<name> (master data) or /api/v1/<module>/<name>."""


from typing import Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, create_model

from . import resource as rs
from .config import get_settings
from .errors import ValidationFailed
from .http import require
from .i18n import _
from .tabular import read_table, write_csv, write_xlsx
from .uow import Actor, UnitOfWork

PY_TYPES: dict[str, Any] = {
    "str": str, "text": str, "int": int, "decimal": str | float | int, "bool": bool | str,
    "date": str, "choice": str, "ref": int | str,
}


class ListOut(BaseModel):
    items: list[dict]
    total: int


class ImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    errors: list[dict]
    preview: list[dict]


def _schemas(res: rs.Resource) -> tuple[type[BaseModel], type[BaseModel]]:
    cfg = ConfigDict(extra="forbid")
    name = res.name.title().replace("-", "").replace("_", "")
    # a required field with a default (a company's currency: CNY) may be left out of the request
    create_fields = {f.name: ((PY_TYPES[f.type] | None), ... if f.required and f.default is None else None)
                     for f in res.fields if f.form}
    update_fields = {f.name: ((PY_TYPES[f.type] | None), None) for f in res.fields if f.form}
    create = create_model(f"{name}Create", __config__=cfg, **create_fields)
    update = create_model(f"{name}Update", __config__=cfg, **update_fields)
    return create, update


def filters_from(res: rs.Resource, request: Request) -> dict:
    return {f.name: request.query_params[f.name] for f in res.fields
            if f.filter and request.query_params.get(f.name) not in (None, "")}


def read_upload(file: UploadFile) -> tuple[str, bytes]:
    limit = get_settings().max_upload_mb * 1024 * 1024
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(_("文件过大（上限 {n} MB）", n=get_settings().max_upload_mb), field="file")
    name = (file.filename or "").lower()
    if not name.endswith((".csv", ".xlsx", ".txt", ".tsv")):
        raise ValidationFailed(_("只支持 CSV 或 XLSX 文件"), field="file")
    return file.filename or "", data


def export_response(uow: UnitOfWork, res: rs.Resource, items, fmt: str) -> Response:
    header, rows = rs.export_rows(uow, res, items)
    if fmt == "xlsx":
        return Response(write_xlsx(header, rows, str(res.label)),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{res.name}.xlsx"'})
    return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{res.name}.csv"'})


def resource_router(res: rs.Resource) -> APIRouter:
    router = APIRouter(prefix=res.api_path, tags=[res.module])
    create_schema, update_schema = _schemas(res)
    read_dep = Depends(require(res.read_permission))
    write_dep = Depends(require(res.write_permission))

    @router.get("", response_model=ListOut, summary=f"List {res.name}")
    def list_(request: Request, q: str | None = None, limit: int = Query(50, ge=1, le=1000),
              offset: int = Query(0, ge=0), sort: str | None = None, include_archived: bool = False,
              actor: Actor = read_dep):
        with UnitOfWork(actor, readonly=True) as uow:
            items, total = rs.list_records(uow, res, q=q, filters=filters_from(res, request), sort=sort,
                                           limit=limit, offset=offset, include_archived=include_archived)
            return {"items": [rs.to_dict(uow, res, o) for o in items], "total": total}

    @router.get("/export", summary=f"Export {res.name} as CSV or XLSX")
    def export(request: Request, format: str = Query("csv", pattern="^(csv|xlsx)$"), q: str | None = None,
               actor: Actor = read_dep):
        with UnitOfWork(actor, readonly=True) as uow:
            items, _total = rs.list_records(uow, res, q=q, filters=filters_from(res, request), limit=1000000)
            return export_response(uow, res, items, format)

    @router.post("/import", response_model=ImportOut, summary=f"Import {res.name} from CSV/XLSX (all or nothing)")
    def import_(file: UploadFile = File(...), dry_run: bool = False, actor: Actor = write_dep):
        name, data = read_upload(file)
        table = read_table(name, data)
        with UnitOfWork(actor) as uow:
            return rs.import_table(uow, res, table, dry_run=dry_run).as_dict()

    @router.get("/{id_}", summary=f"Read one of {res.name}")
    def get(id_: int, actor: Actor = read_dep) -> dict:
        with UnitOfWork(actor, readonly=True) as uow:
            return rs.to_dict(uow, res, rs.get_record(uow, res, id_))

    @router.post("", status_code=201, summary=f"Create one of {res.name}")
    def create(body: create_schema, actor: Actor = write_dep) -> dict:  # type: ignore[valid-type]
        with UnitOfWork(actor) as uow:
            obj = rs.create_record(uow, res, body.model_dump(exclude_unset=True))
            return rs.to_dict(uow, res, obj)

    @router.patch("/{id_}", summary=f"Update one of {res.name}")
    def update(id_: int, body: update_schema, actor: Actor = write_dep) -> dict:  # type: ignore[valid-type]
        with UnitOfWork(actor) as uow:
            obj = rs.update_record(uow, res, id_, body.model_dump(exclude_unset=True))
            return rs.to_dict(uow, res, obj)

    @router.delete("/{id_}", summary=f"Archive (or delete) one of {res.name}")
    def archive(id_: int, actor: Actor = write_dep) -> dict:
        with UnitOfWork(actor) as uow:
            obj = rs.archive_record(uow, res, id_)
            return {"id": obj.id, "archived": res.has_active}

    return router
