"""Demo supplier management for 杭州云杉家居: the two suppliers it already buys from are qualified (onboarding
requested by the buyer, approved by the admin — four eyes), a hardware supplier is suspended for late deliveries,
a plastics supplier waits for its onboarding decision. Contacts, certificates (宏达's ISO9001 runs out within
30 days, so a reminder is open), a price agreement with quantity breaks, a quality complaint on a towel lot, one
RFQ awarded on two bids (宏达 confirms its order in the portal and ships half with a ship notice) and one still
open, portal logins for the two bidders, and the monthly scorecards.

Runs after purchasing/sales/mes (their receipts feed the scorecards). Everything goes through the SRM services,
acting as the demo `buyer` (and `admin` for approvals) when those users exist."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from opensupply.core import auth
from opensupply.core import resource as rs
from opensupply.core.errors import ValidationFailed
from opensupply.core.sequences import company_today
from opensupply.core.types import utcnow
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.demo import DEMO_PORTAL_USERS
from opensupply.erp.purchasing import service as purchasing
from opensupply.masterdata import models as md
from opensupply.masterdata import resources as md_resources

from . import asn, complaints, contracts, portal, rfq, scorecard, suppliers
from .models import Supplier

# portal login → supplier code (the demo prints these with its users; same password as the demo users)
PORTAL_USERS = DEMO_PORTAL_USERS

# suppliers SRM adds to master data: code, name, province, city, district, address
NEW_PARTNERS = (
    ("S-JHWJ", "金华市恒通五金配件厂", "浙江省", "金华市", "婺城区", "工业园区 9 号"),
    ("S-NBSL", "宁波佳美塑料制品有限公司", "浙江省", "宁波市", "慈溪市", "周巷镇 128 号"),
)

# code, profile, categories, contacts (name, role, phone, email, primary),
# certificates (type, number, issuer, issued days ago, expires in days or None)
PROFILES = (
    ("S-YKSS", {"grade": "A", "main_products": "304 不锈钢板、保温杯壳体", "registered_capital": "5000000",
                "established_on": "2008-04-16"}, ["不锈钢", "五金"],
     (("王建国", "销售经理", "13857901234", "wangjg@hongda-ss.cn", True),
      ("李梅", "质量主管", "13857905678", "limei@hongda-ss.cn", False)),
     (("business_license", "91330784MA2D8K3X1H", "永康市市场监督管理局", 2900, None),
      ("iso9001", "CQC-Q-2023-08817", "中国质量认证中心", 1080, 18))),
    ("S-NTFZ", {"grade": "B", "main_products": "纯棉纱线、毛巾、枕芯", "registered_capital": "12000000",
                "established_on": "2003-09-02"}, ["纺织"],
     (("陈晓燕", "业务员", "13962801122", "chenxy@jinxiu-tex.cn", True),),
     (("business_license", "91320612MA1N5Q7C2F", "南通市通州区市场监督管理局", 4100, None),
      ("iso9001", "SGS-Q-2024-30215", "SGS 通标标准技术服务有限公司", 400, 695))),
    ("S-JHWJ", {"grade": "C", "main_products": "水壶配件、挂钩"}, ["五金"],
     (("赵刚", "厂长", "13605790987", None, True),),
     (("business_license", "91330702MA29J4R86T", "金华市婺城区市场监督管理局", 2200, None),)),
    ("S-NBSL", {"main_products": "PP 收纳箱、衣架"}, ["塑料制品"],
     (("孙丽", "销售", "13736105566", "sunli@jiamei-plastic.cn", True),),
     (("business_license", "91330282MA2H1Y5D0K", "慈溪市市场监督管理局", 1500, None),)),
)


def _actor(uow: UnitOfWork, username: str) -> Actor:
    user_id = uow.session.scalar(select(auth.User.id).where(auth.User.username == username))
    if user_id is None:
        return Actor.system(uow.company_id)
    return auth.actor_for_user(uow.session, user_id, uow.company_id)


def _deadline(days: int) -> dt.datetime:
    # bidding deadlines are instants: 17:00 Beijing time, `days` from now
    local = (utcnow() + dt.timedelta(days=days)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    return local.replace(hour=17, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def seed(uow: UnitOfWork, company: md.Company) -> None:
    partners = {p.code: p for p in uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == company.id, md.Partner.is_supplier.is_(True)))}
    if "S-YKSS" not in partners or "S-NTFZ" not in partners:
        return
    if uow.session.scalar(select(Supplier.id).where(Supplier.company_id == company.id).limit(1)):
        return  # already seeded
    today = company_today(uow)
    system = uow.actor
    for code, name, prov, city, dist, addr in NEW_PARTNERS:
        if code not in partners:
            partners[code] = rs.create_record(uow, md_resources.partners, {
                "code": code, "name": name, "is_supplier": True, "province": prov, "city": city,
                "district": dist, "address": addr, "phone": "0579-82226666"})
    buyer, admin = _actor(uow, "buyer"), _actor(uow, "admin")
    try:
        uow.actor = buyer
        profiles: dict[str, Supplier] = {}
        for code, profile, cats, people, certs in PROFILES:
            sup = suppliers.register_supplier(uow, partners[code].id, {**profile, "categories": cats})
            profiles[code] = sup
            for name, role, phone, email, primary in people:
                suppliers.add_contact(uow, sup.id, {"name": name, "role": role, "phone": phone, "email": email,
                                                    "is_primary": primary})
            for cert_type, number, issuer, issued_ago, expires_in in certs:
                suppliers.add_certificate(uow, sup.id, {
                    "cert_type": cert_type, "number": number, "issuer": issuer,
                    "issued_on": today - dt.timedelta(days=issued_ago),
                    "expiry_date": today + dt.timedelta(days=expires_in) if expires_in is not None else None})
        # onboarding: the buyer asks, the admin decides (never the same person)
        requests = {code: suppliers.request_onboarding(uow, profiles[code].id, note)
                    for code, note in (("S-YKSS", "长期合作的不锈钢供应商，资质齐全"),
                                       ("S-NTFZ", "毛巾与纱线主力供应商"), ("S-JHWJ", "水壶配件备选供应商"))}
        suppliers.request_onboarding(uow, profiles["S-NBSL"].id, "收纳箱新供应商，样品已通过测试")  # stays pending
        uow.actor = admin
        for ob in requests.values():
            suppliers.approve_onboarding(uow, ob.id, "同意准入")
        suppliers.change_status(uow, profiles["S-JHWJ"].id, "suspended", "连续两批交货延误超过 10 天，整改期间暂停下单")
        suppliers.remind_expiring(uow, 30)

        # the yearly price agreement with 宏达, cheaper by quantity
        contract = contracts.create_contract(uow, {
            "partner": "S-YKSS", "title": "年度不锈钢原材料及保温杯供货协议",
            "valid_from": today - dt.timedelta(days=60), "valid_to": today + dt.timedelta(days=305),
            "payment_terms_days": 30, "payment_terms": "月结 30 天", "prices": [
                {"product": "RM-SS304", "min_quantity": 0, "unit_price": "17.50"},
                {"product": "RM-SS304", "min_quantity": 1000, "unit_price": "16.90"},
                {"product": "RM-SS304", "min_quantity": 3000, "unit_price": "16.30"},
                {"product": "YS-CUP-350", "min_quantity": 0, "unit_price": "32.50"},
                {"product": "YS-CUP-350", "min_quantity": 500, "unit_price": "31.00"}]})
        contracts.activate_contract(uow, contract.id)

        # a complaint on the towels of 锦绣: the supplier has proposed its corrective action
        uow.actor = buyer
        complaint = complaints.open_complaint(uow, {
            "partner": "S-NTFZ", "title": "毛巾洗涤后掉色", "severity": "major", "product": "YS-TOWEL-01",
            "lot": "TW2607-01", "defect_quantity": "12", "supplier_contact": "陈晓燕",
            "defect_description": "客户反馈首次洗涤后明显掉色，抽检 50 条中 12 条色牢度不达标",
            "reported_on": today - dt.timedelta(days=9), "due_date": today + dt.timedelta(days=5)})
        complaints.propose_action(uow, complaint.id, "更换染料批次并增加固色工序，后续每批附色牢度检测报告")

        # portal logins for the two bidders
        password = uow.session.info.get("demo_password")
        accounts = {}
        for username, code in PORTAL_USERS:
            try:
                acc, _pw = portal.invite_supplier_user(uow, code, username=username, password=password)
            except ValidationFailed:  # a demo password too weak for the policy: the login gets its own
                acc, _pw = portal.invite_supplier_user(uow, code, username=username)
            accounts[code] = acc

        def as_supplier(code: str) -> None:
            uow.actor = auth.actor_for_user(uow.session, accounts[code].user_id, uow.company_id)

        # RFQ 1: storage boxes and hangers, both suppliers bid, closed by hand and awarded line by line
        done = rfq.create_rfq(uow, title="收纳箱及衣架补货询价", suppliers=["S-YKSS", "S-NTFZ"],
                              deadline=_deadline(3), terms="含税含运费到杭州主仓，月结 30 天",
                              lines=[rfq.RfqLineIn("YS-BOX-L", 300, required_date=today + dt.timedelta(days=20)),
                                     rfq.RfqLineIn("YS-HANGER-10", 1000,
                                                   required_date=today + dt.timedelta(days=20))])
        rfq.open_rfq(uow, done.id)
        box, hanger = done.lines
        for code, prices in (("S-YKSS", (("21.50", 10), ("9.80", 12))), ("S-NTFZ", (("22.80", 7), ("9.20", 10)))):
            as_supplier(code)
            portal.submit_bid(uow, done.id, [portal.BidLineIn(box.id, prices[0][0], prices[0][1]),
                                             portal.BidLineIn(hanger.id, prices[1][0], prices[1][1])],
                              payment_terms="月结 30 天", validity_days=30)
        uow.actor = buyer
        rfq.close_rfq(uow, done.id)
        awarded = rfq.award_lowest(uow, done.id)
        # 宏达's order goes out; 宏达 confirms a date in the portal and ships half of it with a ship notice
        yk_order = next((o["id"] for o in awarded["orders"] if o["supplier_id"] == accounts["S-YKSS"].partner_id),
                        None)
        if yk_order:
            purchasing.confirm_order(uow, yk_order)
            as_supplier("S-YKSS")
            portal.confirm_order(uow, yk_order, today + dt.timedelta(days=12), "分两批发货")
            first = portal.my_order(uow, yk_order)["lines"][0]
            asn.create_asn(uow, yk_order, [asn.AsnLineIn(first["id"], int(float(first["quantity"])) // 2)],
                           expected_date=today + dt.timedelta(days=3), carrier="德邦物流",
                           tracking_no="DPK2026120801", note="第一批，另一半下周发出")
            uow.actor = buyer

        # RFQ 2: next year's steel plate, still open; 宏达 has bid already (sealed until the deadline)
        steel = rfq.create_rfq(uow, title="明年一季度 304 不锈钢板询价", suppliers=["S-YKSS", "S-NTFZ"],
                               deadline=_deadline(7), terms="分三批交货，每批附材质证明",
                               lines=[rfq.RfqLineIn("RM-SS304", 5000, required_date=today + dt.timedelta(days=45))])
        rfq.open_rfq(uow, steel.id)
        as_supplier("S-YKSS")
        portal.submit_bid(uow, steel.id, [portal.BidLineIn(steel.lines[0].id, "16.20", 15)],
                          payment_terms="月结 30 天", validity_days=45)

        # scorecards of the last six months and two quarters, from the demo's receipts
        uow.actor = system
        for period in scorecard.recent_periods(today, "month", 6) + scorecard.recent_periods(today, "quarter", 2):
            scorecard.compute_period(uow, period)
    finally:
        uow.actor = system
