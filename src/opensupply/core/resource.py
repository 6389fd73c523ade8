"""Declarative records: one description of a master-data table gives its validated
create/update/archive use cases, list search/filter/sort/pagination, CSV/XLSX import
(all-or-nothing, errors per line) and export, the REST endpoints and the pages.

Modules describe their simple tables with a `Resource`; documents with workflows write
their own services and may still reuse the list/import/export pieces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, String, and_, cast, func, or_, select
from sqlalchemy.exc import IntegrityError

from .errors import Conflict, DomainError, NotFound, ValidationFailed
from .i18n import _
from .tabular import Table
from .types import to_decimal
from .uow import UnitOfWork

TRUE_WORDS = {"1", "true", "yes", "y", "是", "t", "on", "√", "✓"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "f", "off", ""}


@dataclass
class Field:
    name: str
    label: Any
    type: str = "str"  # str text int decimal bool date choice ref
    required: bool = False
    choices: tuple[tuple[str, Any], ...] = ()
    ref: str | None = None  # resource name of a ref field
    list: bool = True
    search: bool = False
    filter: bool = False
    form: bool = True
    max_length: int | None = None
    default: Any = None
    permission: str | None = None  # field shown/editable only with this permission
    help: Any = ""

    def label_text(self) -> str:
        return str(self.label)


@dataclass
class Resource:
    name: str  # URL segment, plural: products
    model: type
    label: Any
    fields: list[Field]
    key: str  # natural key, unique per company: sku, code
    module: str = "masterdata"
    read_permission: str = "masterdata.read"
    write_permission: str = "masterdata.write"
    api_prefix: str = ""  # "" → /api/v1/products ; "oms" → /api/v1/oms/<name>
    default_sort: str = "id"
    display: str = "name"  # attribute shown when referenced
    validate: Callable[[UnitOfWork, Any, dict], None] | None = None
    after_create: Callable[[UnitOfWork, Any], None] | None = None
    query: Callable[[UnitOfWork, Select], Select] | None = None  # extra scoping (e.g. usage)
    importable: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def company_scoped(self) -> bool:
        return hasattr(self.model, "company_id")

    @property
    def has_active(self) -> bool:
        return hasattr(self.model, "active")

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def visible_fields(self, uow: UnitOfWork) -> list[Field]:
        return [f for f in self.fields if not f.permission or uow.actor.can(f.permission)]

    @property
    def api_path(self) -> str:
        return f"/{self.api_prefix}/{self.name}" if self.api_prefix else f"/{self.name}"

    @property
    def page_path(self) -> str:
        return self.api_path


_resources: dict[str, Resource] = {}


def register(res: Resource) -> Resource:
    _resources[res.name] = res
    return res


def resource(name: str) -> Resource:
    return _resources[name]


def resources() -> list[Resource]:
    return list(_resources.values())


# ------------------------------------------------------------- querying
def base_query(uow: UnitOfWork, res: Resource) -> Select:
    stmt = select(res.model)
    if res.company_scoped:
        stmt = stmt.where(res.model.company_id == uow.company_id)
    if res.query:
        stmt = res.query(uow, stmt)
    return stmt


def list_records(uow: UnitOfWork, res: Resource, *, q: str | None = None, filters: dict | None = None,
                 sort: str | None = None, limit: int = 50, offset: int = 0,
                 include_archived: bool = False) -> tuple[list, int]:
    stmt = base_query(uow, res)
    if res.has_active and not include_archived and not (filters and "active" in filters):
        stmt = stmt.where(res.model.active.is_(True))
    if q:
        like = f"%{q.strip()}%"
        cols = [getattr(res.model, f.name) for f in res.fields if f.search]
        if cols:
            stmt = stmt.where(or_(*[cast(c, String).ilike(like) for c in cols]))
    for name, raw in (filters or {}).items():
        if raw in (None, ""):
            continue
        f = res.field(name) if name != "active" or any(x.name == "active" for x in res.fields) else Field(
            "active", "", "bool")
        stmt = stmt.where(getattr(res.model, name) == coerce(uow, res, f, raw))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    hidden = {f.name for f in res.fields if f.permission and not uow.actor.can(f.permission)}
    if sort and sort.lstrip("-") in hidden:  # sorting by a hidden column would reveal its order
        raise ValidationFailed(_("不能按 {name} 排序", name=sort.lstrip("-")), field="sort")
    stmt = stmt.order_by(*_order(res, sort)).limit(max(1, min(limit, 1000))).offset(max(0, offset))
    return list(uow.session.scalars(stmt)), total


def _order(res: Resource, sort: str | None):
    sort = sort or res.default_sort
    desc = sort.startswith("-")
    name = sort.lstrip("-")
    allowed = {f.name for f in res.fields} | {"id"}
    if name not in allowed:
        raise ValidationFailed(_("不能按 {name} 排序", name=name), field="sort")
    col = getattr(res.model, name)
    return [col.desc() if desc else col.asc(), res.model.id.desc() if desc else res.model.id.asc()]


def get_record(uow: UnitOfWork, res: Resource, id_: int, *, for_update: bool = False):
    stmt = base_query(uow, res).where(res.model.id == id_)
    if for_update:
        stmt = stmt.with_for_update(of=res.model)
    obj = uow.session.scalars(stmt).first()
    if obj is None:
        raise NotFound(_("{what}不存在：#{id}", what=str(res.label), id=id_))
    return obj


def find_by_key(uow: UnitOfWork, res: Resource, key_value: str):
    stmt = base_query(uow, res).where(getattr(res.model, res.key) == key_value)
    return uow.session.scalars(stmt).first()


# ------------------------------------------------------------- coercion
def coerce(uow: UnitOfWork, res: Resource, f: Field, raw):
    """Turn form/CSV/JSON input into the column's Python value, or raise a field error."""
    label = f.label_text()
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if f.type == "bool":
            return False
        return None
    try:
        if f.type in ("str", "text"):
            value = str(raw).strip()
            if f.max_length and len(value) > f.max_length:
                raise ValidationFailed(_("{label}最多 {n} 个字符", label=label, n=f.max_length), field=f.name)
            return value
        if f.type == "int":
            if isinstance(raw, bool):
                raise ValueError
            return int(str(raw).strip())
        if f.type == "decimal":
            value = to_decimal(raw)
            if not value.is_finite():
                raise ValueError
            return value
        if f.type == "bool":
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError
        if f.type == "date":
            if isinstance(raw, dt.date):
                return raw
            return dt.date.fromisoformat(str(raw).strip()[:10].replace("/", "-"))
        if f.type == "choice":
            value = str(raw).strip()
            for code, choice_label in f.choices:
                if value in (code, str(choice_label)):
                    return code
            raise ValidationFailed(_("{label}的值无效：{value}", label=label, value=value), field=f.name)
        if f.type == "ref":
            return _resolve_ref(uow, f, raw)
    except ValidationFailed:
        raise
    except (ValueError, TypeError, InvalidOperation, ArithmeticError):
        raise ValidationFailed(_("{label}格式不正确：{value}", label=label, value=str(raw)[:50]),
                               field=f.name) from None
    raise ValidationFailed(f"unknown field type {f.type}", field=f.name)


def _resolve_ref(uow: UnitOfWork, f: Field, raw) -> int:
    target = resource(f.ref)
    label = f.label_text()
    if isinstance(raw, int) and not isinstance(raw, bool):
        stmt = base_query(uow, target).where(target.model.id == raw)
        if uow.session.scalars(stmt).first() is None:
            raise ValidationFailed(_("{label}不存在：{value}", label=label, value=raw), field=f.name)
        return raw
    value = str(raw).strip()
    obj = find_by_key(uow, target, value)
    if obj is None and value.isdigit():
        obj = uow.session.scalars(base_query(uow, target).where(target.model.id == int(value))).first()
    if obj is None:
        raise ValidationFailed(_("{label}不存在：{value}", label=label, value=value), field=f.name)
    return obj.id


def ref_display(uow: UnitOfWork, f: Field, id_: int | None) -> str:
    if id_ is None:
        return ""
    target = resource(f.ref)
    obj = uow.session.get(target.model, id_)
    if obj is None:
        return str(id_)
    key, name = getattr(obj, target.key), getattr(obj, target.display, "")
    return f"{key} {name}".strip() if name and name != key else str(key)


def ref_key(uow: UnitOfWork, f: Field, id_: int | None) -> str:
    if id_ is None:
        return ""
    target = resource(f.ref)
    obj = uow.session.get(target.model, id_)
    return "" if obj is None else str(getattr(obj, target.key))


# ------------------------------------------------------------- writes
def _apply(uow: UnitOfWork, res: Resource, obj, data: dict, *, creating: bool) -> None:
    errors: list[ValidationFailed] = []
    editable = {f.name: f for f in res.visible_fields(uow) if f.form}
    unknown = set(data) - set(editable)
    if unknown:
        raise ValidationFailed(_("未知字段：{names}", names=", ".join(sorted(unknown))), field=sorted(unknown)[0])
    for name, f in editable.items():
        if name not in data:
            if creating and f.default is not None and getattr(obj, name, None) is None:
                setattr(obj, name, coerce(uow, res, f, f.default))  # "0.01" → Decimal, like typed input
            continue
        try:
            setattr(obj, name, coerce(uow, res, f, data[name]))
        except ValidationFailed as exc:
            errors.append(exc)
    if not errors:
        for f in editable.values():
            if f.required and getattr(obj, f.name, None) in (None, ""):
                errors.append(ValidationFailed(_("请填写{label}", label=f.label_text()), field=f.name))
    if errors:
        raise errors[0]
    key_value = getattr(obj, res.key)
    dup = base_query(uow, res).where(getattr(res.model, res.key) == key_value)
    if obj.id is not None:
        dup = dup.where(res.model.id != obj.id)
    if uow.session.scalars(dup.limit(1)).first() is not None:
        raise Conflict(_("{label}已存在：{value}", label=res.field(res.key).label_text(), value=key_value),
                       field=res.key)
    if res.validate:
        res.validate(uow, obj, data)


def create_record(uow: UnitOfWork, res: Resource, data: dict):
    uow.actor.require(res.write_permission)
    obj = res.model()
    if res.company_scoped:
        obj.company_id = uow.company_id
    _apply(uow, res, obj, data, creating=True)
    uow.session.add(obj)
    _flush(uow)
    if res.after_create:
        res.after_create(uow, obj)
    return obj


def update_record(uow: UnitOfWork, res: Resource, id_: int, data: dict):
    uow.actor.require(res.write_permission)
    obj = get_record(uow, res, id_, for_update=True)
    _apply(uow, res, obj, data, creating=False)
    _flush(uow)
    return obj


def archive_record(uow: UnitOfWork, res: Resource, id_: int):
    """Archive (active = false) where the table has that flag — history keeps pointing at
    it; otherwise delete, refused while other records still use it."""
    uow.actor.require(res.write_permission)
    obj = get_record(uow, res, id_, for_update=True)
    if res.has_active:
        obj.active = False
        _flush(uow)
        return obj
    uow.session.delete(obj)
    _flush(uow)
    return obj


def _flush(uow: UnitOfWork) -> None:
    try:
        with uow.session.begin_nested():
            uow.session.flush()
    except IntegrityError as exc:
        raise Conflict(_("数据冲突：记录已存在或仍被其他单据引用")) from exc


# ------------------------------------------------------------- import / export
@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": self.errors, "preview": self.preview[:50]}


class ImportRejected(DomainError):
    status = 422
    code = "import_rejected"

    def __init__(self, report: ImportReport):
        super().__init__(_("导入失败：{n} 行有错误，未导入任何数据", n=len(report.errors)), field="file")
        self.report = report

    def as_dict(self) -> dict:
        d = super().as_dict()
        d["error"]["rows"] = self.report.errors
        return d


def header_map(res: Resource, header: list[str]) -> dict[str, str]:
    """File column → field name; accepts the Chinese label, the English label or the field name."""
    from .i18n import translations

    en = translations("en")
    lookup = {}
    for f in res.fields:
        if not f.form and f.name != res.key:  # a computed key (locations' full code) still matches rows
            continue
        raw_label = getattr(f.label, "_args", [None])[0] if hasattr(f.label, "_args") else str(f.label)
        for alias in {f.name, str(f.label), str(raw_label), en.gettext(str(raw_label))}:
            lookup[alias.strip().lower()] = f.name
    return {h: lookup[h.strip().lower()] for h in header if h.strip().lower() in lookup}


def import_table(uow: UnitOfWork, res: Resource, table: Table, *, dry_run: bool = False) -> ImportReport:
    """Create or update records by natural key. All-or-nothing: any bad row rejects the file
    (raises ImportRejected listing every bad row with its line number), and a file replayed
    changes nothing."""
    uow.actor.require(res.write_permission)
    if not res.importable:
        raise ValidationFailed(_("{what}不支持导入", what=str(res.label)), field="file")
    mapping = header_map(res, table.header)
    # columns the importer may not see (cost without masterdata.cost) are ignored, as on the form
    visible = {f.name for f in res.visible_fields(uow)}
    mapping = {h: name for h, name in mapping.items() if name in visible}
    report = ImportReport()
    computed_key = not res.field(res.key).form  # e.g. a location's full code, derived from parent + code
    if res.key not in mapping.values() and not computed_key:
        raise ValidationFailed(_("缺少必需的列：{col}", col=res.field(res.key).label_text()), field="file")
    seen: dict[str, int] = {}
    for line, record in table.records():
        data = {mapping[h]: v for h, v in record.items() if h in mapping}
        key_value = (data.pop(res.key, "") if computed_key else data.get(res.key, "")).strip()
        if key_value and key_value in seen:
            report.errors.append({"line": line, "field": res.key, "reason": _(
                "与第 {other} 行重复：{value}", other=seen[key_value], value=key_value)})
            continue
        if key_value:
            seen[key_value] = line
        try:
            with uow.session.begin_nested():
                existing = find_by_key(uow, res, key_value) if key_value else None
                if existing is None:
                    create_record(uow, res, data)
                    report.created += 1
                    action = "create"
                else:
                    before = _snapshot(res, existing)
                    _apply(uow, res, existing, data, creating=False)
                    _flush(uow)
                    changed = _snapshot(res, existing) != before
                    report.updated += changed
                    report.unchanged += not changed
                    action = "update" if changed else "unchanged"
            report.preview.append({"line": line, "action": action, "key": key_value})
        except DomainError as exc:
            report.errors.append({"line": line, "field": exc.field, "reason": exc.message})
    if report.errors:
        raise ImportRejected(report)
    if dry_run:
        uow.session.rollback()
    return report


def _snapshot(res: Resource, obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in res.fields if f.form}


def export_rows(uow: UnitOfWork, res: Resource, items: Iterable) -> tuple[list[str], list[list]]:
    fields = [f for f in res.visible_fields(uow) if f.form or f.list]
    header = [f.label_text() for f in fields]
    rows = []
    for obj in items:
        row = []
        for f in fields:
            value = getattr(obj, f.name, None)
            if f.type == "ref":
                value = ref_key(uow, f, value)
            elif f.type == "bool":
                value = "是" if value else "否"
            elif isinstance(value, Decimal):
                value = format(value.normalize(), "f")
            elif isinstance(value, dt.date):
                value = value.isoformat()
            row.append(value)
        rows.append(row)
    return header, rows


def to_dict(uow: UnitOfWork, res: Resource, obj) -> dict:
    out: dict[str, Any] = {"id": obj.id}
    for f in res.visible_fields(uow):
        value = getattr(obj, f.name, None)
        if isinstance(value, Decimal):
            value = format(value.normalize(), "f") if value == value.to_integral() else str(value.normalize())
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[f.name] = value
        if f.type == "ref":
            out[f.name.removesuffix("_id") + "_code"] = ref_key(uow, f, getattr(obj, f.name))
    for extra in ("created_at", "updated_at"):
        if hasattr(obj, extra) and getattr(obj, extra) is not None:
            out[extra] = getattr(obj, extra).isoformat()
    return out


def and_all(*clauses):
    return and_(*[c for c in clauses if c is not None])
