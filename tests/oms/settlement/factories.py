"""Settlement test helpers: a shop with its platform customer, channel orders in given states,
and real-shaped platform bills (支付宝账务明细 in GBK with its # preamble, 京东结算单, 拼多多货款账单,
generic CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from dataclasses import dataclass
from decimal import Decimal

from opensupply.accounting import service as gl
from opensupply.core import resource as rs
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata import resources
from opensupply.oms.models import OmsOrder, OmsOrderLine, OmsShop
from tests import factories as f

D = Decimal
UTC = dt.UTC
_seq = itertools.count(1)


@dataclass
class Shop:
    db: object
    company: int
    shop_id: int
    customer: int

    def uow(self, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(Actor.system(self.company), db=self.db, readonly=readonly)


def shop(db, *, channel: str = "taobao", settings: dict | None = None, company: int | None = None,
         customer: int | None = None) -> Shop:
    """An OMS shop whose ERP orders are made out to `customer` (a new platform customer by default)."""
    company = company or f.company(db)
    n = next(_seq)
    with UnitOfWork(Actor.system(company), db=db) as uow:
        customer = customer or rs.create_record(uow, resources.partners, {
            "code": f"PLAT-{n}", "name": f"淘宝平台消费者{n}", "is_customer": True}).id
        s = OmsShop(code=f"TB{n}", name=f"佳源淘宝旗舰店{n}", channel=channel, customer_id=customer,
                    settings=settings)
        uow.add(s)
        uow.flush()
        return Shop(db, company, s.id, customer)


def order(s: Shop, channel_order_id: str, paid: str, *, status: str = "shipped", refund_status: str = "none",
          paid_at: dt.datetime | None = None) -> int:
    paid_at = paid_at or dt.datetime(2026, 5, 10, 4, 0, tzinfo=UTC)
    with s.uow() as uow:
        o = OmsOrder(number=f"OMS{next(_seq):06d}", shop_id=s.shop_id, channel="taobao",
                     channel_order_id=channel_order_id, status=status, refund_status=refund_status,
                     paid_amount=D(paid), goods_amount=D(paid), ordered_at=paid_at, paid_at=paid_at,
                     receiver_name="张三", address="浙江省杭州市西湖区文三路 90 号")
        o.lines.append(OmsOrderLine(line_no=1, channel_sku="YS-CUP-350", title="不锈钢保温杯 350ml",
                                    quantity=D(1), unit_price=D(paid), paid_amount=D(paid)))
        uow.add(o)
        uow.flush()
        return o.id


# ------------------------------------------------------------------ bills
ALIPAY_HEADER = ["账务流水号", "业务流水号", "商户订单号", "商品名称", "发生时间", "对方账号", "收入金额（+元）",
                 "支出金额（-元）", "账户余额（元）", "交易渠道", "业务类型", "备注"]


def alipay_bill(rows: list[dict], *, month: str = "2026-05", encoding: str = "gbk") -> bytes:
    """A 支付宝账务明细 export: rows are dicts with tid, type, income/expense, at, remark, goods."""
    y, m = (int(x) for x in month.split("-"))
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    buf = io.StringIO()
    buf.write("#支付宝账务明细查询\n#账号：[20880512402512820156]\n")
    buf.write(f"#起始日期：[{y}年{m:02d}月01日 00:00:00]   终止日期：[{ny}年{nm:02d}月01日 00:00:00]\n")
    buf.write("#-----------------------------------------账务明细列表----------------------------------------\n")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ALIPAY_HEADER)
    balance = D("10000.00")
    income_total = expense_total = D(0)
    n_in = n_out = 0
    for i, r in enumerate(rows, start=1):
        inc_text, exp_text = r.get("income", "0.00"), r.get("expense", "0.00")  # written as given
        inc, exp = D(inc_text.replace(",", "")), abs(D(exp_text.replace(",", "")))
        balance += inc - exp
        income_total += inc
        expense_total += exp
        n_in += inc > 0
        n_out += exp > 0
        tid = r.get("tid")
        merchant = r.get("merchant", f"T200P{tid}" if tid and r["type"] in ("交易付款", "在线支付", "交易退款") else "")
        w.writerow([f"2026{i:011d}\t", f"2026051022001{i:06d}\t", f"{merchant}\t" if merchant else "",
                    r.get("goods", "不锈钢保温杯 350ml"), r.get("at", f"{month}-12 10:{i % 60:02d}:00"),
                    r.get("party", "张三 (138****8000)"), inc_text, exp_text, f"{balance:.2f}\t", "支付宝",
                    r["type"], r.get("remark", "")])
    buf.write("#-----------------------------------------账务明细列表结束------------------------------------\n")
    buf.write(f"#支出合计：{n_out}笔，共{expense_total:.2f}元\n#收入合计：{n_in}笔，共{income_total:.2f}元\n")
    buf.write("#导出时间：[2026年06月02日 09:12:45]\n")
    return buf.getvalue().encode(encoding)


def jd_bill(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["订单编号", "商品编号", "商品名称", "费用项", "金额", "结算时间", "结算状态", "备注"])
    for order_id, item, amount, at, status in rows:
        w.writerow([order_id, "100012043978", "不锈钢保温杯 350ml", item, amount, at, status, ""])
    return buf.getvalue().encode(encoding)


def pdd_bill(rows: list[list[str]], encoding: str = "gb18030") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["商户订单号", "发生时间", "收入金额（元）", "支出金额（元）", "账务类型", "备注", "业务描述"])
    for order_id, at, income, expense, kind, remark in rows:
        w.writerow([order_id, at, income, expense, kind, remark, ""])
    return buf.getvalue().encode(encoding)


def generic_bill(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["order_id", "type", "amount", "date", "description"])
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def balance(s: Shop, role: str, partner_id: int | None = None) -> Decimal:
    with s.uow(readonly=True) as uow:
        return gl.account_balance(uow, (gl.account_code(role),), partner_id=partner_id)
