"""人事 basics on top of the employee and department master data: the department tree and the performance
views (绩效) of a person or a team, drawn from what the other modules already record — nothing is typed in.

Where each figure comes from (always through the owning module's read functions, never its tables):

- 销售 sales (ERP, always on): `erp.reports.performance.salespeople` — the sales orders' salesperson (an
  employee): untaxed revenue of the period's invoices (credit notes negative), the stock cost of those orders'
  deliveries, gross margin, invoiced total, what has been collected on the period's invoices, overdue today.
- 采购 purchasing (ERP): `erp.reports.performance.buyers` — receipt lines of purchase orders the employee's
  login created, on time when received on or before the order's expected date.
- 仓储 WMS (when on): `wms.reports.productivity_by_user` — pick lines and units the employee's login confirmed,
  active hours and lines per hour, as the 拣货效率 report counts them.
- 生产 MES (when on): `mes.terminal.output_by_operator` — good and scrapped units reported at the scan
  terminal and labour hours, credited to the employee badge scanned, else to the employee linked to the login.

A section is absent while its module is off for the company or the user may not read that module's reports.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from opensupply.core import resource as rs
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.modules import enabled_for
from opensupply.core.types import ZERO
from opensupply.core.uow import UnitOfWork

from . import models as m
from . import resources

# section → (module that must be on, permission to read it, label)
SECTIONS = {
    "sales": ("erp", "erp.reports", _l("销售")),
    "purchasing": ("erp", "erp.reports", _l("采购")),
    "wms": ("wms", "wms.read", _l("仓储拣货")),
    "mes": ("mes", "mes.read", _l("生产报工")),
}
SALES_KEYS = ("revenue", "cost", "margin", "invoiced", "collected", "overdue", "documents")
BUYER_KEYS = ("lines", "on_time", "late", "amount", "documents")
CENT = Decimal("0.01")


# ------------------------------------------------------------------ the tree
def department_tree(uow: UnitOfWork, *, root_id: int | None = None) -> list[dict]:
    """Departments depth first with their depth, manager and head count (active records); from `root_id` down
    when given (the department included)."""
    depts = list(uow.session.scalars(select(m.Department).where(
        m.Department.company_id == uow.company_id, m.Department.active.is_(True)).order_by(m.Department.code)))
    heads: dict = defaultdict(int)
    names = {}
    for dept_id, emp_id, name, status in uow.session.execute(
            select(m.Employee.department_id, m.Employee.id, m.Employee.name, m.Employee.status)
            .where(m.Employee.company_id == uow.company_id, m.Employee.active.is_(True))):
        names[emp_id] = name
        if status == "active":
            heads[dept_id] += 1
    children: dict = defaultdict(list)
    for d in depts:
        children[d.parent_id].append(d)
    out: list[dict] = []

    def walk(d, depth):
        out.append({"id": d.id, "code": d.code, "name": d.name, "depth": depth, "parent_id": d.parent_id,
                    "manager_id": d.manager_id, "manager": names.get(d.manager_id, ""), "headcount": heads[d.id]})
        for c in children[d.id]:
            walk(c, depth + 1)

    known = {d.id for d in depts}
    roots = [d for d in depts if d.id == root_id] if root_id else \
        [d for d in depts if d.parent_id is None or d.parent_id not in known]
    for d in roots:
        walk(d, 0)
    return out


def _subtree_ids(uow: UnitOfWork, department_id: int) -> list[int]:
    return [d["id"] for d in department_tree(uow, root_id=department_id)]


# ------------------------------------------------------------------ performance
def sections_shown(uow: UnitOfWork) -> list[str]:
    on = enabled_for(uow)
    return [s for s, (module, perm, _label) in SECTIONS.items() if module in on and uow.actor.can(perm)]


def _figures(uow: UnitOfWork, employees: list[m.Employee], p) -> tuple[list[str], dict[int, dict]]:
    """Each employee's figures per shown section, each module read once for the whole list."""
    shown = sections_shown(uow)
    ids = {e.id for e in employees}
    by_user = {e.user_id: e.id for e in employees if e.user_id}
    out: dict[int, dict] = {e.id: {} for e in employees}
    if "sales" in shown or "purchasing" in shown:
        from opensupply.erp.reports import performance as erp_perf

        if "sales" in shown:
            rows = {r["key"]: r for r in erp_perf.salespeople(uow, p.date_from, p.date_to)["lines"] if r["key"] in ids}
            for eid in ids:
                r = rows.get(eid, {})
                out[eid]["sales"] = {k: r.get(k, 0 if k == "documents" else ZERO) for k in SALES_KEYS}
        if "purchasing" in shown:
            rows = {r["key"]: r for r in erp_perf.buyers(uow, p.date_from, p.date_to)["lines"] if r["key"] in ids}
            for eid in ids:
                r = rows.get(eid, {})
                out[eid]["purchasing"] = {k: r.get(k, 0 if k == "documents" else ZERO) for k in BUYER_KEYS}
    if "wms" in shown:
        from opensupply.wms import reports as wms_reports

        picks = wms_reports.productivity_by_user(uow, date_from=p.date_from, date_to=p.date_to,
                                                 user_ids=set(by_user))
        for eid in ids:
            out[eid]["wms"] = {"lines": 0, "units": ZERO, "hours": 0.0}
        for uid, r in picks.items():
            w = out[by_user[uid]]["wms"]
            w["lines"], w["units"], w["hours"] = r["lines"], r["units"], r["hours"]
    if "mes" in shown:
        from opensupply.mes import terminal

        for eid in ids:
            out[eid]["mes"] = {"qty_good": ZERO, "qty_scrap": ZERO, "reports": 0, "labour_minutes": ZERO}
        start, end = p.bounds
        for r in terminal.output_by_operator(uow, date_from=start, date_to=end):
            eid = r["employee_id"] if r["employee_id"] else by_user.get(r["user_id"])
            if eid not in ids:
                continue
            o = out[eid]["mes"]
            for k in ("qty_good", "qty_scrap", "reports", "labour_minutes"):
                o[k] += r[k]
    for fig in out.values():
        _ratios(fig)
    return shown, out


def _pct(part, whole) -> Decimal | None:
    return (Decimal(part) / Decimal(whole) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else None


def _qty(value) -> Decimal:
    """10, not 10.000000 (the columns keep six places)."""
    value = Decimal(value)
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def _ratios(fig: dict) -> None:
    if "sales" in fig:
        s = fig["sales"]
        for k in SALES_KEYS[:-1]:  # amounts to the cent
            s[k] = Decimal(s[k]).quantize(CENT)
        s["margin_pct"], s["collection_pct"] = _pct(s["margin"], s["revenue"]), _pct(s["collected"], s["invoiced"])
    if "purchasing" in fig:
        b = fig["purchasing"]
        b["lines"], b["on_time"], b["late"] = int(b["lines"]), int(b["on_time"]), int(b["late"])
        b["amount"] = Decimal(b["amount"]).quantize(CENT)
        b["on_time_pct"] = _pct(b["on_time"], b["lines"])
    if "wms" in fig:
        w = fig["wms"]
        w["hours"], w["units"] = round(w["hours"], 2), _qty(w["units"])
        w["lines_per_hour"] = round(w["lines"] / w["hours"], 1) if w["hours"] else None
    if "mes" in fig:
        o = fig["mes"]
        o["qty_good"], o["qty_scrap"] = _qty(o["qty_good"]), _qty(o["qty_scrap"])
        o["hours"] = (Decimal(o["labour_minutes"]) / 60).quantize(Decimal("0.01"))
        o["good_per_hour"] = ((o["qty_good"] / o["hours"]).quantize(Decimal("0.1"), ROUND_HALF_UP)
                              if o["hours"] else None)


def _employee_dict(e: m.Employee, departments: dict) -> dict:
    return {"id": e.id, "code": e.code, "name": e.name, "position": e.position, "status": e.status,
            "department_id": e.department_id, "department": departments.get(e.department_id, ""),
            "user_id": e.user_id, "start_date": e.start_date, "leave_date": e.leave_date}


def _department_names(uow: UnitOfWork) -> dict:
    return dict(uow.session.execute(select(m.Department.id, m.Department.name).where(
        m.Department.company_id == uow.company_id)).all())


def employee_performance(uow: UnitOfWork, employee_id: int, p) -> dict:
    """One person's figures over period `p` (a dashboards Period): {"employee", "period", "sections", figures}."""
    uow.actor.require("masterdata.read")
    e = rs.get_record(uow, resources.employees, employee_id)  # another company's employee: 404
    shown, figures = _figures(uow, [e], p)
    return {"employee": _employee_dict(e, _department_names(uow)), "period": p.as_dict(),
            "sections": [{"key": s, "label": str(SECTIONS[s][2])} for s in shown], **figures[e.id]}


def department_performance(uow: UnitOfWork, department_id: int, p) -> dict:
    """A team's figures: one row per employee of the department and its sub-departments, and the totals."""
    uow.actor.require("masterdata.read")
    dept = rs.get_record(uow, resources.departments, department_id)
    dept_ids = _subtree_ids(uow, dept.id)
    people = list(uow.session.scalars(select(m.Employee).where(
        m.Employee.company_id == uow.company_id, m.Employee.active.is_(True), m.Employee.department_id.in_(dept_ids))
        .order_by(m.Employee.code)))
    shown, figures = _figures(uow, people, p)
    names = _department_names(uow)
    rows = [{"employee": _employee_dict(e, names), **figures[e.id]} for e in people]
    totals: dict = {}
    for s in shown if rows else ():
        keys = [k for k in (rows[0][s] if rows else {}) if not k.endswith(("_pct", "_per_hour"))]
        totals[s] = {k: sum((r[s][k] for r in rows), ZERO if isinstance(rows[0][s][k], Decimal) else 0)
                     for k in keys}
    _ratios(totals)
    return {"department": {"id": dept.id, "code": dept.code, "name": dept.name}, "period": p.as_dict(),
            "sections": [{"key": s, "label": str(SECTIONS[s][2])} for s in shown], "rows": rows, "totals": totals}
