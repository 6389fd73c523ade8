"""PLM — product lifecycle: stages of items (研发 → 试产 → 量产 → 退市) changed through approved requests,
engineering change orders moving a BOM from one version to the next with a line-by-line diff and
cross-department approval, documents attached to items and versions, and cost roll-up."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="plm",
    label=_l("产品生命周期"),
    depends=("masterdata", "mes"),
    menu=(
        MenuItem(_l("工程变更"), "/plm/ecos", "plm.read"),
        MenuItem(_l("生命周期"), "/plm/lifecycle", "plm.read"),
        MenuItem(_l("产品文档"), "/plm/documents", "plm.read"),
    ),
    handlers=(),
    permissions=("plm.read", "plm.write", "plm.approve", "plm.approve.rd", "plm.approve.purchasing",
                 "plm.approve.production", "plm.approve.quality", "plm.documents.confidential"),
    stage=4,
)
