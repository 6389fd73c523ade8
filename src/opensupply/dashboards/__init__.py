"""经营看板: one page of figures per role — owner, warehouse, purchasing, production, sales — drawn from the
modules that own them, read only through their services. Always on (a core area, nothing to switch); each
widget shows only while its source module is on for the company and the user may read its data."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

# who may open which dashboard: any one of these permissions
ACCESS = {
    "owner": ("dashboards.owner",),
    "warehouse": ("wms.read",),
    "purchasing": ("srm.read", "erp.purchase"),
    "production": ("mes.read",),
    "sales": ("crm.read", "erp.sales"),
}

MODULE = Module(
    name="dashboards",
    label=_l("经营看板"),
    depends=("erp", "accounting", "inventory"),
    core=True,
    menu=(MenuItem(_l("经营看板"), "/dashboards", "dashboards.owner",
                   any_of=tuple(p for perms in ACCESS.values() for p in perms)),),
    permissions=("dashboards.owner",),
)
