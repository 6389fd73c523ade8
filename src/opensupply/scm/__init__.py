"""SCM — supply chain planning: demand forecasts per SKU from ERP sales history (statsforecast models through
`forecasting.py`, the engine `bench forecast` measures), run as background jobs, reviewed with manual overrides
and published to ERP's MRP as independent demand."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="scm",
    label=_l("供应链计划"),
    depends=("erp",),
    menu=(MenuItem(_l("需求预测"), "/scm/forecasts", "scm.read"), MenuItem(_l("库存风险"), "/scm/risk", "scm.read"),
          MenuItem(_l("多地分仓"), "/scm/distribution", "scm.read")),
    handlers=("opensupply.scm.service",),
    permissions=("scm.read", "scm.plan"),
    stage=4,
)
