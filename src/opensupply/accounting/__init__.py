"""The general ledger: chart of accounts, journals, balanced journal entries (append-only;
corrections are reversals), accounting periods, and the reports drawn from them."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="accounting",
    label=_l("财务"),
    depends=("masterdata",),
    core=True,
    menu=(
        MenuItem(_l("凭证"), "/accounting/entries", "accounting.read"),
        MenuItem(_l("科目表"), "/accounting/accounts", "accounting.read"),
        MenuItem(_l("科目余额表"), "/accounting/trial-balance", "accounting.read"),
        MenuItem(_l("明细账"), "/accounting/reports/general-ledger", "accounting.read"),
        MenuItem(_l("利润表"), "/accounting/reports/income-statement", "accounting.read"),
        MenuItem(_l("资产负债表"), "/accounting/reports/balance-sheet", "accounting.read"),
        MenuItem(_l("合并报表"), "/accounting/reports/consolidated", "accounting.read"),
        MenuItem(_l("会计期间"), "/accounting/periods", "accounting.read"),
    ),
    permissions=("accounting.read", "accounting.write", "accounting.approve", "accounting.close"),
)
