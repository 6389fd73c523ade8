"""Master-data use cases beyond plain records: setting up a company, warehouses with their
location tree, looking up the virtual locations the stock ledger moves against."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from opensupply.core.errors import NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork

from . import models as m

# Virtual locations every company has: the far side of each kind of stock move.
VIRTUAL_LOCATIONS = (
    ("SUPPLIER", "供应商", "supplier"),
    ("CUSTOMER", "客户", "customer"),
    ("PRODUCTION", "生产", "production"),
    ("TRANSIT", "在途", "transit"),
    ("SCRAP", "报废", "scrap"),
    ("ADJUST", "盘点差异", "inventory"),
)

UOM_PRESETS = (
    ("unit", "数量", (("pcs", "件", "1"), ("box", "箱", "12"), ("pair", "双", "1"), ("set", "套", "1"))),
    ("weight", "重量", (("kg", "千克", "1"), ("g", "克", "0.001"), ("t", "吨", "1000"))),
    ("length", "长度", (("m", "米", "1"), ("cm", "厘米", "0.01"))),
    ("volume", "体积", (("l", "升", "1"), ("ml", "毫升", "0.001"))),
)
CURRENCIES = (("CNY", "人民币", "¥", 2), ("USD", "美元", "$", 2), ("EUR", "欧元", "€", 2),
              ("HKD", "港币", "HK$", 2), ("JPY", "日元", "¥", 0))


def ensure_reference_data(uow: UnitOfWork) -> None:
    """Units and currencies shared by all companies (idempotent)."""
    s = uow.session
    for code, name, symbol, decimals in CURRENCIES:
        if s.get(m.Currency, code) is None:
            s.add(m.Currency(code=code, name=name, symbol=symbol, decimals=decimals))
    for cat_code, cat_name, units in UOM_PRESETS:
        cat = s.scalar(select(m.UomCategory).where(m.UomCategory.code == cat_code))
        if cat is None:
            cat = m.UomCategory(code=cat_code, name=cat_name)
            s.add(cat)
            s.flush()
        for code, name, ratio in units:
            if s.scalar(select(m.Uom.id).where(m.Uom.code == code)) is None:
                s.add(m.Uom(code=code, name=name, category_id=cat.id, ratio=Decimal(ratio),
                            rounding=Decimal("0.01") if cat_code != "unit" else Decimal("1")))
    s.flush()


def find_company_id(uow: UnitOfWork, code: str | None = None) -> int | None:
    """The company with this code, or the first company when no code is given (the command line's
    `--company`); None when there is none."""
    stmt = select(m.Company.id).order_by(m.Company.id)
    if code:
        stmt = stmt.where(m.Company.code == code)
    return uow.session.scalar(stmt)


def setup_company(uow: UnitOfWork, *, code: str, name: str, currency_code: str = "CNY",
                  timezone: str = "Asia/Shanghai", warehouse_code: str | None = "WH",
                  warehouse_name: str = "主仓库") -> m.Company:
    """Create a company with its virtual locations and (optionally) a first warehouse."""
    ensure_reference_data(uow)
    s = uow.session
    if s.scalar(select(m.Company.id).where(m.Company.code == code)):
        raise ValidationFailed(_("公司编码已存在：{code}", code=code), field="code")
    company = m.Company(code=code, name=name, currency_code=currency_code, timezone=timezone)
    s.add(company)
    s.flush()
    prepare_company(uow, company, warehouse_code=warehouse_code, warehouse_name=warehouse_name)
    return company


def prepare_company(uow: UnitOfWork, company: m.Company, *, warehouse_code: str | None = "WH",
                    warehouse_name: str = "主仓库") -> None:
    """What every company needs before its first document: the virtual locations stock moves
    against and (optionally) a first warehouse."""
    ensure_reference_data(uow)
    s = uow.session
    for loc_code, loc_name, usage in VIRTUAL_LOCATIONS:
        s.add(m.Location(company_id=company.id, code=loc_code, full_code=loc_code, name=loc_name, usage=usage,
                         allow_negative=True))
    s.flush()
    if warehouse_code:
        wh = m.Warehouse(company_id=company.id, code=warehouse_code, name=warehouse_name)
        s.add(wh)
        s.flush()
        create_warehouse_locations(uow, wh)


def create_warehouse_locations(uow: UnitOfWork, wh: m.Warehouse) -> None:
    """A warehouse is a view location `WH` with a stock area `WH/STOCK` under it; bins go below."""
    s = uow.session
    view = m.Location(company_id=wh.company_id, code=wh.code, full_code=wh.code, name=wh.name, usage="view",
                      warehouse_id=wh.id)
    s.add(view)
    s.flush()
    stock = m.Location(company_id=wh.company_id, code="STOCK", full_code=f"{wh.code}/STOCK", name="库存",
                       usage="internal", warehouse_id=wh.id, parent_id=view.id)
    s.add(stock)
    s.flush()
    wh.view_location_id, wh.stock_location_id = view.id, stock.id
    s.flush()


def virtual_location(uow: UnitOfWork, usage: str) -> m.Location:
    loc = uow.session.scalar(select(m.Location).where(
        m.Location.company_id == uow.company_id, m.Location.usage == usage, m.Location.warehouse_id.is_(None),
        m.Location.active.is_(True)).order_by(m.Location.id))
    if loc is None:
        raise NotFound(_("缺少{usage}类型的虚拟库位", usage=usage))
    return loc


def location_by_code(uow: UnitOfWork, code: str, warehouse: m.Warehouse | None = None) -> m.Location:
    """Find a location by full code (`WH/STOCK/A-01-01`) or, within a warehouse, by its short code."""
    stmt = select(m.Location).where(m.Location.company_id == uow.company_id, m.Location.active.is_(True))
    loc = uow.session.scalar(stmt.where(m.Location.full_code == code))
    if loc is None and warehouse is not None:
        loc = uow.session.scalar(stmt.where(m.Location.warehouse_id == warehouse.id, m.Location.code == code))
    if loc is None:
        loc = uow.session.scalars(stmt.where(m.Location.code == code)).first()
    if loc is None:
        raise NotFound(_("库位不存在：{code}", code=code))
    return loc


def ensure_bin(uow: UnitOfWork, warehouse: m.Warehouse, code: str, name: str = "") -> m.Location:
    """A bin (`A-01-01`) under the warehouse's stock area, created on first use."""
    full = f"{warehouse.code}/STOCK/{code}"
    loc = uow.session.scalar(select(m.Location).where(m.Location.company_id == uow.company_id,
                                                      m.Location.full_code == full))
    if loc is None:
        loc = m.Location(company_id=uow.company_id, code=code, full_code=full, name=name or code, usage="internal",
                         warehouse_id=warehouse.id, parent_id=warehouse.stock_location_id)
        uow.session.add(loc)
        uow.session.flush()
    return loc


def product_by_sku(uow: UnitOfWork, sku: str) -> m.Product:
    p = uow.session.scalar(select(m.Product).where(m.Product.company_id == uow.company_id, m.Product.sku == sku))
    if p is None:
        raise NotFound(_("商品不存在：{sku}", sku=sku))
    return p


def set_product_costs(uow: UnitOfWork, costs: dict[int, Decimal]) -> None:
    """Set the current (moving-average) cost of several products in one statement; the stock
    ledger calls this when incoming stock changes a product's average cost."""
    from sqlalchemy import bindparam, update

    from opensupply.core.audit import record_many
    from opensupply.core.types import utcnow

    if not costs:
        return
    old = dict(uow.session.execute(select(m.Product.id, m.Product.cost).where(
        m.Product.company_id == uow.company_id, m.Product.id.in_(list(costs)))).all())
    rows = [{"pid": pid, "cost": cost, "now": utcnow()} for pid, cost in costs.items() if pid in old]
    if not rows:
        return
    stmt = (update(m.Product.__table__).where(m.Product.__table__.c.id == bindparam("pid"))
            .values(cost=bindparam("cost"), updated_at=bindparam("now")))
    uow.session.execute(stmt, rows)
    record_many(uow.session, [dict(action="update", entity="product", entity_id=r["pid"],
                                   before={"cost": str(old[r["pid"]])}, after={"cost": str(r["cost"])})
                              for r in rows])
    # ORM objects already loaded in this session must not keep the old cost
    for obj in list(uow.session.identity_map.values()):
        if isinstance(obj, m.Product) and obj.id in costs:
            uow.session.expire(obj, ["cost"])


def rename_location_subtree(uow: UnitOfWork, old_prefix: str, new_prefix: str, *, exclude_id: int | None = None) -> int:
    """After a location (or warehouse) changes code or parent, its descendants' full codes follow:
    `WH/STOCK/A-01` → `WH2/STOCK/A-01`. Returns how many were renamed."""
    stmt = select(m.Location).where(m.Location.company_id == uow.company_id,
                                    m.Location.full_code.startswith(old_prefix + "/", autoescape=True))
    if exclude_id is not None:
        stmt = stmt.where(m.Location.id != exclude_id)
    moved = 0
    for loc in uow.session.scalars(stmt):
        loc.full_code = new_prefix + loc.full_code[len(old_prefix):]
        moved += 1
    return moved


def location_tree(uow: UnitOfWork, warehouse: m.Warehouse) -> list[dict]:
    """The warehouse's locations in tree order with their depth (view → STOCK → bins)."""
    locs = list(uow.session.scalars(select(m.Location).where(
        m.Location.company_id == uow.company_id, m.Location.warehouse_id == warehouse.id)
        .order_by(m.Location.full_code)))
    children: dict[int | None, list[m.Location]] = {}
    ids = {loc.id for loc in locs}
    for loc in locs:
        children.setdefault(loc.parent_id if loc.parent_id in ids else None, []).append(loc)
    out: list[dict] = []

    def walk(parent_id, depth):
        for loc in children.get(parent_id, []):
            out.append({"id": loc.id, "code": loc.code, "full_code": loc.full_code, "name": loc.name,
                        "usage": loc.usage, "active": loc.active, "depth": depth,
                        "children": len(children.get(loc.id, []))})
            walk(loc.id, depth + 1)

    walk(None, 0)
    return out


# ------------------------------------------------------------------ company groups (集团)
def _parents(uow: UnitOfWork) -> dict[int, int | None]:
    return dict(uow.session.execute(select(m.Company.id, m.Company.parent_id)).all())


def group_root(uow: UnitOfWork, company_id: int) -> int:
    """The top company of the group `company_id` belongs to (itself when it has no parent)."""
    parents, seen = _parents(uow), set()
    while parents.get(company_id) is not None and company_id not in seen:
        seen.add(company_id)
        company_id = parents[company_id]
    return company_id


def subsidiaries(uow: UnitOfWork, company_id: int) -> list[int]:
    """`company_id` and every company below it (children, their children …), parent first."""
    children: dict[int, list[int]] = {}
    for cid, parent in sorted(_parents(uow).items()):
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    out, todo = [], [company_id]
    while todo:
        cid = todo.pop(0)
        if cid not in out:
            out.append(cid)
            todo.extend(children.get(cid, ()))
    return out


def same_group(uow: UnitOfWork, a: int, b: int) -> bool:
    return group_root(uow, a) == group_root(uow, b)
