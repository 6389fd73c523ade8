"""The columns of each 进销存 report: one definition for the page table, the spreadsheet and the chart."""

from __future__ import annotations

from opensupply.core.i18n import lazy_gettext as _l

# key, label, kind (text | qty | money | pct)
STOCK = (("sku", _l("商品编码"), "text"), ("product_name", _l("商品名称"), "text"),
         ("opening_qty", _l("期初数量"), "qty"), ("opening_value", _l("期初金额"), "money"),
         ("in_qty", _l("收入数量"), "qty"), ("in_value", _l("收入金额"), "money"),
         ("out_qty", _l("发出数量"), "qty"), ("out_value", _l("发出金额"), "money"),
         ("closing_qty", _l("结存数量"), "qty"), ("closing_value", _l("结存金额"), "money"))
PURCHASES = (("code", _l("编码"), "text"), ("name", _l("名称"), "text"), ("documents", _l("单据数"), "qty"),
             ("quantity", _l("入库数量"), "qty"), ("amount", _l("入库金额"), "money"),
             ("billed", _l("已开票金额(不含税)"), "money"))
SALES = (("code", _l("编码"), "text"), ("name", _l("名称"), "text"), ("documents", _l("发票数"), "qty"),
         ("quantity", _l("数量"), "qty"), ("amount_untaxed", _l("不含税金额"), "money"),
         ("amount_tax", _l("税额"), "money"), ("amount_total", _l("价税合计"), "money"))
MARGIN = (("code", _l("编码"), "text"), ("name", _l("名称"), "text"), ("quantity", _l("数量"), "qty"),
          ("revenue", _l("收入"), "money"), ("cost", _l("成本"), "money"), ("margin", _l("毛利"), "money"),
          ("margin_pct", _l("毛利率(%)"), "pct"))
SALESPEOPLE = (("code", _l("工号"), "text"), ("name", _l("销售员"), "text"), ("documents", _l("发票数"), "qty"),
               ("revenue", _l("收入(不含税)"), "money"), ("cost", _l("成本"), "money"), ("margin", _l("毛利"), "money"),
               ("margin_pct", _l("毛利率(%)"), "pct"), ("invoiced", _l("开票金额"), "money"),
               ("collected", _l("已回款"), "money"), ("collection_pct", _l("回款率(%)"), "pct"),
               ("overdue", _l("逾期未收"), "money"))
BUYERS = (("code", _l("工号"), "text"), ("name", _l("采购员"), "text"), ("documents", _l("采购订单数"), "qty"),
          ("lines", _l("收货行数"), "qty"), ("on_time", _l("按期到货"), "qty"), ("late", _l("延迟到货"), "qty"),
          ("on_time_pct", _l("准时率(%)"), "pct"), ("amount", _l("入库金额"), "money"))
