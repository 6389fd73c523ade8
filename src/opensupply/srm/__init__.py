"""SRM — supplier relationship management: supplier profiles on top of master-data partners (status 潜在 /
合格 / 暂停 / 淘汰 with history and four-eyes onboarding approval, categories, contacts, bank details,
certificates with expiry reminders), contracts and price agreements with price breaks checked against
purchase prices, supplier complaints (nonconformance tickets), RFQs/tenders, the supplier portal (with
advance ship notices) and scorecards. Status is enforced in ERP purchasing through a lazily imported hook
(`suppliers.require_can_order`)."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="srm",
    label=_l("供应商管理"),
    depends=("erp",),
    menu=(
        MenuItem(_l("供应商档案"), "/srm/suppliers", "srm.read"),
        MenuItem(_l("准入审批"), "/srm/onboarding", "srm.read"),
        MenuItem(_l("资质到期提醒"), "/srm/certificates/expiring", "srm.read"),
        MenuItem(_l("采购合同与价格协议"), "/srm/contracts", "srm.read"),
        MenuItem(_l("供应商投诉"), "/srm/complaints", "srm.read"),
        MenuItem(_l("询价招标"), "/srm/rfqs", "srm.read"),
        MenuItem(_l("发货通知"), "/srm/asns", "srm.read"),
        MenuItem(_l("逾期采购订单"), "/srm/late-orders", "srm.read"),
        MenuItem(_l("来料检验"), "/srm/receipt-inspections", "srm.read"),
        MenuItem(_l("供应商评分卡"), "/srm/scorecards", "srm.read"),
        MenuItem(_l("供应商门户账号"), "/srm/portal-accounts", "srm.read"),
    ),
    landing=MenuItem(_l("供应商门户"), "/portal", "srm.portal"),
    handlers=("opensupply.srm.scorecard", "opensupply.srm.jobs", "opensupply.srm.asn"),
    permissions=("srm.read", "srm.write", "srm.approve", "srm.portal"),
    stage=4,
)
