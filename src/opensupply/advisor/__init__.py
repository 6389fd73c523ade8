"""Adoption-stage advisor: which systems a company should switch on first (questionnaire → stage 1–4,
modules with reasons, what comes next), evidence from the company's own numbers when it already runs
OpenSupply, and switching modules on and off (`core.modules`)."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="advisor",
    label=_l("选型顾问"),
    core=True,
    menu=(
        MenuItem(_l("先上哪个系统"), "/advisor", "advisor.use"),
        MenuItem(_l("模块开关"), "/admin/modules", "admin.modules"),
    ),
    permissions=("advisor.use",),
)
