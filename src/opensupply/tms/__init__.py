"""TMS: shipments from the warehouse's ship events or typed in, 3PL carriers with rate cards and
cost comparison, electronic waybills, own-fleet route planning (PyVRP) and driver dispatch,
tracking timelines, and freight bill reconciliation posted to the books."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="tms",
    label=_l("运输管理"),
    depends=("masterdata", "accounting", "oms", "wms"),
    menu=(
        MenuItem(_l("运单"), "/tms/shipments", "tms.read"),
        MenuItem(_l("承运商运价"), "/tms/rate-cards", "tms.read"),
        MenuItem(_l("排线调度"), "/tms/route-plans", "tms.read"),
        MenuItem(_l("车辆与司机"), "/tms/fleet", "tms.admin"),
        MenuItem(_l("司机任务"), "/tms/driver", "tms.drive"),
        MenuItem(_l("运费对账"), "/tms/freight-bills", "tms.settle"),
    ),
    handlers=("opensupply.tms.shipments", "opensupply.tms.planning"),
    permissions=("tms.read", "tms.write", "tms.admin", "tms.drive", "tms.settle"),
    stage=3,
)
