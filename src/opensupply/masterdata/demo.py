"""Demo master data: categories, products, partners, bins, departments and employees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.uow import UnitOfWork

from . import boms, resources
from . import models as m
from .service import ensure_bin

CATEGORIES = (("HOME", "家居日用", "average"), ("KITCHEN", "厨房用品", "fifo"), ("TEXTILE", "家纺", "average"),
              ("RAW", "原材料", "fifo"))
PRODUCTS = (
    ("YS-CUP-350", "不锈钢保温杯 350ml", "KITCHEN", "pcs", "none", "32.50", "79.00", "6901234567012"),
    ("YS-CUP-500", "不锈钢保温杯 500ml", "KITCHEN", "pcs", "none", "38.00", "99.00", "6901234567029"),
    ("YS-TOWEL-01", "纯棉毛巾 (3 条装)", "TEXTILE", "set", "lot", "18.00", "45.00", "6901234567036"),
    ("YS-PILLOW-48", "记忆棉枕头 48×74", "TEXTILE", "pcs", "lot", "56.00", "159.00", "6901234567043"),
    ("YS-BOX-L", "收纳箱 大号", "HOME", "pcs", "none", "22.00", "59.00", "6901234567050"),
    ("YS-HANGER-10", "防滑衣架 10 只装", "HOME", "set", "none", "9.50", "29.90", "6901234567067"),
    ("YS-KETTLE-17", "电热水壶 1.7L", "KITCHEN", "pcs", "serial", "65.00", "169.00", "6901234567074"),
    ("RM-SS304", "304 不锈钢板", "RAW", "kg", "lot", "16.80", "0", None),
    ("RM-COTTON", "精梳棉纱", "RAW", "kg", "lot", "24.00", "0", None),
)
PARTNERS = (
    ("C-TMALL", "天猫旗舰店客户", True, False, False, "浙江省", "杭州市", "余杭区", "文一西路 969 号"),
    ("C-HZJY", "杭州佳源商贸有限公司", True, False, False, "浙江省", "杭州市", "上城区", "解放路 58 号"),
    ("C-SHLX", "上海乐享家居连锁", True, False, False, "上海市", "上海市", "浦东新区", "张江路 200 号"),
    ("S-YKSS", "永康市宏达不锈钢制品厂", False, True, False, "浙江省", "金华市", "永康市", "五金城 18 号"),
    ("S-NTFZ", "南通锦绣纺织有限公司", False, True, False, "江苏省", "南通市", "通州区", "川姜镇 66 号"),
    ("L-SF", "顺丰速运", False, False, True, "广东省", "深圳市", "南山区", "科技南路 16 号"),
    ("L-ZTO", "中通快递", False, False, True, "上海市", "上海市", "青浦区", "华新镇 1685 号"),
)
BINS = ("A-01-01", "A-01-02", "A-02-01", "B-01-01", "B-01-02", "D-03-02")
DEPARTMENTS = (("GM", "总经办", None), ("SALES", "销售部", "GM"), ("PURCH", "采购部", "GM"), ("WH", "仓储部", "GM"),
               ("PROD", "生产部", "GM"), ("FIN", "财务部", "GM"))
# Product structures: the cups are pressed from 304 steel plate, towels woven from cotton yarn.
BOMS = (
    ("YS-CUP-350", (("RM-SS304", "0.12", "kg", "3"),)),
    ("YS-CUP-500", (("RM-SS304", "160", "g", "3"),)),
    ("YS-TOWEL-01", (("RM-COTTON", "0.45", "kg", "5"),)),
)
# (工号, name, department, position, demo login): the documents a login creates count toward its employee's
# performance page; E001 is also the salesperson of the demo sales orders
EMPLOYEES = (("E001", "王磊", "SALES", "销售经理", "sales"), ("E002", "李娜", "PURCH", "采购专员", "buyer"),
             ("E003", "张伟", "WH", "仓库主管", "warehouse"), ("E004", "刘洋", "PROD", "生产主管", "production"),
             ("E005", "陈静", "FIN", "会计", "finance"), ("E000", "周建国", "GM", "总经理", "admin"))


def seed(uow: UnitOfWork, company: m.Company) -> None:
    for code, name, valuation in CATEGORIES:
        rs.create_record(uow, resources.product_categories, {"code": code, "name": name, "valuation": valuation})
    for sku, name, cat, uom, tracking, cost, price, barcode in PRODUCTS:
        rs.create_record(uow, resources.products, {
            "sku": sku, "name": name, "category_id": cat, "uom_id": uom, "tracking": tracking,
            "cost": Decimal(cost), "list_price": Decimal(price), "barcode": barcode})
    for code, name, cust, supp, carr, prov, city, dist, addr in PARTNERS:
        rs.create_record(uow, resources.partners, {
            "code": code, "name": name, "is_customer": cust, "is_supplier": supp, "is_carrier": carr,
            "province": prov, "city": city, "district": dist, "address": addr, "phone": "0571-88886666"})
    wh = uow.session.scalar(select(m.Warehouse).where(m.Warehouse.company_id == company.id))
    wh.province, wh.city, wh.district = "浙江省", "杭州市", "余杭区"
    for code in BINS:
        ensure_bin(uow, wh, code)
    for sku, lines in BOMS:
        bom = boms.create_bom(uow, product=sku, lines=[
            {"component": c, "quantity": q, "uom": u, "scrap_pct": scrap} for c, q, u, scrap in lines])
        boms.release_bom(uow, bom.id)
    # an engineering change in progress: V1.1 of the 350 ml cup uses less steel
    draft = boms.copy_bom(uow, boms.released_bom(uow, uow.session.scalar(
        select(m.Product.id).where(m.Product.company_id == company.id, m.Product.sku == "YS-CUP-350"))).id)
    boms.update_bom(uow, draft.id, {"notes": "减薄杯壁，钢板用量 0.12 → 0.11 kg",
                                    "lines": [{"component": "RM-SS304", "quantity": "0.11", "uom": "kg",
                                               "scrap_pct": "3"}]})
    for code, name, parent in DEPARTMENTS:
        rs.create_record(uow, resources.departments, {"code": code, "name": name, "parent_id": parent})
    from opensupply.core.auth import User

    logins = dict(uow.session.execute(select(User.username, User.id).where(
        User.username.in_([e[4] for e in EMPLOYEES]))).all())
    for code, name, dept, position, login in EMPLOYEES:
        rs.create_record(uow, resources.employees, {
            "code": code, "name": name, "department_id": dept, "position": position, "user_id": logins.get(login),
            "start_date": dt.date(2024, 3, 1)})
    for code, _name, dept, _position, _login in EMPLOYEES:  # each department head reports to the 总经理
        rs.update_record(uow, resources.departments, rs.find_by_key(uow, resources.departments, dept).id,
                         {"manager_id": code})
        if code != "E000":
            rs.update_record(uow, resources.employees, rs.find_by_key(uow, resources.employees, code).id,
                             {"manager_id": "E000"})
