"""Master data: companies, products, partners, warehouses and locations, units, currencies,
employees and departments, bills of materials."""

from opensupply.core.i18n import lazy_gettext as _l
from opensupply.registry import MenuItem, Module

MODULE = Module(
    name="masterdata",
    label=_l("基础资料"),
    core=True,
    menu=(
        MenuItem(_l("商品"), "/products", "masterdata.read"),
        MenuItem(_l("商品分类"), "/product-categories", "masterdata.read"),
        MenuItem(_l("往来单位"), "/partners", "masterdata.read"),
        MenuItem(_l("仓库"), "/warehouses", "masterdata.read"),
        MenuItem(_l("库位"), "/locations", "masterdata.read"),
        MenuItem(_l("物料清单"), "/boms", "masterdata.read"),
        MenuItem(_l("部门"), "/departments", "masterdata.read"),
        MenuItem(_l("员工"), "/employees", "masterdata.read"),
        MenuItem(_l("计量单位"), "/uoms", "masterdata.read"),
        MenuItem(_l("币种与汇率"), "/currency-rates", "masterdata.read"),
        MenuItem(_l("公司"), "/companies", "masterdata.read"),
    ),
    permissions=("masterdata.read", "masterdata.write", "masterdata.partners", "masterdata.boms",
                 "masterdata.cost", "admin.companies"),
)
