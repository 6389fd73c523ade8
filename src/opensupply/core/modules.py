"""Which business modules a company has switched on (the advisor's "apply" and the admin page set it).

All tables exist whatever is on: switching a module off hides its pages, API and menu for that company and
keeps its data; switching it back shows the data unchanged. The state is per company and lives in the
database, so every web process and worker sees a change at once (nothing is cached in process memory).

Event handlers of a module that is off still run: an ERP order confirmed while the OMS is off still gets its
fulfilment, so turning the OMS on later finds consistent data instead of a gap.
"""

from __future__ import annotations

from sqlalchemy import Boolean, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from opensupply import registry

from .db import Base
from .errors import Conflict, NotFound
from .i18n import _
from .models import CompanyEntity
from .uow import UnitOfWork


class ModuleSetting(CompanyEntity, Base):
    __tablename__ = "core_module_setting"
    __label__ = "模块开关"
    __table_args__ = (UniqueConstraint("company_id", "module"),)

    module: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


def switchable() -> list[registry.Module]:
    """The business modules a company may switch; the core (master data, ledgers, ERP) is always on."""
    return [m for m in registry.modules() if not m.core and m.name not in ALWAYS_ON]


ALWAYS_ON = {"core", "masterdata", "accounting", "inventory", "erp"}


def disabled_for(session: Session, company_id: int | None) -> set[str]:
    if company_id is None:
        return set()
    return set(session.scalars(select(ModuleSetting.module).where(ModuleSetting.company_id == company_id,
                                                                  ModuleSetting.enabled.is_(False))))


def enabled_for(uow: UnitOfWork) -> set[str]:
    off = disabled_for(uow.session, uow.company_id)
    return {m.name for m in registry.modules()} - off


def _depends_on(name: str) -> set[str]:
    return {d for d in registry.module(name).depends}


def set_module(uow: UnitOfWork, name: str, enabled: bool) -> ModuleSetting:
    """Switch one module on or off for the acting company. On needs its dependencies on; off is refused while
    a module that is on depends on it."""
    uow.actor.require("admin.modules")
    names = {m.name for m in switchable()}
    if name not in names:
        if name in ALWAYS_ON:
            raise Conflict(_("{name} 是基础模块，始终开启", name=name), field="module")
        raise NotFound(_("没有这个模块：{name}", name=name), field="module")
    on = enabled_for(uow)
    if enabled:
        missing = sorted(d for d in _depends_on(name) if d not in on)
        if missing:
            raise Conflict(_("开启 {name} 需要先开启：{deps}", name=_label(name),
                             deps="、".join(_label(d) for d in missing)), field="module")
    else:
        users = sorted(m.name for m in switchable()
                       if m.name in on and m.name != name and name in _depends_on(m.name))
        if users:
            raise Conflict(_("{deps} 依赖 {name}，请先关闭它们", name=_label(name),
                             deps="、".join(_label(u) for u in users)), field="module")
    row = uow.session.scalar(select(ModuleSetting).where(ModuleSetting.company_id == uow.company_id,
                                                         ModuleSetting.module == name).with_for_update())
    if row is None:
        row = uow.add(ModuleSetting(module=name, enabled=enabled))
    else:
        row.enabled = enabled
    uow.flush()
    uow.emit("core.module_switched", module=name, enabled=enabled)
    return row


def apply_modules(uow: UnitOfWork, wanted: set[str]) -> dict:
    """Switch on exactly `wanted` among the switchable modules (and the modules they need), the rest off.
    Returns {"on": [...], "off": [...], "unavailable": [...]} — codes the suite does not have yet are listed
    as unavailable."""
    uow.actor.require("admin.modules")
    names = [m.name for m in switchable()]
    unavailable = sorted(w for w in wanted if w not in names and w not in ALWAYS_ON)
    target = {w for w in wanted if w in names}
    grew = True
    while grew:  # what the wanted modules need comes with them
        grew = False
        for name in list(target):
            for dep in _depends_on(name):
                if dep in names and dep not in target:
                    target.add(dep)
                    grew = True
    existing = {r.module: r for r in uow.session.scalars(select(ModuleSetting).where(
        ModuleSetting.company_id == uow.company_id).with_for_update())}
    for name in names:
        row = existing.get(name) or uow.add(ModuleSetting(module=name, enabled=True))
        row.enabled = name in target
    uow.flush()
    uow.emit("core.modules_applied", on=sorted(target))
    return {"on": [n for n in names if n in target], "off": [n for n in names if n not in target],
            "unavailable": unavailable}


def _label(name: str) -> str:
    return str(registry.module(name).label)


def module_of_path(path: str) -> str | None:
    """The switchable module a request path belongs to (/api/v1/oms/… or /oms/…), if any."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["api", "v1"]:
        parts = parts[2:]
    if not parts:
        return None
    names = {m.name for m in switchable()}
    return parts[0] if parts[0] in names else None


def module_states(uow: UnitOfWork) -> list[dict]:
    on = enabled_for(uow)
    return [{"name": m.name, "label": str(m.label), "description": str(m.description or ""), "stage": m.stage,
             "enabled": m.name in on, "depends": [d for d in m.depends if d not in ALWAYS_ON]}
            for m in switchable()]
