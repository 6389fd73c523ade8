"""Master-data tables described once: fields, validation, search, filters, import/export."""

from __future__ import annotations

import re

from sqlalchemy import select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.resource import Field, Resource, register
from opensupply.core.sequences import next_number, register_sequence

from . import models as m
from .regions import PROVINCE_CHOICES, normalize_province, split_address

PHONE_RE = re.compile(r"^[0-9+\-() *]{5,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_contact(uow, obj, data):
    if obj.phone and not PHONE_RE.match(obj.phone):
        raise ValidationFailed(_("电话格式不正确：{v}", v=obj.phone), field="phone")
    if obj.email and not EMAIL_RE.match(obj.email):
        raise ValidationFailed(_("邮箱格式不正确：{v}", v=obj.email), field="email")


def _validate_product(uow, obj, data):
    if obj.id is not None and obj.uom_id is not None:
        _check_unit_change(uow, obj)
    if obj.cost is not None and obj.cost < 0:
        raise ValidationFailed(_("成本不能为负数"), field="cost")
    if obj.list_price is not None and obj.list_price < 0:
        raise ValidationFailed(_("售价不能为负数"), field="list_price")
    if obj.barcode:
        dup = uow.session.scalar(select(m.Product.id).where(
            m.Product.company_id == uow.company_id, m.Product.barcode == obj.barcode,
            m.Product.id != (obj.id or 0)))
        if dup:
            raise ValidationFailed(_("条码已被其他商品使用：{v}", v=obj.barcode), field="barcode")


def _check_unit_change(uow, obj):
    """A product whose unit moves to another category (件 → 千克) would break the BOM lines that
    count it in the old category; refuse while any draft or released BOM still does."""
    new = uow.session.get(m.Uom, obj.uom_id)
    clash = uow.session.execute(
        select(m.Bom.version, m.Product.sku, m.Uom.code)
        .join(m.BomLine, m.BomLine.bom_id == m.Bom.id).join(m.Uom, m.Uom.id == m.BomLine.uom_id)
        .join(m.Product, m.Product.id == m.Bom.product_id)
        .where(m.Bom.company_id == uow.company_id, m.Bom.state != "obsolete", m.BomLine.component_id == obj.id,
               m.Uom.category_id != new.category_id).limit(1)).first()
    if clash:
        raise ValidationFailed(_("该商品在物料清单 {sku} {version} 中以 {uom} 计量，单位不能改为其他类别的 {new}",
                                 sku=clash[1], version=clash[0], uom=clash[2], new=new.code), field="uom_id")


def _product_detail(uow, obj):
    from .boms import bom_to_dict, list_boms, where_used

    return {"bom_versions": [bom_to_dict(b, with_lines=False) for b in list_boms(uow, product_id=obj.id, limit=100)[0]],
            "used_in": [u.as_dict() for u in where_used(uow, obj.id)]}


def _check_address(obj):
    if not obj.province and obj.address:  # a one-line address ("浙江省杭州市余杭区…") fills the parts
        province, city, district, detail = split_address(obj.address)
        if province:
            obj.province, obj.address = province, detail or None
            obj.city = obj.city or city
            obj.district = obj.district or district
    obj.province = normalize_province(obj.province)
    if obj.district and not obj.city:
        raise ValidationFailed(_("填写区县前请先填写市"), field="city")
    if obj.city and not obj.province:
        raise ValidationFailed(_("填写市前请先填写省"), field="province")


def _validate_partner(uow, obj, data):
    _check_address(obj)
    if not (obj.is_customer or obj.is_supplier or obj.is_carrier):
        raise ValidationFailed(_("请至少选择一个角色：客户、供应商或承运商"), field="is_customer")
    if obj.credit_limit is not None and obj.credit_limit < 0:
        raise ValidationFailed(_("信用额度不能为负数"), field="credit_limit")
    _check_contact(uow, obj, data)
    if obj.represents_company_id is not None:
        _check_represents(uow, obj)


def _check_represents(uow, obj):
    """An inter-company partner stands for another company of the same group, once per company."""
    from .service import same_group

    if obj.represents_company_id == uow.company_id:
        raise ValidationFailed(_("往来单位不能代表本公司"), field="represents_company_id")
    if not same_group(uow, uow.company_id, obj.represents_company_id):
        raise ValidationFailed(_("只能代表同一集团内的公司"), field="represents_company_id")
    dup = uow.session.scalar(select(m.Partner.code).where(
        m.Partner.company_id == uow.company_id, m.Partner.represents_company_id == obj.represents_company_id,
        m.Partner.id != (obj.id or 0)))
    if dup:
        raise Conflict(_("往来单位 {code} 已代表该公司", code=dup), field="represents_company_id")


def _validate_location(uow, obj, data):
    if not re.match(r"^[A-Za-z0-9_\-.]+$", obj.code or ""):
        raise ValidationFailed(_("库位编码只能包含字母、数字和 - _ ."), field="code")
    old_full = obj.full_code
    if obj.parent_id:
        parent = uow.session.get(m.Location, obj.parent_id)
        if obj.id is not None and (parent.id == obj.id or (old_full and (
                parent.full_code == old_full or parent.full_code.startswith(old_full + "/")))):
            raise ValidationFailed(_("上级库位不能是自己或自己的下级"), field="parent_id")
        obj.warehouse_id = parent.warehouse_id
        obj.full_code = f"{parent.full_code}/{obj.code}"
    else:
        obj.full_code = obj.code
    dup = uow.session.scalar(select(m.Location.id).where(
        m.Location.company_id == uow.company_id, m.Location.full_code == obj.full_code,
        m.Location.id != (obj.id or 0)))
    if dup:
        raise Conflict(_("库位已存在：{code}", code=obj.full_code), field="code")
    if obj.id is not None and old_full and old_full != obj.full_code:
        from .service import rename_location_subtree

        rename_location_subtree(uow, old_full, obj.full_code, exclude_id=obj.id)


def _validate_warehouse(uow, obj, data):
    _check_address(obj)
    if obj.id is None or obj.view_location_id is None:
        return
    view = uow.session.get(m.Location, obj.view_location_id)
    if view is not None and view.code != obj.code:
        from .service import rename_location_subtree

        old = view.full_code
        view.code, view.full_code, view.name = obj.code, obj.code, obj.name
        rename_location_subtree(uow, old, obj.code, exclude_id=view.id)


def _check_no_loop(uow, obj, attr: str, message: str) -> None:
    """Walking up `attr` (parent, manager) from `obj` must never come back to it."""
    seen, current = {obj.id}, getattr(obj, attr)
    while current is not None:
        if current in seen:
            raise ValidationFailed(message, field=attr)
        seen.add(current)
        current = uow.session.scalar(select(getattr(type(obj), attr)).where(type(obj).id == current))


EMPLOYEE_STATUSES = (("active", _l("在职")), ("left", _l("离职")))
register_sequence("HR_EMPLOYEE", "EMP", 4, yearly=False)


def _validate_employee(uow, obj, data):
    if not obj.code:  # 工号 left empty: the next number of the company's series, skipping codes typed by hand
        for _try in range(1000):
            code = next_number(uow, "HR_EMPLOYEE")
            if uow.session.scalar(select(m.Employee.id).where(
                    m.Employee.company_id == uow.company_id, m.Employee.code == code)) is None:
                obj.code = code
                break
    if obj.manager_id and obj.manager_id == obj.id:
        raise ValidationFailed(_("上级不能是本人"), field="manager_id")
    if obj.id is not None:
        _check_no_loop(uow, obj, "manager_id", _("上级关系不能形成循环"))
    if obj.manager_id and "manager_id" in data and uow.session.scalar(
            select(m.Employee.status).where(m.Employee.id == obj.manager_id)) == "left":
        raise ValidationFailed(_("上级已离职，请选择在职员工"), field="manager_id")
    obj.status = obj.status or "active"
    if obj.status == "left" and obj.leave_date is None:
        raise ValidationFailed(_("离职员工请填写离职日期"), field="leave_date")
    if obj.status != "left" and obj.leave_date is not None:
        raise ValidationFailed(_("在职员工不能有离职日期"), field="leave_date")
    if obj.leave_date and obj.start_date and obj.leave_date < obj.start_date:
        raise ValidationFailed(_("离职日期不能早于入职日期"), field="leave_date")
    _check_contact(uow, obj, data)
    if obj.user_id is not None:
        _check_login_user(uow, obj)


def _check_login_user(uow, obj):
    """The linked login must exist, work for this company and belong to no other employee: it is
    how documents a user creates are credited to a person in the performance views."""
    from opensupply.core.auth import User, UserCompany

    user = uow.session.get(User, obj.user_id)
    allowed = user is not None and (user.is_superuser or uow.session.scalar(select(UserCompany.user_id).where(
        UserCompany.user_id == obj.user_id, UserCompany.company_id == uow.company_id)) is not None)
    if not allowed:
        raise ValidationFailed(_("登录用户不存在或无权访问本公司：#{id}", id=obj.user_id), field="user_id")
    other = uow.session.scalar(select(m.Employee.code).where(
        m.Employee.company_id == uow.company_id, m.Employee.user_id == obj.user_id, m.Employee.id != obj.id))
    if other:
        raise Conflict(_("该登录用户已关联员工 {code}", code=other), field="user_id")


def _validate_department(uow, obj, data):
    if obj.parent_id and obj.parent_id == obj.id:
        raise ValidationFailed(_("上级部门不能是自己或自己的下级"), field="parent_id")
    if obj.id is not None:
        _check_no_loop(uow, obj, "parent_id", _("上级部门不能是自己或自己的下级"))
    if obj.manager_id and "manager_id" in data and uow.session.scalar(
            select(m.Employee.status).where(m.Employee.id == obj.manager_id)) == "left":
        raise ValidationFailed(_("负责人已离职，请选择在职员工"), field="manager_id")


def _department_detail(uow, obj):
    from .hr import department_tree

    return {"tree": department_tree(uow, root_id=obj.id)}


def _validate_category(uow, obj, data):
    if obj.id is not None:
        _check_no_loop(uow, obj, "parent_id", _("上级分类不能是自己或自己的下级"))


def _validate_uom(uow, obj, data):
    if obj.ratio is not None and obj.ratio <= 0:
        raise ValidationFailed(_("换算比例必须大于 0"), field="ratio")
    if obj.rounding is not None and obj.rounding < 0:
        raise ValidationFailed(_("舍入精度不能为负数"), field="rounding")
    if obj.id is not None:  # a unit moved to another category must not break BOM lines counted in it
        from sqlalchemy.orm import aliased

        line_uom, product_uom = aliased(m.Uom), aliased(m.Uom)
        uow.session.flush()
        clash = uow.session.execute(
            select(m.Product.sku).select_from(m.BomLine)
            .join(m.Product, m.Product.id == m.BomLine.component_id)
            .join(line_uom, line_uom.id == m.BomLine.uom_id).join(product_uom, product_uom.id == m.Product.uom_id)
            .join(m.Bom, m.Bom.id == m.BomLine.bom_id)
            .where(m.Bom.state != "obsolete", line_uom.category_id != product_uom.category_id,
                   (m.BomLine.uom_id == obj.id) | (m.Product.uom_id == obj.id)).limit(1)).first()
        if clash:
            raise ValidationFailed(_("单位 {code} 已用于物料清单（{sku}），不能改为其他类别", code=obj.code,
                                     sku=clash[0]), field="category_id")


def _validate_rate(uow, obj, data):
    if obj.rate is not None and obj.rate <= 0:
        raise ValidationFailed(_("汇率必须大于 0"), field="rate")


def _warehouse_detail(uow, obj):
    from .service import location_tree

    return {"locations": location_tree(uow, obj), "usage_labels": {code: str(label) for code, label in USAGES}}


def _warehouse_created(uow, obj):
    from .service import create_warehouse_locations

    create_warehouse_locations(uow, obj)


TRACKING = (("none", _l("不跟踪")), ("lot", _l("批次")), ("serial", _l("序列号")))
LIFECYCLE_STAGES = (("rd", _l("研发")), ("pilot", _l("试产")), ("mass", _l("量产")), ("eol", _l("退市")))
PRODUCT_TYPES = (("stock", _l("库存商品")), ("consumable", _l("消耗品")), ("service", _l("服务")))
USAGES = (("view", _l("视图")), ("internal", _l("库内")), ("supplier", _l("供应商")), ("customer", _l("客户")),
          ("production", _l("生产")), ("transit", _l("在途")), ("scrap", _l("报废")), ("inventory", _l("盘点差异")))

def _own_companies(uow, stmt):
    """A user sees the companies they work in, not every tenant of the installation."""
    return stmt.where(m.Company.id.in_(uow.actor.company_ids or {uow.company_id}))


def _validate_company(uow, obj, data):
    dup = uow.session.scalar(select(m.Company.id).where(m.Company.code == obj.code, m.Company.id != (obj.id or 0)))
    if dup:
        raise Conflict(_("公司编码已存在：{code}", code=obj.code), field="code")
    if obj.parent_id is not None and obj.id is not None:
        from .service import subsidiaries

        if obj.parent_id in subsidiaries(uow, obj.id):
            raise ValidationFailed(_("上级公司不能是自己或自己的下级"), field="parent_id")


def _company_created(uow, obj):
    """A company made from the page or API is ready to use like one from `setup_company`,
    and whoever made it may work in it."""
    from opensupply.core.auth import UserCompany

    from .service import prepare_company

    prepare_company(uow, obj)
    if uow.actor.user_id is not None:
        uow.session.add(UserCompany(user_id=uow.actor.user_id, company_id=obj.id))
        uow.session.flush()


companies = register(Resource(
    name="companies", model=m.Company, label=_l("公司"), key="code", read_permission="masterdata.read",
    write_permission="admin.companies", importable=False, query=_own_companies, validate=_validate_company,
    after_create=_company_created,
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=200),
        Field("currency_code", _l("本位币"), required=True, max_length=3, default="CNY"),
        Field("timezone", _l("时区"), default="Asia/Shanghai", list=False),
        Field("tax_id", _l("统一社会信用代码"), max_length=40),
        Field("parent_id", _l("上级公司（集团）"), "ref", ref="companies", list=False),
        Field("address", _l("地址"), list=False),
        Field("phone", _l("电话"), list=False),
    ]))

# Units and their categories are shared by every company: only whoever may manage companies changes them.
uom_categories = register(Resource(
    name="uom-categories", model=m.UomCategory, label=_l("单位类别"), key="code", default_sort="code",
    write_permission="admin.companies", importable=False,
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=60),
    ]))

uoms = register(Resource(
    name="uoms", model=m.Uom, label=_l("计量单位"), key="code", write_permission="admin.companies",
    validate=_validate_uom,
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=60),
        Field("category_id", _l("单位类别"), "ref", ref="uom-categories", required=True, filter=True),
        Field("ratio", _l("换算比例"), "decimal", required=True, default=1),
        Field("rounding", _l("舍入精度"), "decimal", default="0.01"),
    ]))

product_categories = register(Resource(
    name="product-categories", model=m.ProductCategory, label=_l("商品分类"), key="code", default_sort="code",
    validate=_validate_category,
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=40),
        Field("name", _l("名称"), required=True, search=True, max_length=120),
        Field("parent_id", _l("上级分类"), "ref", ref="product-categories"),
        Field("valuation", _l("计价方法"), "choice", required=True, default="average", filter=True,
              choices=(("average", _l("移动加权平均")), ("fifo", _l("先进先出")))),
    ]))

products = register(Resource(
    name="products", model=m.Product, label=_l("商品"), key="sku", default_sort="sku", validate=_validate_product,
    extra={"detail_template": "masterdata/product_detail.html", "detail_context": _product_detail},
    fields=[
        Field("sku", _l("商家编码"), required=True, search=True, max_length=64),
        Field("name", _l("名称"), required=True, search=True, max_length=200),
        Field("barcode", _l("条码"), search=True, max_length=64),
        Field("spec", _l("规格型号"), max_length=200, list=False),
        Field("category_id", _l("分类"), "ref", ref="product-categories", filter=True),
        Field("uom_id", _l("单位"), "ref", ref="uoms", required=True),
        Field("product_type", _l("类型"), "choice", choices=PRODUCT_TYPES, default="stock", filter=True),
        Field("tracking", _l("批次/序列号"), "choice", choices=TRACKING, default="none", filter=True),
        # changed only through PLM's approved stage changes (masterdata.lifecycle), never on the form
        Field("lifecycle_stage", _l("生命周期"), "choice", choices=LIFECYCLE_STAGES, default="mass", filter=True,
              form=False),
        Field("cost", _l("成本价"), "decimal", default=0, permission="masterdata.cost"),
        Field("list_price", _l("售价"), "decimal", default=0),
        Field("weight_kg", _l("重量(kg)"), "decimal", list=False),
        Field("volume_m3", _l("体积(m³)"), "decimal", list=False),
        Field("description", _l("描述"), "text", list=False),
    ]))

partners = register(Resource(
    name="partners", model=m.Partner, label=_l("往来单位"), key="code", default_sort="code",
    write_permission="masterdata.partners", validate=_validate_partner,
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=40),
        Field("name", _l("名称"), required=True, search=True, max_length=200),
        Field("is_customer", _l("客户"), "bool", filter=True),
        Field("is_supplier", _l("供应商"), "bool", filter=True),
        Field("is_carrier", _l("承运商"), "bool", filter=True),
        Field("contact_name", _l("联系人"), search=True, max_length=80),
        Field("phone", _l("电话"), search=True, max_length=40),
        Field("email", _l("邮箱"), max_length=200, list=False),
        Field("province", _l("省"), filter=True, max_length=40, choices=PROVINCE_CHOICES),
        Field("city", _l("市"), max_length=40),
        Field("district", _l("区县"), max_length=40, list=False),
        Field("address", _l("详细地址"), max_length=300, list=False),
        Field("tax_id", _l("税号"), max_length=40, list=False),
        Field("bank_account", _l("银行账号"), max_length=80, list=False),
        Field("currency_code", _l("币种"), default="CNY", max_length=3, list=False),
        Field("credit_limit", _l("信用额度"), "decimal", list=False),
        Field("payment_terms_days", _l("账期(天)"), "int", default=0, list=False),
        Field("notes", _l("备注"), "text", list=False),
        Field("represents_company_id", _l("代表集团内公司"), "ref", ref="companies", list=False,
              help=_l("集团内部往来：此单位就是集团内的另一家公司，双方的订单会自动互相生成")),
    ]))

warehouses = register(Resource(
    name="warehouses", model=m.Warehouse, label=_l("仓库"), key="code", default_sort="code",
    after_create=_warehouse_created, validate=_validate_warehouse,
    extra={"detail_template": "masterdata/warehouse_detail.html", "detail_context": _warehouse_detail},
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=120),
        Field("province", _l("省"), max_length=40),
        Field("city", _l("市"), max_length=40),
        Field("district", _l("区县"), max_length=40, list=False),
        Field("address", _l("详细地址"), max_length=300, list=False),
    ]))

locations = register(Resource(
    name="locations", model=m.Location, label=_l("库位"), key="full_code", default_sort="full_code",
    validate=_validate_location,
    fields=[
        Field("full_code", _l("完整编码"), search=True, form=False),
        Field("code", _l("编码"), required=True, search=True, max_length=40),
        Field("name", _l("名称"), search=True, max_length=120),
        Field("parent_id", _l("上级库位"), "ref", ref="locations"),
        Field("warehouse_id", _l("仓库"), "ref", ref="warehouses", filter=True, form=False),
        Field("usage", _l("类型"), "choice", choices=USAGES, required=True, default="internal", filter=True),
        Field("allow_negative", _l("允许负库存"), "bool", list=False),
    ]))

departments = register(Resource(
    name="departments", model=m.Department, label=_l("部门"), key="code", default_sort="code",
    validate=_validate_department,
    extra={"detail_template": "masterdata/department_detail.html", "detail_context": _department_detail},
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=120),
        Field("parent_id", _l("上级部门"), "ref", ref="departments"),
        Field("manager_id", _l("负责人"), "ref", ref="employees"),
    ]))

employees = register(Resource(
    name="employees", model=m.Employee, label=_l("员工"), key="code", default_sort="code",
    validate=_validate_employee,
    extra={"detail_template": "masterdata/employee_detail.html"},
    fields=[
        Field("code", _l("工号"), search=True, max_length=20, help=_l("留空则按编号规则自动生成")),
        Field("name", _l("姓名"), required=True, search=True, max_length=80),
        Field("department_id", _l("部门"), "ref", ref="departments", filter=True),
        Field("position", _l("职位"), search=True, max_length=80),
        Field("manager_id", _l("上级"), "ref", ref="employees", list=False),
        Field("phone", _l("电话"), max_length=40),
        Field("email", _l("邮箱"), max_length=200, list=False),
        Field("start_date", _l("入职日期"), "date"),
        Field("status", _l("状态"), "choice", choices=EMPLOYEE_STATUSES, default="active", filter=True),
        Field("leave_date", _l("离职日期"), "date", list=False),
        Field("user_id", _l("登录用户 ID"), "int", list=False, permission="admin.users",
              help=_l("关联的系统登录（用户管理中的编号），其创建的单据计入此人的绩效")),
    ]))

currency_rates = register(Resource(
    name="currency-rates", model=m.CurrencyRate, label=_l("汇率"), key="id", default_sort="-date",
    validate=_validate_rate, importable=False,
    fields=[
        Field("currency_code", _l("币种"), required=True, max_length=3, filter=True, search=True),
        Field("date", _l("日期"), "date", required=True),
        Field("rate", _l("汇率"), "decimal", required=True),
    ]))
