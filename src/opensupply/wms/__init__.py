"""WMS: the warehouse floor — bin layout, receiving and putaway, waves and optimized pick paths,
PDA scanning, packing and labels, replenishment, cycle counts and in/out reports. Stock itself
lives in the inventory ledger (bins are its locations); the WMS decides where and in what order."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="wms",
    label=_l("仓储管理"),
    depends=("masterdata", "inventory", "erp", "oms"),
    menu=(
        MenuItem(_l("库位布局"), "/wms/layout", "wms.read"),
        MenuItem(_l("库位"), "/wms/bins", "wms.read"),
        MenuItem(_l("收货上架"), "/wms/inbound", "wms.read"),
        MenuItem(_l("波次"), "/wms/waves", "wms.read"),
        MenuItem(_l("打包发货"), "/wms/pack", "wms.write"),
        MenuItem(_l("补货"), "/wms/replenishment", "wms.read"),
        MenuItem(_l("循环盘点"), "/wms/counts", "wms.read"),
        MenuItem(_l("出入库报表"), "/wms/reports", "wms.read"),
        MenuItem(_l("PDA 扫描"), "/wms/pda", "wms.write"),
    ),
    permissions=("wms.read", "wms.write", "wms.admin", "wms.approve"),
    stage=2,
)
