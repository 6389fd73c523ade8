"""Demo CRM data: leads from the usual Chinese channels (one asking twice), opportunities in
every stage, a quote made by ERP sales, follow-ups overdue / today / later for the `sales`
user, after-sales tickets on real orders, repurchase reminders and a campaign."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from opensupply.core.auth import User, UserCompany
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from . import rfm, sales_link
from . import schemas as s
from . import service as crm

LEADS = (
    ("王建国", "宁波甬城酒店用品有限公司", "采购经理", "138 5742 1001", None, "expo", "120000"),
    ("李晓敏", "苏州姑苏礼品公司", "总经理", "+86 139-1234-5678", "lixm@gusu-gift.cn", "website", "45000"),
    ("张婷", None, None, "186 0571 2233", None, "douyin", None),
    ("陈立", "温州鹿城母婴连锁", "店长", "0577-8812 3456", None, "referral", "30000"),
    ("刘佳", None, None, None, "liujia@163.com", "taobao", None),
    ("赵海", "合肥徽商福利采购中心", "采购", "13955123456", None, "expo", "80000"),
    ("孙悦", "南京金陵酒店", "行政主管", "025-8456 7890", "sunyue@jlhotel.cn", "phone", "25000"),
)
OPEN_DEALS = (  # customer code, name, stage, value, close in days
    ("C-HZJY", "佳源商贸 Q3 保温杯补货", "negotiation", "36000", 10),
    ("C-SHLX", "乐享家居门店毛巾换季", "qualified", "52000", 25),
    ("C-TMALL", "天猫双 11 备货", "initial", "150000", 60),
)
FOLLOW_UPS = (  # subject, kind, days from today (None = no date), customer code
    ("回访佳源商贸，确认补货数量", "call", -3, "C-HZJY"),
    ("催收乐享家居逾期货款", "call", -1, "C-SHLX"),
    ("拜访乐享家居采购部", "visit", 0, "C-SHLX"),
    ("微信发送新品目录给天猫客服", "wechat", 0, "C-TMALL"),
    ("邮件发送双 11 报价", "email", 3, "C-TMALL"),
    ("准备展会资料", "task", 7, None),
)
TICKETS = (  # customer code, subject, kind, priority, due in days, state
    ("C-SHLX", "收到的保温杯有 3 只漏水", "complaint", "high", -2, "in_progress"),
    ("C-HZJY", "毛巾颜色与样品不符，要求换货", "return", "normal", 2, "open"),
    ("C-TMALL", "顾客咨询电热水壶保修", "consult", "low", -10, "resolved"),
)


def _user(uow: UnitOfWork, company: md.Company, username: str) -> int | None:
    return uow.session.scalar(select(User.id).join(UserCompany, UserCompany.user_id == User.id)
                              .where(User.username == username, UserCompany.company_id == company.id))


def seed(uow: UnitOfWork, company: md.Company) -> None:
    today = crm.today(uow)
    sales_user = _user(uow, company, "sales")
    manager = _user(uow, company, "admin") or sales_user
    partners = {p.code: p for p in uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == company.id, md.Partner.is_customer.is_(True)))}
    for code, p in sorted(partners.items()):
        crm.ensure_customer_account(uow, p.id, owner_id=sales_user if code != "C-TMALL" else manager)
        crm.create_contact(uow, s.ContactIn(partner_id=p.id, name=f"{p.name[:2]}采购", title="采购负责人",
                                            phone=f"1380000{p.id:04d}", owner_id=sales_user, is_primary=True))

    leads = []
    for name, comp, title, phone, email, source, value in LEADS:
        leads.append(crm.create_lead(uow, s.LeadIn(name=name, company_name=comp, title=title, phone=phone,
                                                   email=email, source=source, owner_id=sales_user,
                                                   expected_value=Decimal(value) if value else None)).lead)
    # the same buyer asking again from Douyin, phone typed differently: flagged, not a new lead
    crm.create_lead(uow, s.LeadIn(name="王总", phone="+86 13857421001", source="douyin", owner_id=sales_user))
    crm.set_lead_state(uow, leads[2].id, "contacted")
    crm.set_lead_state(uow, leads[4].id, "lost", "只是比价，预算不足")
    converted = crm.convert_lead(uow, leads[0].id, s.LeadConvertIn(
        opportunity_name="甬城酒店客房保温杯定制", expected_value=Decimal("120000"),
        expected_close_date=today + dt.timedelta(days=20)))
    crm.set_stage(uow, converted["opportunity"].id, "qualified")
    second = crm.convert_lead(uow, leads[5].id, s.LeadConvertIn(
        opportunity_name="徽商中秋福利礼盒", expected_value=Decimal("80000"),
        expected_close_date=today + dt.timedelta(days=35)))
    opp = second["opportunity"]
    if sales_link.available():
        goods = uow.session.scalar(select(md.Product.sku).where(md.Product.company_id == company.id,
                                                                md.Product.sku == "YS-CUP-500"))
        if goods:
            crm.create_quote(uow, opp.id, s.QuoteIn(lines=[s.QuoteLineIn(product=goods, quantity=Decimal("800"),
                                                                         unit_price=Decimal("85"))]))
    for code, name, stage, value, days in OPEN_DEALS:
        if code in partners:
            crm.create_opportunity(uow, s.OpportunityIn(
                name=name, partner_id=partners[code].id, stage=stage, expected_value=Decimal(value),
                expected_close_date=today + dt.timedelta(days=days), owner_id=sales_user))
    won = crm.create_opportunity(uow, s.OpportunityIn(name="杭州亚运文创保温杯", expected_value=Decimal("18000"),
                                                      owner_id=sales_user, source="referral"))
    crm.set_stage(uow, won.id, "won")
    lost = crm.create_opportunity(uow, s.OpportunityIn(name="上海某连锁超市年度集采", expected_value=Decimal("300000"),
                                                       owner_id=sales_user, source="expo"))
    crm.set_stage(uow, lost.id, "lost", "价格高于竞品 8%")

    for subject, kind, days, code in FOLLOW_UPS:
        act = crm.create_activity(uow, s.ActivityIn(
            subject=subject, kind=kind, owner_id=sales_user,
            due_date=today + dt.timedelta(days=days) if days is not None else None,
            partner_id=partners[code].id if code in partners else None))
        if days == 3:
            act.remind_at = utcnow() - dt.timedelta(minutes=5)
    crm.create_activity(uow, s.ActivityIn(subject="电话介绍新品", kind="call", owner_id=sales_user,
                                          lead_id=leads[2].id, due_date=today - dt.timedelta(days=1), done=True,
                                          result="客户有兴趣，下周寄样"))

    orders = {f.partner_id: f for f in sales_link.order_facts(uow)}
    for code, subject, kind, priority, days, state in TICKETS:
        if code not in partners:
            continue
        order = orders.get(partners[code].id)
        t = crm.create_ticket(uow, s.TicketIn(subject=subject, partner_id=partners[code].id, kind=kind,
                                              priority=priority, owner_id=sales_user,
                                              sales_order_id=order.order_id if order else None,
                                              due_date=today + dt.timedelta(days=days)))
        if state == "in_progress":
            crm.set_ticket_state(uow, t.id, "in_progress")
        elif state == "resolved":
            crm.set_ticket_state(uow, t.id, "resolved", "已告知保修一年，凭发票免费维修")

    crm.check_repurchase(uow)
    summary = [x for x in crm.segment_summary(uow) if x["segment"] != "no_orders" and x["customers"]]
    if summary:
        best = max(summary, key=lambda x: (x["customers"], x["revenue"]))
        crm.create_campaign(uow, s.CampaignIn(name=f"{rfm.segment_label(best['segment'])}回馈季",
                                              segment=best["segment"], activity_kind="wechat", window_days=30,
                                              message="老客户专享：保温杯系列满 5000 减 300"))
