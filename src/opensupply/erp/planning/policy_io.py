"""Planning policies as a spreadsheet: export every company-wide policy to CSV/XLSX and import such a file back
(商品编码 names the product, 首选供应商 the supplier by code). The import follows master data's rules
(`core.resource.import_table`): all or nothing — any bad row rejects the file and every bad row is reported with
its line number (header = line 1) — a row replaces the product's whole policy (blank cells take the defaults), and
a file imported twice changes nothing the second time."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.resource import ImportRejected, ImportReport
from opensupply.core.tabular import Table
from opensupply.core.types import to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.erp.purchasing import service as purchasing
from opensupply.inventory import service as inv
from opensupply.masterdata import models as md

from . import service as svc
from .models import PlanningPolicy

LOT_RULE_LABELS = {"lot_for_lot": _l("逐批"), "fixed": _l("固定批量"), "eoq": _l("经济批量"), "poq": _l("周期批量")}
MAKE_OR_BUY_LABELS = {"auto": _l("自动"), "make": _l("自制"), "buy": _l("外购")}

# (column, field, kind); the first column is the key
COLUMNS = (
    (_l("商品编码"), "sku", "key"),
    (_l("提前期(天)"), "lead_time_days", "int"),
    (_l("批量规则"), "lot_rule", "lot_rule"),
    (_l("固定批量"), "fixed_qty", "qty"),
    (_l("经济批量"), "eoq_qty", "qty"),
    (_l("年需求量"), "annual_demand", "qty"),
    (_l("每次订货成本"), "order_cost", "qty"),
    (_l("单位年持有成本"), "holding_cost", "qty"),
    (_l("合并期数"), "poq_periods", "int"),
    (_l("最小订货量"), "min_qty", "qty0"),
    (_l("订货倍数"), "multiple", "qty0"),
    (_l("安全库存"), "safety_stock", "qty0"),
    (_l("自制/外购"), "make_or_buy", "make_or_buy"),
    (_l("首选供应商"), "preferred_supplier", "supplier"),
)


def header() -> list[str]:
    return [str(c[0]) for c in COLUMNS]


def _aliases() -> dict[str, str]:
    """Column name → field: the Chinese and English headings and the field names are all accepted."""
    from opensupply.core.i18n import translations

    en = translations("en")
    out = {}
    for label, name, _kind in COLUMNS:
        raw = label._args[0] if hasattr(label, "_args") else str(label)
        for alias in {name, str(label), raw, en.gettext(raw)}:
            out[alias.strip().lower()] = name
    return out


def _choice(value: str, labels: dict, field: str) -> str:
    """A choice by its code, its label in the current language, in Chinese or in English."""
    from opensupply.core.i18n import translations

    en = translations("en")
    text = value.strip()
    for code, label in labels.items():
        raw = label._args[0]
        if text.lower() in (code, str(label).lower(), raw, en.gettext(raw).lower()):
            return code
    raise ValidationFailed(_("{field}无效：{value}（可选：{options}）", field=_column(field), value=text,
                             options="、".join(str(v) for v in labels.values())), field=field)


def _column(field: str) -> str:
    return next(str(c[0]) for c in COLUMNS if c[1] == field)


def _parse(uow: UnitOfWork, rec: dict[str, str], suppliers: dict[str, int]) -> dict:
    values: dict = {}
    for _label, name, kind in COLUMNS[1:]:
        raw = (rec.get(name) or "").strip()
        if kind == "lot_rule":
            values[name] = _choice(raw, LOT_RULE_LABELS, name) if raw else "lot_for_lot"
        elif kind == "make_or_buy":
            values[name] = _choice(raw, MAKE_OR_BUY_LABELS, name) if raw else "auto"
        elif kind == "supplier":
            if raw:
                if raw not in suppliers:
                    suppliers[raw] = purchasing.resolve_supplier(uow, raw).id
                values["preferred_supplier_id"] = suppliers[raw]
            else:
                values["preferred_supplier_id"] = None
        elif kind == "int":
            if not raw:
                values[name] = 0 if name == "lead_time_days" else None
                continue
            try:
                number = Decimal(raw)
            except InvalidOperation:
                number = None
            if number is None or number != number.to_integral_value() or number < 0:
                raise ValidationFailed(_("{field}应为非负整数：{value}", field=_column(name), value=raw), field=name)
            values[name] = int(number)
        else:
            if not raw:
                values[name] = Decimal(0) if kind == "qty0" else None
                continue
            try:
                number = to_decimal(raw.replace(",", ""))
            except (ValueError, ArithmeticError):
                number = None
            if number is None or not number.is_finite():
                raise ValidationFailed(_("{field}不是数字：{value}", field=_column(name), value=raw), field=name)
            values[name] = inv.q6(number)
    if values.get("poq_periods") is not None and not 1 <= values["poq_periods"] <= 104:
        raise ValidationFailed(_("合并期数应在 1 到 104 之间"), field="poq_periods")
    return values


def _current(row: PlanningPolicy | None) -> dict | None:
    if row is None:
        return None
    return {k: getattr(row, k) for k in svc.POLICY_FIELDS}


def import_policies(uow: UnitOfWork, table: Table, *, dry_run: bool = False) -> ImportReport:
    uow.actor.require("erp.planning_run")
    aliases = _aliases()
    mapping = {h: aliases[h.strip().lower()] for h in table.header if h.strip().lower() in aliases}
    if "sku" not in mapping.values():
        raise ValidationFailed(_("缺少必需的列：{col}", col=_column("sku")), field="file")
    report, seen, suppliers = ImportReport(), {}, {}
    for line, record in table.records():
        rec = {mapping[h]: v for h, v in record.items() if h in mapping}
        sku = (rec.get("sku") or "").strip()
        if sku in seen:
            report.errors.append({"line": line, "field": "sku", "reason": _("与第 {other} 行重复：{value}",
                                                                            other=seen[sku], value=sku)})
            continue
        seen[sku] = line
        try:
            with uow.session.begin_nested():
                product = inv.resolve_product(uow, sku)
                values = dict(_parse(uow, rec, suppliers), product_id=product.id)
                before = _current(_policy_of(uow, product.id))
                row = svc.set_policy(uow, values)
                after = _current(row)
                action = "create" if before is None else ("unchanged" if _same(before, after) else "update")
        except DomainError as exc:
            report.errors.append({"line": line, "field": exc.field, "reason": exc.message})
            continue
        report.created += action == "create"
        report.updated += action == "update"
        report.unchanged += action == "unchanged"
        report.preview.append({"line": line, "action": action, "key": sku})
    if report.errors:
        raise ImportRejected(report)
    if not seen:
        raise ValidationFailed(_("文件中没有数据行"), field="file")
    if dry_run:
        uow.session.rollback()
    return report


def _same(a: dict, b: dict) -> bool:
    def norm(v):
        return to_decimal(v) if isinstance(v, Decimal | int | float) and not isinstance(v, bool) else v

    return all(norm(a[k]) == norm(b[k]) for k in a)


def _policy_of(uow: UnitOfWork, product_id: int) -> PlanningPolicy | None:
    return uow.session.scalar(select(PlanningPolicy).where(
        PlanningPolicy.company_id == uow.company_id, PlanningPolicy.product_id == product_id,
        PlanningPolicy.warehouse_id.is_(None)))


def policy_rows(uow: UnitOfWork, *, q: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[dict], int]:
    """Company-wide policies with SKU, product and supplier names (the page and the export)."""
    uow.actor.require("erp.planning")
    from sqlalchemy import func, or_

    p = PlanningPolicy
    stmt = (select(p, md.Product.sku, md.Product.name).join(md.Product, md.Product.id == p.product_id)
            .where(p.company_id == uow.company_id, p.warehouse_id.is_(None)))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(md.Product.sku.ilike(like), md.Product.name.ilike(like)))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.execute(stmt.order_by(md.Product.sku).limit(limit).offset(offset)).all()
    sup_ids = {r[0].preferred_supplier_id for r in rows if r[0].preferred_supplier_id}
    suppliers = {s.id: s for s in uow.session.scalars(select(md.Partner).where(
        md.Partner.company_id == uow.company_id, md.Partner.id.in_(sup_ids)))} if sup_ids else {}
    out = []
    for pol, sku, name in rows:
        sup = suppliers.get(pol.preferred_supplier_id)
        out.append({"policy": pol, "id": pol.id, "product_id": pol.product_id, "sku": sku, "product_name": name,
                    "lot_rule_label": str(LOT_RULE_LABELS.get(pol.lot_rule, pol.lot_rule)),
                    "make_or_buy_label": str(MAKE_OR_BUY_LABELS.get(pol.make_or_buy, pol.make_or_buy)),
                    "supplier_code": sup.code if sup else "", "supplier_name": sup.name if sup else ""})
    return out, total


def export_table(uow: UnitOfWork, q: str | None = None) -> tuple[list[str], list[list]]:
    rows, _total = policy_rows(uow, q=q, limit=1_000_000)

    def cell(v):
        return "" if v is None else v

    return header(), [[r["sku"], r["policy"].lead_time_days, r["lot_rule_label"], cell(r["policy"].fixed_qty),
                       cell(r["policy"].eoq_qty), cell(r["policy"].annual_demand), cell(r["policy"].order_cost),
                       cell(r["policy"].holding_cost), cell(r["policy"].poq_periods), r["policy"].min_qty,
                       r["policy"].multiple, r["policy"].safety_stock, r["make_or_buy_label"], r["supplier_code"]]
                      for r in rows]
