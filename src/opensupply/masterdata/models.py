"""Master data shared by every module: companies, currencies, units, products, partners,
warehouses and their location tree, departments and employees, bills of materials."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from opensupply.core.db import Base
from opensupply.core.models import BigId, CompanyEntity, Entity
from opensupply.core.types import Amount, Qty

LOCATION_USAGES = ("view", "internal", "supplier", "customer", "production", "transit", "scrap", "inventory")
TRACKING = ("none", "lot", "serial")
VALUATION = ("average", "fifo")
BOM_STATES = ("draft", "released", "obsolete")
LIFECYCLE_STAGES = ("rd", "pilot", "mass", "eol")  # 研发 / 试产 / 量产 / 退市


class Company(Entity, Base):
    __tablename__ = "company"
    __label__ = "公司"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("company.id"))  # group parent
    tax_id: Mapped[str | None] = mapped_column(String(40))  # 统一社会信用代码
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Currency(Base):
    __tablename__ = "currency"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    symbol: Mapped[str] = mapped_column(String(8), default="")
    decimals: Mapped[int] = mapped_column(Integer, default=2)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CurrencyRate(CompanyEntity, Base):
    """Units of company currency for one unit of `currency_code` on `date`."""

    __tablename__ = "currency_rate"
    __label__ = "汇率"
    __table_args__ = (UniqueConstraint("company_id", "currency_code", "date"),
                      CheckConstraint("rate > 0", name="positive"))

    currency_code: Mapped[str] = mapped_column(String(3), ForeignKey("currency.code"))
    date: Mapped[dt.date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(Amount)


class UomCategory(Base):
    __tablename__ = "uom_category"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))


class Uom(Base):
    """A unit of measure; `ratio` reference units make one of it (箱 = 12 件 → ratio 12)."""

    __tablename__ = "uom"
    __table_args__ = (CheckConstraint("ratio > 0", name="positive_ratio"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("uom_category.id"))
    ratio: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))
    rounding: Mapped[Decimal] = mapped_column(Qty, default=Decimal("0.01"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    category: Mapped[UomCategory] = relationship(lazy="joined")


class ProductCategory(CompanyEntity, Base):
    __tablename__ = "product_category"
    __label__ = "商品分类"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product_category.id"))
    valuation: Mapped[str] = mapped_column(String(10), default="average")  # average | fifo


class Product(CompanyEntity, Base):
    __tablename__ = "product"
    __label__ = "商品"
    __table_args__ = (
        UniqueConstraint("company_id", "sku"),
        Index("ix_product_company_barcode", "company_id", "barcode"),
        CheckConstraint("tracking in ('none','lot','serial')", name="tracking"),
        CheckConstraint("lifecycle_stage in ('rd','pilot','mass','eol')", name="lifecycle_stage"),
    )

    sku: Mapped[str] = mapped_column(String(64))  # 商家编码 / 物料编码
    name: Mapped[str] = mapped_column(String(200))
    barcode: Mapped[str | None] = mapped_column(String(64))
    category_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("product_category.id"))
    uom_id: Mapped[int] = mapped_column(BigId, ForeignKey("uom.id"))
    tracking: Mapped[str] = mapped_column(String(10), default="none")
    product_type: Mapped[str] = mapped_column(String(10), default="stock")  # stock | consumable | service
    cost: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))  # standard / current average cost
    list_price: Mapped[Decimal] = mapped_column(Amount, default=Decimal(0))
    weight_kg: Mapped[Decimal | None] = mapped_column(Qty)
    volume_m3: Mapped[Decimal | None] = mapped_column(Qty)
    spec: Mapped[str | None] = mapped_column(String(200))  # 规格型号
    # PLM moves it through approved stage changes (masterdata.lifecycle enforces what each stage allows)
    lifecycle_stage: Mapped[str] = mapped_column(String(8), default="mass", server_default="mass")
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    uom: Mapped[Uom] = relationship(lazy="joined")
    category: Mapped[ProductCategory | None] = relationship(lazy="joined")


class Partner(CompanyEntity, Base):
    """A customer, a supplier or a carrier — or all three."""

    __tablename__ = "partner"
    __label__ = "往来单位"
    __table_args__ = (UniqueConstraint("company_id", "code"),
                      UniqueConstraint("company_id", "represents_company_id", name="uq_partner_represents"))

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    is_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    is_supplier: Mapped[bool] = mapped_column(Boolean, default=False)
    is_carrier: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))  # street detail
    tax_id: Mapped[str | None] = mapped_column(String(40))
    bank_account: Mapped[str | None] = mapped_column(String(80))
    currency_code: Mapped[str] = mapped_column(String(3), default="CNY")
    credit_limit: Mapped[Decimal | None] = mapped_column(Amount)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # inter-company partner: this partner is another company of the same group (集团内部往来单位)
    represents_company_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("company.id"))


class Warehouse(CompanyEntity, Base):
    __tablename__ = "warehouse"
    __label__ = "仓库"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    view_location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id", use_alter=True))
    stock_location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id", use_alter=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Location(CompanyEntity, Base):
    """A node of the location tree: a warehouse's view, its stock area, bins (`A-01-01`),
    and the virtual partner/production/scrap/adjustment locations stock moves come from and go to."""

    __tablename__ = "location"
    __label__ = "库位"
    __table_args__ = (
        UniqueConstraint("company_id", "full_code"),
        CheckConstraint(
            "usage in ('view','internal','supplier','customer','production','transit','scrap','inventory')",
            name="usage"),
    )

    code: Mapped[str] = mapped_column(String(40))
    full_code: Mapped[str] = mapped_column(String(200))  # WH1/A-01-01
    name: Mapped[str] = mapped_column(String(120), default="")
    usage: Mapped[str] = mapped_column(String(12), default="internal")
    warehouse_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("warehouse.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("location.id"), index=True)
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def is_stock(self) -> bool:
        """Only internal locations hold on-hand stock; the others are ledger counterparts."""
        return self.usage == "internal"


class Department(CompanyEntity, Base):
    __tablename__ = "department"
    __label__ = "部门"
    __table_args__ = (UniqueConstraint("company_id", "code"),)

    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("department.id"))
    manager_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employee.id", use_alter=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Employee(CompanyEntity, Base):
    __tablename__ = "employee"
    __label__ = "员工"
    __table_args__ = (UniqueConstraint("company_id", "code"),
                      CheckConstraint("status in ('active','left')", name="status"))

    code: Mapped[str] = mapped_column(String(20))  # 工号
    name: Mapped[str] = mapped_column(String(80))
    department_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("department.id"))
    position: Mapped[str | None] = mapped_column(String(80))
    manager_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("employee.id"))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("auth_user.id"))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active", server_default="active")  # active | left
    leave_date: Mapped[dt.date | None] = mapped_column(Date)  # 离职日期, only once left
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Bom(CompanyEntity, Base):
    """One version of a product's bill of materials. Only one released version of a product
    is in force at a time (partial unique index); PLM changes versions through master data's services."""

    __tablename__ = "bom"
    __label__ = "物料清单"
    __table_args__ = (
        UniqueConstraint("company_id", "product_id", "version"),
        Index("uq_bom_released", "company_id", "product_id", unique=True,
              sqlite_where=text("state = 'released'"), postgresql_where=text("state = 'released'")),
        CheckConstraint("state in ('draft','released','obsolete')", name="state"),
        CheckConstraint("quantity > 0", name="positive_qty"),
    )

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    version: Mapped[str] = mapped_column(String(20), default="V1.0")
    state: Mapped[str] = mapped_column(String(10), default="draft")
    quantity: Mapped[Decimal] = mapped_column(Qty, default=Decimal(1))  # output per batch
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    effective_to: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    product: Mapped[Product] = relationship(lazy="joined")
    lines: Mapped[list[BomLine]] = relationship(back_populates="bom", cascade="all, delete-orphan",
                                                order_by="BomLine.sequence", lazy="selectin")


class BomLine(Entity, Base):
    __tablename__ = "bom_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_qty"),
                      CheckConstraint("scrap_pct >= 0 and scrap_pct < 100", name="scrap"))

    bom_id: Mapped[int] = mapped_column(BigId, ForeignKey("bom.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=10)
    component_id: Mapped[int] = mapped_column(BigId, ForeignKey("product.id"), index=True)
    quantity: Mapped[Decimal] = mapped_column(Qty)
    uom_id: Mapped[int] = mapped_column(BigId, ForeignKey("uom.id"))
    scrap_pct: Mapped[Decimal] = mapped_column(Qty, default=Decimal(0))
    is_byproduct: Mapped[bool] = mapped_column(Boolean, default=False)

    bom: Mapped[Bom] = relationship(back_populates="lines")
    component: Mapped[Product] = relationship(lazy="joined")
    uom: Mapped[Uom] = relationship(lazy="joined")
