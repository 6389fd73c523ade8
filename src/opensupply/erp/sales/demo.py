"""Demo order-to-cash: five months of quotes and orders from direct B2B customers and the Tmall and
JD shops, deliveries (some partial, with backorders still open), 专票/普票 invoices, receipts —
platform settlements within days, B2B customers on terms, some of them late (overdue, with a
collection reminder), one over-payment kept as credit — and a cancelled order and a credit note.
Everything goes through the services, so the books balance and stock agrees with the ledger."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import select

from opensupply.core.errors import Conflict, InsufficientStock
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md

from . import service as svc

# customer code → (name when created here, payment terms, credit limit, tax id, invoice type)
CUSTOMERS = {
    "C-HZJY": ("杭州佳源商贸有限公司", 30, "120000", "91330102MA27XK8Q5B", "special"),
    "C-SHLX": ("上海乐享家居连锁", 45, "60000", "91310115MA1H9R3T2C", "special"),
    "C-TMALL": ("天猫旗舰店客户", 7, None, None, "normal"),
    "C-JD": ("京东自营（北京京东世纪贸易有限公司）", 30, None, "91110302562134916R", "special"),
}
CHANNEL_OF = {"C-HZJY": "direct", "C-SHLX": "direct", "C-TMALL": "tmall", "C-JD": "jd"}
GOODS = ("YS-CUP-350", "YS-CUP-500", "YS-TOWEL-01", "YS-PILLOW-48", "YS-BOX-L", "YS-HANGER-10", "YS-KETTLE-17")
WEEKS = 21


def _customers(uow: UnitOfWork, company: md.Company) -> dict[str, md.Partner]:
    found = {p.code: p for p in uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == company.id, md.Partner.is_customer.is_(True)))}
    for code, (name, terms, limit, tax_id, _kind) in CUSTOMERS.items():
        p = found.get(code)
        if p is None:
            p = md.Partner(company_id=company.id, code=code, name=name, is_customer=True, province="北京市",
                           city="北京市", district="大兴区", address="亦庄经济开发区科创十一街 18 号",
                           contact_name="采销部", phone="010-89126666")
            uow.add(p)
            found[code] = p
        p.payment_terms_days = terms
        p.credit_limit = Decimal(limit) if limit else None
        p.tax_id = p.tax_id or tax_id
        p.contact_name = p.contact_name or {"C-HZJY": "周经理", "C-SHLX": "沈采购"}.get(code)
    uow.flush()
    return {code: found[code] for code in CUSTOMERS if code in found}


def seed(uow: UnitOfWork, company: md.Company) -> None:
    rnd = random.Random(20260415)  # the same demo every time
    today = company_today(uow)
    products = {p.sku: p for p in uow.session.scalars(select(md.Product).where(
        md.Product.company_id == company.id, md.Product.sku.in_(GOODS)))}
    if not products:
        return
    customers = _customers(uow, company)
    employees = list(uow.session.scalars(select(md.Employee.id).where(md.Employee.company_id == company.id)
                                         .order_by(md.Employee.id)))
    salesperson = employees[0] if employees else None
    start = today - dt.timedelta(weeks=WEEKS)
    paid_late: set[str] = {"C-SHLX"}  # this customer pays slowly: overdue invoices in the aging
    for week in range(WEEKS):
        monday = start + dt.timedelta(weeks=week)
        for code in rnd.sample(sorted(customers), rnd.randint(2, 4)):
            day = monday + dt.timedelta(days=rnd.randint(0, 4))
            if day >= today:
                continue
            _one_order(uow, rnd, customers[code], products, day, today, salesperson,
                       late=code in paid_late and week < WEEKS - 8)
    _open_business(uow, rnd, customers, products, today, salesperson)


def _lines(uow: UnitOfWork, rnd: random.Random, code: str, products: dict) -> list[svc.SalesLineIn]:
    platform = CHANNEL_OF[code] != "direct"
    skus = rnd.sample(sorted(products), rnd.randint(1, 2 if platform else 3))
    lines = []
    for sku in skus:
        p = products[sku]
        if sku == "YS-KETTLE-17":
            qty = rnd.randint(1, 2)
        elif platform:
            qty = rnd.randint(2, 12)
        else:
            qty = rnd.randint(2, 8) * 10
        price = Decimal(p.list_price or 0)
        if not platform:  # wholesale: 62–70 % of the shop price, before VAT
            price = (price * Decimal(rnd.choice(("0.62", "0.65", "0.68", "0.70"))) / Decimal("1.13")).quantize(
                Decimal("0.01"))
        if p.tracking == "serial" and inv.available(uow, p.id) < qty + 3:
            continue  # keep a few serial-numbered kettles on the shelf
        lines.append(svc.SalesLineIn(product_id=p.id, quantity=qty, unit_price=price,
                                     discount_pct=rnd.choice((0, 0, 0, 5)) if not platform else 0))
    if not lines:  # only kettles were drawn and too few are left: sell towels instead
        fallback = products.get("YS-TOWEL-01") or next(p for p in products.values() if p.tracking != "serial")
        lines.append(svc.SalesLineIn(product_id=fallback.id, quantity=10))
    return lines


def _one_order(uow: UnitOfWork, rnd: random.Random, customer: md.Partner, products: dict, day: dt.date,
               today: dt.date, salesperson: int | None, *, late: bool) -> None:
    code = customer.code
    channel = CHANNEL_OF[code]
    source_ref = f"{channel.upper()}{day:%Y%m%d}{rnd.randint(1000, 9999)}" if channel != "direct" else None
    order = svc.create_sales_order(uow, customer_id=customer.id, lines=_lines(uow, rnd, code, products),
                                   channel=channel, source_ref=source_ref, order_date=day, salesperson_id=salesperson,
                                   requested_date=day + dt.timedelta(days=3))
    try:
        svc.confirm_sales_order(uow, order.id)
    except Conflict:  # over the credit limit: the sales manager lets the regular customer through
        svc.confirm_sales_order(uow, order.id, override_credit=True, override_reason="长期合作客户，经理特批")
    ship_day = min(day + dt.timedelta(days=rnd.randint(1, 3)), today)
    reserved = svc.reserved_quantities(uow, order)
    partial = channel == "direct" and rnd.random() < 0.25
    picks = []
    for ln in order.lines:
        have = reserved.get(ln.id, Decimal(0))
        qty = min(have, (ln.quantity * Decimal("0.6")).to_integral_value()) if partial else have
        if qty > 0:
            picks.append(svc.DeliveryLineIn(quantity=qty, order_line_id=ln.id))
    if not picks:
        return
    try:
        svc.deliver(uow, order.id, picks, date=ship_day)
    except InsufficientStock:
        return
    if partial and ship_day + dt.timedelta(days=7) < today and rnd.random() < 0.7:
        try:  # the rest follows a week later
            svc.deliver(uow, order.id, date=ship_day + dt.timedelta(days=7))
            ship_day += dt.timedelta(days=7)
        except (InsufficientStock, Conflict):  # short of stock, or nothing was left to ship
            pass
    kind = CUSTOMERS[code][4]
    invoice = svc.invoice_order(uow, order.id, invoice_type=kind, invoice_date=ship_day)
    terms = customer.payment_terms_days or 0
    if channel != "direct":
        pay_day = ship_day + dt.timedelta(days=rnd.randint(3, 10))  # platform settlement
    else:
        pay_day = ship_day + dt.timedelta(days=terms + rnd.randint(-5, 5 if not late else 60))
    if pay_day >= today or (late and rnd.random() < 0.5):
        return  # not paid yet: open (maybe overdue) in the aging
    amount = Decimal(invoice.amount_total) - Decimal(invoice.amount_paid)
    if amount <= 0:
        return
    method = {"tmall": "支付宝结算", "jd": "京东结算"}.get(channel, "银行转账")
    account = "platform_cash" if channel != "direct" else "bank"
    svc.register_receipt(uow, customer.id, amount, [(invoice.id, amount)], receipt_date=pay_day, account=account,
                         method=method, reference=f"{pay_day:%Y%m%d}{rnd.randint(100000, 999999)}")


def _open_business(uow: UnitOfWork, rnd: random.Random, customers: dict, products: dict, today: dt.date,
                   salesperson: int | None) -> None:
    """This week's work in progress: quotes out, orders waiting to ship, a cancelled order,
    an advance payment, a credit note and a collection call."""
    hz, lx = customers.get("C-HZJY"), customers.get("C-SHLX")
    cup, towel = products.get("YS-CUP-500"), products.get("YS-TOWEL-01")
    if hz is None or cup is None or towel is None:
        return
    q1 = svc.create_quote(uow, customer_id=hz.id, salesperson_id=salesperson, quote_date=today - dt.timedelta(days=3),
                          valid_until=today + dt.timedelta(days=27), notes="中秋团购礼品",
                          lines=[svc.SalesLineIn(product_id=cup.id, quantity=300, unit_price="58.00"),
                                 svc.SalesLineIn(product_id=towel.id, quantity=300, unit_price="26.50")])
    svc.mark_quote_sent(uow, q1.id)
    svc.create_quote(uow, customer_id=hz.id, salesperson_id=salesperson, quote_date=today,
                     lines=[svc.SalesLineIn(product_id=products["YS-PILLOW-48"].id, quantity=40, unit_price="98.00")]
                     if "YS-PILLOW-48" in products else [svc.SalesLineIn(product_id=cup.id, quantity=10)])
    # confirmed, waiting in the warehouse
    waiting = svc.create_sales_order(uow, customer_id=hz.id, order_date=today - dt.timedelta(days=1),
                                     salesperson_id=salesperson, requested_date=today + dt.timedelta(days=2),
                                     lines=[svc.SalesLineIn(product_id=cup.id, quantity=60, unit_price="56.00")])
    try:
        svc.confirm_sales_order(uow, waiting.id)
    except Conflict:
        svc.confirm_sales_order(uow, waiting.id, override_credit=True, override_reason="长期合作客户，经理特批")
    svc.create_sales_order(uow, customer_id=hz.id, order_date=today, salesperson_id=salesperson,
                           notes="客户电话下单，待确认价格",
                           lines=[svc.SalesLineIn(product_id=towel.id, quantity=100, unit_price="27.00")])
    cancelled = svc.create_sales_order(uow, customer_id=customers.get("C-TMALL", hz).id, channel="tmall",
                                       source_ref=f"TMALL{today:%Y%m%d}0001", order_date=today - dt.timedelta(days=2),
                                       lines=[svc.SalesLineIn(product_id=cup.id, quantity=2)], confirm=True)
    svc.cancel_sales_order(uow, cancelled.id, "买家申请退款（未发货）")
    # an advance for the quoted group purchase: kept as the customer's credit on 2203
    svc.register_receipt(uow, hz.id, "5000.00", [], receipt_date=today - dt.timedelta(days=4),
                         method="银行转账", reference="预付款", notes="中秋团购预付款")
    if lx is not None:
        overdue = svc.collections(uow, lx.id, as_of=today)["overdue"]
        if overdue:
            svc.record_reminder(uow, lx.id, channel="phone", note="财务沈小姐表示本月 25 日前安排付款",
                                promised_date=today + dt.timedelta(days=7), reminder_date=today)
    # an invoice issued with the wrong tax rate, cancelled by a red credit note and issued again
    last = uow.session.scalars(select(svc.CustomerInvoice).where(
        svc.CustomerInvoice.company_id == hz.company_id, svc.CustomerInvoice.customer_id == hz.id,
        svc.CustomerInvoice.state == "posted", svc.CustomerInvoice.kind == "invoice")
        .order_by(svc.CustomerInvoice.id.desc())).first()
    if last is not None:
        svc.cancel_invoice(uow, last.id, "购买方名称有误，红冲重开", credit_date=today)
        svc.invoice_order(uow, last.order_id, invoice_type="special", invoice_date=today, apply_credit=False)
