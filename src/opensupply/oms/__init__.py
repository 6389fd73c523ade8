"""OMS: one order stream out of every sales channel — intake from platform exports, APIs and
webhooks, dedupe, holds, merge and split, warehouse allocation, fulfilments for every sales
order, tracking numbers pushed back, returns, and platform settlement reconciliation."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="oms",
    label=_l("订单中心"),
    depends=("masterdata", "inventory", "erp"),
    menu=(
        MenuItem(_l("订单看板"), "/oms/dashboard", "oms.read"),
        MenuItem(_l("全部订单"), "/oms/orders", "oms.read"),
        MenuItem(_l("导入订单"), "/oms/imports/new", "oms.write"),
        MenuItem(_l("发货单"), "/oms/fulfilments", "oms.read"),
        MenuItem(_l("售后退货"), "/oms/returns", "oms.read"),
        MenuItem(_l("平台对账"), "/oms/settlements", "oms.settle"),
        MenuItem(_l("店铺设置"), "/oms/shops", "oms.admin"),
    ),
    # oms.buyer_data: sees buyers' names, phones and addresses unmasked
    permissions=("oms.read", "oms.write", "oms.admin", "oms.settle", "oms.buyer_data"),
    stage=2,
    handlers=("opensupply.oms.fulfilments", "opensupply.oms.intake", "opensupply.oms.pull",
              "opensupply.oms.tracking"),
)
