"""CRM: leads, contacts, opportunities, activities and reminders, quotes that become ERP
sales orders, collections, customer profiles and segments, after-sales tickets."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="crm",
    label=_l("客户关系"),
    depends=("masterdata", "erp"),
    menu=(
        MenuItem(_l("我的一天"), "/crm/my-day", "crm.read"),
        MenuItem(_l("线索"), "/crm/leads", "crm.read"),
        MenuItem(_l("商机"), "/crm/opportunities", "crm.read"),
        MenuItem(_l("跟进记录"), "/crm/activities", "crm.read"),
        MenuItem(_l("客户"), "/crm/customers", "crm.read"),
        MenuItem(_l("售后工单"), "/crm/tickets", "crm.read"),
        MenuItem(_l("营销活动"), "/crm/campaigns", "crm.read"),
    ),
    handlers=("opensupply.crm.service",),
    permissions=("crm.read", "crm.write", "crm.admin"),
    stage=1,
)
