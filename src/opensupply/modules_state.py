"""Which modules are installed. Every installed module's routers are mounted; whether a company has a module
switched on is per company, in the database (`core.modules`), checked on every request and in the menu."""

from __future__ import annotations

from opensupply import registry


def enabled_modules() -> set[str]:
    return {m.name for m in registry.modules()}
