"""ERP: purchasing (procure-to-pay), sales (order-to-cash) and invoicing, 进销存 reports,
and later production planning (MRP) in `planning/`. Each area is a subpackage with its own
models/service/api/web; this package mounts them together."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="erp",
    label=_l("进销存"),
    depends=("masterdata", "inventory", "accounting"),
    menu=(
        MenuItem(_l("采购申请"), "/erp/purchase-requests", "erp.purchase"),
        MenuItem(_l("采购订单"), "/erp/purchase-orders", "erp.purchase"),
        MenuItem(_l("采购收货"), "/erp/receipts", "erp.purchase"),
        MenuItem(_l("供应商发票"), "/erp/vendor-bills", "erp.purchase"),
        MenuItem(_l("付款"), "/erp/payments", "erp.payments"),
        MenuItem(_l("应付账龄"), "/erp/reports/ap-aging", "erp.purchase"),
        MenuItem(_l("采购审批规则"), "/erp/purchase-approval-rules", "erp.purchase_approve"),
        MenuItem(_l("销售报价"), "/erp/quotes", "erp.sales"),
        MenuItem(_l("销售订单"), "/erp/sales-orders", "erp.sales"),
        MenuItem(_l("销售发货"), "/erp/deliveries", "erp.sales"),
        MenuItem(_l("销售发票"), "/erp/invoices", "erp.invoicing"),
        MenuItem(_l("收款"), "/erp/customer-receipts", "erp.payments"),
        MenuItem(_l("应收账龄"), "/erp/reports/ar-aging", "erp.read"),
        MenuItem(_l("催款"), "/erp/collections", "erp.read"),
        MenuItem(_l("进销存报表"), "/erp/reports", "erp.reports"),
        MenuItem(_l("集团内部交易"), "/erp/intercompany", "erp.read"),
        MenuItem(_l("生产计划"), "/erp/planning", "erp.planning"),
        MenuItem(_l("计划参数"), "/erp/planning/policies", "erp.planning"),
        MenuItem(_l("产能粗算"), "/erp/planning/capacity", "erp.planning"),
    ),
    permissions=("erp.read", "erp.purchase", "erp.purchase_approve", "erp.sales", "erp.invoicing",
                 "erp.payments", "erp.reports", "erp.planning", "erp.planning_run"),
    stage=1,
    handlers=("opensupply.erp.planning.service",  # registers the erp.mrp job kind
              "opensupply.erp.intercompany.service"),  # mirrors inter-company orders
)
