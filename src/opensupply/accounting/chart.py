"""The preset chart of accounts for a small company (小企业会计准则 account set), with the
four-digit codes Chinese bookkeeping software uses (6001 主营业务收入, 6401 主营业务成本 …).
Editable per company after creation."""

from __future__ import annotations

# code, name, type, normal balance side, partner required
PRESET: tuple[tuple[str, str, str, str, bool], ...] = (
    ("1001", "库存现金", "asset", "debit", False),
    ("1002", "银行存款", "asset", "debit", False),
    ("1012", "其他货币资金", "asset", "debit", False),  # 支付宝 / 微信 / platform balances
    ("1121", "应收票据", "asset", "debit", True),
    ("1122", "应收账款", "asset", "debit", True),
    ("1123", "预付账款", "asset", "debit", True),
    ("1221", "其他应收款", "asset", "debit", False),
    ("1402", "在途物资", "asset", "debit", False),
    ("1403", "原材料", "asset", "debit", False),
    ("1405", "库存商品", "asset", "debit", False),
    ("1411", "周转材料", "asset", "debit", False),
    ("1601", "固定资产", "asset", "debit", False),
    ("1602", "累计折旧", "asset", "credit", False),
    ("1901", "待处理财产损溢", "asset", "debit", False),
    ("2001", "短期借款", "liability", "credit", False),
    ("2201", "应付票据", "liability", "credit", True),
    ("2202", "应付账款", "liability", "credit", True),
    ("220201", "应付账款-暂估", "liability", "credit", False),  # goods received, not yet invoiced
    ("2203", "预收账款", "liability", "credit", True),
    ("2211", "应付职工薪酬", "liability", "credit", False),
    ("2221", "应交税费", "liability", "credit", False),
    ("222101", "应交增值税-进项税额", "liability", "credit", False),
    ("222102", "应交增值税-销项税额", "liability", "credit", False),
    ("2241", "其他应付款", "liability", "credit", False),
    ("3001", "实收资本", "equity", "credit", False),
    ("3002", "资本公积", "equity", "credit", False),
    ("3101", "盈余公积", "equity", "credit", False),
    ("3103", "本年利润", "equity", "credit", False),
    ("3104", "利润分配", "equity", "credit", False),
    ("5001", "生产成本", "cost", "debit", False),
    ("5101", "制造费用", "cost", "debit", False),
    ("6001", "主营业务收入", "income", "credit", False),
    ("6051", "其他业务收入", "income", "credit", False),
    ("6111", "投资收益", "income", "credit", False),
    ("6301", "营业外收入", "income", "credit", False),
    ("6401", "主营业务成本", "expense", "debit", False),
    ("6402", "其他业务成本", "expense", "debit", False),
    ("6403", "税金及附加", "expense", "debit", False),
    ("6601", "销售费用", "expense", "debit", False),
    ("660101", "销售费用-平台服务费", "expense", "debit", False),  # platform commissions and service fees
    ("660102", "销售费用-运费", "expense", "debit", False),  # outbound freight (carriers' bills)
    ("6602", "管理费用", "expense", "debit", False),
    ("6603", "财务费用", "expense", "debit", False),
    ("660301", "财务费用-汇兑损益", "expense", "debit", False),
    ("6711", "营业外支出", "expense", "debit", False),
    ("6801", "所得税费用", "expense", "debit", False),
)

JOURNALS = (("GEN", "记账凭证", "general"), ("SAL", "销售", "sale"), ("PUR", "采购", "purchase"),
            ("BNK", "银行", "bank"), ("CSH", "现金", "cash"), ("STK", "存货", "stock"))

# Accounts that other modules post to, by role, so no module hard-codes a number.
ROLES = {
    "cash": "1001", "bank": "1002", "platform_cash": "1012", "receivable": "1122", "prepayment": "1123",
    "goods_in_transit": "1402", "raw_materials": "1403", "inventory": "1405", "inventory_loss": "1901",
    "payable": "2202", "grni": "220201", "customer_advance": "2203", "vat_input": "222101",
    "vat_output": "222102", "capital": "3001", "current_year_profit": "3103", "wip": "5001", "overhead_applied": "5101",
    "revenue": "6001", "other_revenue": "6051", "cogs": "6401", "selling_expense": "6601",
    "platform_fee": "660101", "freight_expense": "660102",
    "admin_expense": "6602", "finance_expense": "6603", "fx_difference": "660301", "non_operating_expense": "6711",
}
