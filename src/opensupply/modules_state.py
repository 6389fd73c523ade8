"""Which modules are switched on. Core modules are always on; the advisor (issue 9)
adds the switch page. All tables exist whatever is on, so switching keeps data."""

from __future__ import annotations

from opensupply import registry


def enabled_modules() -> set[str]:
    return {m.name for m in registry.modules()}
