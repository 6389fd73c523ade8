"""Own fleet master data (车队): depots (站点, with coordinates, road factor and average speed), vehicles
(车辆: capacity kg / m³, cost per km, fixed cost per day used, shift) and drivers (司机, each linked to the
login that sees the driver page).

One generic service per kind keeps the three alike: `save(uow, kind, data, record_id=None)` validates and
creates / updates, `search(uow, kind, q=…, limit=…, offset=…)`, `as_dict`, `export_rows`. Convenience wrappers
`create_depot` / `create_vehicle` / `create_driver` read naturally in tests and demo data.
`driver_for_user(uow, user_id)` finds the driver the logged-in user is; `ensure_driver_role` makes the preset
司机 role (only `tms.drive`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, or_, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.uow import UnitOfWork

from .models import TmsDepot, TmsDriver, TmsVehicle


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: object
    kind: str = "str"  # str | float | decimal | time | int | bool | ref
    required: bool = False
    max_len: int = 120


KINDS: dict[str, tuple[type, object, tuple[FieldSpec, ...]]] = {
    "depots": (TmsDepot, _l("站点"), (
        FieldSpec("code", _l("编码"), required=True, max_len=20),
        FieldSpec("name", _l("名称"), required=True),
        FieldSpec("warehouse_id", _l("仓库"), "int"),
        FieldSpec("lat", _l("纬度"), "float", required=True),
        FieldSpec("lon", _l("经度"), "float", required=True),
        FieldSpec("road_factor", _l("道路系数"), "float"),
        FieldSpec("speed_kmh", _l("平均车速(km/h)"), "float"),
    )),
    "vehicles": (TmsVehicle, _l("车辆"), (
        FieldSpec("code", _l("编码"), required=True, max_len=20),
        FieldSpec("plate", _l("车牌"), max_len=20),
        FieldSpec("depot_id", _l("站点"), "ref", required=True),
        FieldSpec("capacity_kg", _l("载重(kg)"), "decimal", required=True),
        FieldSpec("capacity_m3", _l("容积(m³)"), "decimal"),
        FieldSpec("cost_per_km", _l("每公里成本"), "decimal"),
        FieldSpec("fixed_cost", _l("固定成本"), "decimal"),
        FieldSpec("shift_start", _l("班次开始"), "time"),
        FieldSpec("shift_end", _l("班次结束"), "time"),
        FieldSpec("active", _l("启用"), "bool"),
    )),
    "drivers": (TmsDriver, _l("司机"), (
        FieldSpec("code", _l("编码"), required=True, max_len=20),
        FieldSpec("name", _l("姓名"), required=True, max_len=80),
        FieldSpec("phone", _l("电话"), max_len=20),
        FieldSpec("user_id", _l("登录账号"), "int"),
        FieldSpec("active", _l("启用"), "bool"),
    )),
}


def _kind(kind: str):
    if kind not in KINDS:
        raise NotFound(_("未知的车队资料类型：{k}", k=kind))
    return KINDS[kind]


def _convert(spec: FieldSpec, value):
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if spec.required:
            raise ValidationFailed(_("请填写{f}", f=spec.label), field=spec.name)
        return None
    label = spec.label
    try:
        if spec.kind == "str":
            value = str(value)
            if len(value) > spec.max_len:
                raise ValidationFailed(_("{f}过长（最多 {n} 个字符）", f=label, n=spec.max_len), field=spec.name)
            return value
        if spec.kind == "float":
            return float(value)
        if spec.kind == "decimal":
            d = Decimal(str(value))
            if not d.is_finite() or d < 0:
                raise ValidationFailed(_("{f}不能为负数：{v}", f=label, v=value), field=spec.name)
            return d
        if spec.kind in ("int", "ref"):
            return int(value)
        if spec.kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "on", "yes", "是")
        if spec.kind == "time":
            return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))
    except (ValueError, InvalidOperation, TypeError) as exc:
        raise ValidationFailed(_("{f}格式不正确：{v}", f=label, v=value), field=spec.name) from exc
    return value


def _validate(uow: UnitOfWork, kind: str, obj) -> None:
    if kind == "depots":
        if not (-90 <= obj.lat <= 90) or not (-180 <= obj.lon <= 180):
            raise ValidationFailed(_("坐标超出范围：纬度 {lat}，经度 {lon}", lat=obj.lat, lon=obj.lon), field="lat")
        if obj.road_factor is not None and not (1.0 <= obj.road_factor <= 3.0):
            raise ValidationFailed(_("道路系数应在 1 到 3 之间"), field="road_factor")
        if obj.speed_kmh is not None and not (5 <= obj.speed_kmh <= 120):
            raise ValidationFailed(_("平均车速应在 5 到 120 km/h 之间"), field="speed_kmh")
        if obj.warehouse_id:
            from opensupply.masterdata.models import Warehouse

            uow.get(Warehouse, obj.warehouse_id)
    elif kind == "vehicles":
        uow.get(TmsDepot, obj.depot_id)
        if obj.capacity_kg is None or obj.capacity_kg <= 0:
            raise ValidationFailed(_("载重必须大于 0"), field="capacity_kg")
        if obj.shift_start and obj.shift_end and obj.shift_end <= obj.shift_start:
            raise ValidationFailed(_("班次结束须晚于班次开始"), field="shift_end")
    elif kind == "drivers" and obj.user_id:
        from opensupply.core.auth import User

        if uow.session.get(User, obj.user_id) is None:
            raise ValidationFailed(_("登录账号不存在：#{id}", id=obj.user_id), field="user_id")
        other = uow.session.scalar(select(TmsDriver.code).where(
            TmsDriver.company_id == uow.company_id, TmsDriver.user_id == obj.user_id, TmsDriver.id != obj.id))
        if other:
            raise Conflict(_("该登录账号已关联司机 {c}", c=other), field="user_id")


def save(uow: UnitOfWork, kind: str, data: dict, record_id: int | None = None):
    """Create (record_id None) or update one depot / vehicle / driver; only the given fields change on update."""
    model, _label, specs = _kind(kind)
    data = dict(data)
    if "username" in data and kind == "drivers" and "user_id" not in data:
        data["user_id"] = user_id_for(uow, data.pop("username"))
    if record_id is None:
        obj = model()
        values = {s.name: _convert(s, data.get(s.name)) for s in specs}
        values = {k: v for k, v in values.items() if v is not None}
    else:
        obj = uow.get(model, record_id, for_update=True)
        values = {s.name: _convert(s, data[s.name]) for s in specs if s.name in data}
        for s in specs:
            if s.required and s.name in values and values[s.name] is None:
                raise ValidationFailed(_("请填写{f}", f=s.label), field=s.name)
    code = values.get("code")
    if code:
        dup = uow.session.scalar(select(model.id).where(model.company_id == uow.company_id, model.code == code,
                                                         model.id != (obj.id or 0)))
        if dup:
            raise Conflict(_("编码 {c} 已存在", c=code), field="code")
    for k, v in values.items():
        setattr(obj, k, v)
    if kind == "depots" and record_id is None:
        obj.road_factor = obj.road_factor or 1.3
        obj.speed_kmh = obj.speed_kmh or 30.0
    if record_id is None:
        if kind == "vehicles":
            obj.active = True if obj.active is None else obj.active
        if kind == "drivers":
            obj.active = True if obj.active is None else obj.active
    _validate(uow, kind, obj)
    if record_id is None:
        uow.add(obj)
    uow.flush()
    return obj


def create_depot(uow: UnitOfWork, **data) -> TmsDepot:
    return save(uow, "depots", data)


def create_vehicle(uow: UnitOfWork, **data) -> TmsVehicle:
    return save(uow, "vehicles", data)


def create_driver(uow: UnitOfWork, **data) -> TmsDriver:
    return save(uow, "drivers", data)


def delete(uow: UnitOfWork, kind: str, record_id: int) -> None:
    """Delete a record nothing refers to; a used one is switched off instead (vehicles / drivers)."""
    model, _label, _specs = _kind(kind)
    obj = uow.get(model, record_id, for_update=True)
    from .models import TmsRoute

    used = False
    if kind == "vehicles":
        used = bool(uow.session.scalar(select(func.count(TmsRoute.id)).where(TmsRoute.vehicle_id == obj.id)))
    elif kind == "drivers":
        used = bool(uow.session.scalar(select(func.count(TmsRoute.id)).where(TmsRoute.driver_id == obj.id)))
    elif kind == "depots":
        used = bool(uow.session.scalar(select(func.count(TmsVehicle.id)).where(TmsVehicle.depot_id == obj.id)))
        if used:
            raise Conflict(_("站点 {c} 下还有车辆，不能删除", c=obj.code))
    if used:
        obj.active = False
    else:
        uow.session.delete(obj)
    uow.flush()


def user_id_for(uow: UnitOfWork, username: str | None) -> int | None:
    from opensupply.core.auth import User

    username = (username or "").strip()
    if not username:
        return None
    uid = uow.session.scalar(select(User.id).where(User.username == username))
    if uid is None:
        raise ValidationFailed(_("登录账号不存在：{u}", u=username), field="username")
    return uid


def search(uow: UnitOfWork, kind: str, *, q: str | None = None, depot_id: int | None = None,
           active: bool | None = None, limit: int = 50, offset: int = 0) -> tuple[list, int]:
    model, _label, _specs = _kind(kind)
    stmt = select(model).where(model.company_id == uow.company_id)
    if q:
        like = f"%{q.strip()}%"
        cols = [model.code, model.name] if hasattr(model, "name") else [model.code]
        if kind == "vehicles":
            cols.append(model.plate)
        if kind == "drivers":
            cols.append(model.phone)
        stmt = stmt.where(or_(*[c.ilike(like) for c in cols]))
    if depot_id and kind == "vehicles":
        stmt = stmt.where(model.depot_id == depot_id)
    if active is not None and hasattr(model, "active"):
        stmt = stmt.where(model.active.is_(active))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = list(uow.session.scalars(stmt.order_by(model.code).limit(limit).offset(offset)))
    return rows, total


def as_dict(uow: UnitOfWork, kind: str, obj) -> dict:
    _model, _label, specs = _kind(kind)
    out: dict = {"id": obj.id}
    for s in specs:
        v = getattr(obj, s.name)
        if isinstance(v, Decimal):
            v = str(v)
        elif isinstance(v, dt.time):
            v = v.strftime("%H:%M")
        out[s.name] = v
    if kind == "vehicles":
        out["depot"] = uow.get(TmsDepot, obj.depot_id).code
    if kind == "drivers" and obj.user_id:
        from opensupply.core.auth import User

        u = uow.session.get(User, obj.user_id)
        out["username"] = u.username if u else None
    elif kind == "drivers":
        out["username"] = None
    return out


def header(kind: str) -> list[str]:
    _model, _label, specs = _kind(kind)
    return [str(s.label) for s in specs]


def export_rows(uow: UnitOfWork, kind: str, **filters) -> list[list]:
    _model, _label, specs = _kind(kind)
    rows, _n = search(uow, kind, limit=100_000, offset=0, **filters)
    out = []
    for r in rows:
        d = as_dict(uow, kind, r)
        out.append([d["depot"] if s.name == "depot_id" else d.get(s.name) for s in specs])
    return out


def depots(uow: UnitOfWork) -> list[TmsDepot]:
    return list(uow.session.scalars(select(TmsDepot).where(TmsDepot.company_id == uow.company_id)
                                    .order_by(TmsDepot.code)))


def active_vehicles(uow: UnitOfWork, depot_id: int) -> list[TmsVehicle]:
    v = TmsVehicle
    return list(uow.session.scalars(select(v).where(v.company_id == uow.company_id, v.depot_id == depot_id,
                                                    v.active.is_(True)).order_by(v.capacity_kg.desc(), v.code)))


def active_drivers(uow: UnitOfWork) -> list[TmsDriver]:
    d = TmsDriver
    return list(uow.session.scalars(select(d).where(d.company_id == uow.company_id, d.active.is_(True))
                                    .order_by(d.code)))


def driver_for_user(uow: UnitOfWork, user_id: int | None) -> TmsDriver | None:
    if not user_id:
        return None
    d = TmsDriver
    return uow.session.scalar(select(d).where(d.company_id == uow.company_id, d.user_id == user_id,
                                              d.active.is_(True)))


def ensure_driver_role(uow: UnitOfWork):
    from opensupply.core.auth import ensure_role

    return ensure_role(uow, "driver", "司机", ["tms.drive"], "自有车队司机：只看自己当天的配送任务")
