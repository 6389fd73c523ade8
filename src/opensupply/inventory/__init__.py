"""The stock ledger: stock moves between locations, on-hand quantities derived from them,
reservations, lots and serial numbers, adjustments and valuation layers."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="inventory",
    label=_l("库存"),
    depends=("masterdata",),
    core=True,
    menu=(
        MenuItem(_l("库存查询"), "/inventory/on-hand", "inventory.read"),
        MenuItem(_l("库存流水"), "/inventory/moves", "inventory.read"),
        MenuItem(_l("入库"), "/inventory/receipts/new", "inventory.write"),
        MenuItem(_l("盘点调整"), "/inventory/adjustments", "inventory.write"),
        MenuItem(_l("批次/序列号"), "/inventory/lots", "inventory.read"),
        MenuItem(_l("库存估值"), "/inventory/valuation", "inventory.read"),
    ),
    permissions=("inventory.read", "inventory.write", "inventory.adjust"),
)
