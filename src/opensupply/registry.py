"""The module registry: which modules exist, what they depend on, what they put in the menu.

All tables of all modules always exist (switching a module off hides it and keeps its
data); `app.py` mounts routers only for enabled modules.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from opensupply.core.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class MenuItem:
    label: object
    path: str
    permission: str
    any_of: tuple[str, ...] = ()  # shown as well to users holding one of these (a page open to several roles)

    def visible_to(self, actor) -> bool:
        return actor.can(self.permission) or any(actor.can(p) for p in self.any_of)


@dataclass(frozen=True)
class Module:
    name: str
    label: object
    depends: tuple[str, ...] = ()
    menu: tuple[MenuItem, ...] = ()
    permissions: tuple[str, ...] = ()
    core: bool = False  # core modules cannot be switched off
    description: object = ""
    stage: int = 0  # adoption stage that usually brings it (0 = always)
    # modules to import in every process before events are dispatched or jobs claimed: the ones that
    # subscribe this module's event handlers or register its job kinds (e.g. "opensupply.oms.fulfilments")
    handlers: tuple[str, ...] = ()
    # a start page of its own for users who have no menu at all, only this permission (the supplier portal)
    landing: MenuItem | None = None
    extra: dict = field(default_factory=dict)


# In dependency order. Business modules add themselves here as they are built.
MODULE_NAMES: list[str] = ["core", "masterdata", "accounting", "inventory", "erp", "crm", "oms", "wms", "tms", "mes",
                           "plm", "srm", "scm", "advisor", "dashboards"]

CORE = Module(
    name="core",
    label=_l("系统"),
    core=True,
    menu=(
        MenuItem(_l("用户"), "/admin/users", "admin.users"),
        MenuItem(_l("角色"), "/admin/roles", "admin.users"),
        MenuItem(_l("后台任务"), "/jobs", "core.jobs"),
        MenuItem(_l("审计日志"), "/admin/audit", "admin.audit"),
    ),
    permissions=("admin.users", "admin.audit", "admin.modules", "core.jobs"),
)

_loaded: dict[str, Module] = {}


def modules() -> list[Module]:
    if not _loaded:
        for name in MODULE_NAMES:
            _loaded[name] = CORE if name == "core" else importlib.import_module(f"opensupply.{name}").MODULE
    return list(_loaded.values())


def module(name: str) -> Module:
    for m in modules():
        if m.name == name:
            return m
    raise KeyError(name)


def import_all_models() -> None:
    for name in MODULE_NAMES:
        try:
            importlib.import_module(f"opensupply.{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"opensupply.{name}.models":
                raise
    for sub in ("auth", "audit", "sequences", "events", "jobs", "modules", "idempotency"):
        importlib.import_module(f"opensupply.core.{sub}")


_handlers_loaded = False


def load_event_handlers() -> None:
    """Import every module's event handlers, whatever this process imported so far: a dispatcher
    that missed a subscriber would mark the event delivered and the reaction would never happen."""
    global _handlers_loaded
    if _handlers_loaded:
        return
    for m in modules():
        for path in m.handlers:
            importlib.import_module(path)
    _handlers_loaded = True


def all_permissions() -> list[str]:
    return sorted({p for m in modules() for p in m.permissions})


__all__ = ["MODULE_NAMES", "MenuItem", "Module", "_l", "all_permissions", "import_all_models", "load_event_handlers",
           "module", "modules"]
