"""The figures of the role dashboards. Read-only, and only through the owning modules' services: ERP reports
(sales and gross margin by channel, purchases), ERP sales (on-time delivery, collections, AR aging), accounting
(货币资金, monthly profit), inventory (stock value), WMS (waves, backlog, pick productivity), SRM (late orders,
scorecard ranking), MES (work order states, completions, OEE) and CRM (pipeline, won deals).

Every dashboard is a dict `{"name", "label", "period", "kpis": [...], "charts": {...}}`. A KPI is
`{"key", "label", "value", "previous", "format", "delta", "change_pct"}` — `previous` is the same figure over the
previous period (None for a figure that is a state of now, such as the backlog). A widget whose module is off for
the company, or whose data the user may not read, is left out (its KPI keys and chart are absent).

Periods are days where the company is: this month so far, the last 30 days, this quarter so far, or custom dates;
the previous period is as long and ends the day before."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from opensupply.core.errors import NotFound, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.modules import enabled_for
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork

from . import ACCESS

ZERO = Decimal(0)
CENT = Decimal("0.01")
NAMES = tuple(ACCESS)
LABELS = {"owner": _l("老板看板"), "warehouse": _l("仓库看板"), "purchasing": _l("采购看板"),
          "production": _l("生产看板"), "sales": _l("销售看板")}
# a dashboard that is nothing but one module's figures does not exist while that module is off
NEEDS_MODULE = {"warehouse": "wms", "production": "mes"}
# the dashboard a user lands on: the first of these whose permission the user holds
LANDING_ORDER = ("owner", "sales", "purchasing", "warehouse", "production")
PERIOD_KINDS = {"month": _l("本月"), "30d": _l("近 30 天"), "quarter": _l("本季度"), "custom": _l("自定义")}


# ------------------------------------------------------------------ periods
@dataclass(frozen=True)
class Period:
    kind: str
    date_from: dt.date
    date_to: dt.date
    prev_from: dt.date
    prev_to: dt.date
    today: dt.date
    tz: ZoneInfo

    def start(self, day: dt.date) -> dt.datetime:
        """The first instant of a local day, as an aware datetime."""
        return dt.datetime.combine(day, dt.time(), self.tz)

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return self.start(self.date_from), self.start(self.date_to + dt.timedelta(days=1))

    @property
    def prev_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        return self.start(self.prev_from), self.start(self.prev_to + dt.timedelta(days=1))

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": str(PERIOD_KINDS[self.kind]), "date_from": self.date_from,
                "date_to": self.date_to, "previous_from": self.prev_from, "previous_to": self.prev_to}


def _tz(uow: UnitOfWork) -> ZoneInfo:
    company_today(uow)  # caches the company's zone on the session
    return uow.session.info["company_tz"]


def _month_back(day: dt.date, months: int) -> dt.date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    import calendar

    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def period(uow: UnitOfWork, kind: str | None = "month", date_from: dt.date | None = None,
           date_to: dt.date | None = None) -> Period:
    """The period a dashboard shows and the previous one to compare with."""
    kind = kind or ("custom" if date_from or date_to else "month")
    if kind not in PERIOD_KINDS:
        raise ValidationFailed(_("期间只能是 month、30d、quarter 或 custom"), field="period")
    today = company_today(uow)
    if kind == "month":
        start, end = today.replace(day=1), today
        prev_from, prev_to = _month_back(start, 1), _month_back(end, 1)
    elif kind == "quarter":
        start, end = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
        prev_from, prev_to = _month_back(start, 3), _month_back(end, 3)
    else:
        if kind == "30d":
            start, end = today - dt.timedelta(days=29), today
        else:
            end = date_to or today
            start = date_from or end.replace(day=1)
            if start > end:
                raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")
            if (end - start).days > 366:
                raise ValidationFailed(_("一次最多看 {n} 天", n=366), field="date_to")
        prev_to = start - dt.timedelta(days=1)
        prev_from = prev_to - (end - start)
    return Period(kind, start, end, prev_from, prev_to, today, _tz(uow))


# ------------------------------------------------------------------ access
def can_open(uow: UnitOfWork, name: str, on: set[str] | None = None) -> bool:
    if name not in ACCESS:
        return False
    on = enabled_for(uow) if on is None else on
    if NEEDS_MODULE.get(name) and NEEDS_MODULE[name] not in on:
        return False
    return any(uow.actor.can(p) for p in ACCESS[name])


def available(uow: UnitOfWork) -> list[dict]:
    """The dashboards this user may open, in menu order."""
    on = enabled_for(uow)
    return [{"name": n, "label": str(LABELS[n])} for n in NAMES if can_open(uow, n, on)]


def landing(uow: UnitOfWork) -> str | None:
    """The dashboard fitting the user's role: the first of LANDING_ORDER they may open."""
    names = {d["name"] for d in available(uow)}
    return next((n for n in LANDING_ORDER if n in names), None)


def check_access(uow: UnitOfWork, name: str) -> None:
    if name not in ACCESS or (NEEDS_MODULE.get(name) and NEEDS_MODULE[name] not in enabled_for(uow)):
        raise NotFound(_("没有这个看板：{name}", name=name))
    if not can_open(uow, name):
        raise PermissionDenied(_("没有权限：{permission}", permission=" / ".join(ACCESS[name])))


# ------------------------------------------------------------------ building blocks
def kpi(key: str, label, value, previous=None, fmt: str = "money", *, note=None) -> dict:
    if fmt == "money":  # amounts to the cent, whatever precision the source keeps
        value, previous = (None if v is None else Decimal(v).quantize(CENT) for v in (value, previous))
    elif fmt == "number":  # 200, not 200.000000
        value, previous = (v.normalize() + 0 if isinstance(v, Decimal) else v for v in (value, previous))
    delta = change = None
    if value is not None and previous is not None:
        delta = Decimal(value) - Decimal(previous)
        if fmt != "pct" and previous:
            change = (delta / abs(Decimal(previous)) * 100).quantize(Decimal("0.1"))
    return {"key": key, "label": str(label), "value": value, "previous": previous, "format": fmt, "delta": delta,
            "change_pct": change, "note": str(note) if note else None}


class _Board:
    def __init__(self, uow: UnitOfWork, name: str, p: Period):
        self.uow, self.name, self.p = uow, name, p
        self.on = enabled_for(uow)
        self.kpis: list[dict] = []
        self.charts: dict[str, dict] = {}

    def shows(self, module: str, permission: str | None = None) -> bool:
        """A widget of `module` is shown while the module is on and (when given) the user holds `permission`."""
        return module in self.on and (permission is None or self.uow.actor.can(permission))

    def out(self) -> dict:
        return {"name": self.name, "label": str(LABELS[self.name]), "period": self.p.as_dict(), "kpis": self.kpis,
                "charts": self.charts}


# ------------------------------------------------------------------ owner
def owner(uow: UnitOfWork, p: Period) -> dict:
    """Sales by channel and gross margin (ERP reports), 货币资金 (accounting), stock value (inventory valuation),
    on-time delivery (ERP deliveries) and the year's monthly revenue and profit (accounting)."""
    from opensupply.accounting import reports as fin
    from opensupply.erp.reports import service as rep
    from opensupply.erp.sales import service as sales
    from opensupply.inventory import service as inv

    b = _Board(uow, "owner", p)
    now = rep.sales(uow, p.date_from, p.date_to, by="channel")
    before = rep.sales(uow, p.prev_from, p.prev_to, by="channel")
    b.kpis.append(kpi("revenue", _l("销售额（不含税）"), now["totals"]["amount_untaxed"],
                      before["totals"]["amount_untaxed"]))
    gm, gm_before = (rep.gross_margin(uow, p.date_from, p.date_to, by="channel"),
                     rep.gross_margin(uow, p.prev_from, p.prev_to, by="channel"))
    b.kpis.append(kpi("gross_margin", _l("毛利"), gm["totals"]["margin"], gm_before["totals"]["margin"]))
    b.kpis.append(kpi("gross_margin_pct", _l("毛利率"), gm["totals"]["margin_pct"], gm_before["totals"]["margin_pct"],
                      "pct"))
    b.kpis.append(kpi("cash", _l("货币资金"), fin.cash_balance(uow, p.date_to), fin.cash_balance(uow, p.prev_to),
                      note=_l("期末余额")))
    end = None if p.date_to >= p.today else p.start(p.date_to + dt.timedelta(days=1))
    b.kpis.append(kpi("stock_value", _l("库存金额"), inv.stock_value(uow, end),
                      inv.stock_value(uow, p.start(p.prev_to + dt.timedelta(days=1))), note=_l("期末余额")))
    ot, ot_before = (sales.delivery_punctuality(uow, p.date_from, p.date_to),
                     sales.delivery_punctuality(uow, p.prev_from, p.prev_to))
    b.kpis.append(kpi("on_time_delivery", _l("准时交货率"), ot["rate"], ot_before["rate"], "pct",
                      note=_("{on_time}/{shipped} 单准时", on_time=ot["on_time"], shipped=ot["shipped"])))
    prev_by = {r["key"]: r["amount_untaxed"] for r in before["lines"]}
    margin_by = {r["key"]: r["margin"] for r in gm["lines"]}
    channels = [{"key": r["key"], "label": r["name"], "amount": r["amount_untaxed"],
                 "previous": prev_by.pop(r["key"], ZERO), "margin": margin_by.get(r["key"], ZERO)}
                for r in now["lines"]]
    labels = {r["key"]: r["name"] for r in before["lines"]}
    channels += [{"key": k, "label": labels[k], "amount": ZERO, "previous": v, "margin": margin_by.get(k, ZERO)}
                 for k, v in prev_by.items()]
    b.charts["sales_by_channel"] = {"title": str(_l("各渠道销售额（不含税）")), "channels": channels}
    b.charts["monthly_profit"] = {"title": str(_l("本年各月收入与利润")),
                                  "months": fin.monthly_profit(uow, p.date_to.year, through=p.date_to)}
    return b.out()


# ------------------------------------------------------------------ warehouse
def warehouse(uow: UnitOfWork, p: Period) -> dict:
    """Waves, backlog and pick productivity from the WMS."""
    from opensupply.wms import reports as wr
    from opensupply.wms import waves

    b = _Board(uow, "warehouse", p)
    now = wr.floor_summary(uow, date_from=p.date_from, date_to=p.date_to)
    before = wr.floor_summary(uow, date_from=p.prev_from, date_to=p.prev_to)
    b.kpis += [
        kpi("waves_created", _l("新建波次"), now["waves"]["created"], before["waves"]["created"], "count"),
        kpi("waves_finished", _l("完成波次"), now["waves"]["finished"], before["waves"]["finished"], "count"),
        kpi("pick_lines", _l("拣货行数"), now["picks"]["lines"], before["picks"]["lines"], "count"),
        kpi("lines_per_hour", _l("每小时拣货行"), now["picks"]["lines_per_hour"], before["picks"]["lines_per_hour"],
            "number"),
        kpi("backlog_fulfilments", _l("待组波订单"), now["backlog"]["fulfilments_waiting"], None, "count",
            note=_l("当前")),
        kpi("backlog_pick_lines", _l("待拣货行"), now["backlog"]["open_pick_lines"], None, "count", note=_l("当前")),
    ]
    b.charts["waves_by_state"] = {"title": str(_l("本期波次（按状态）")),
                                  "states": [{"state": s, "label": waves.wave_state_label(s), "count": n}
                                             for s, n in now["waves"]["by_state"].items()]}
    b.charts["pickers"] = {"title": str(_l("拣货员效率（行/小时）")), "pickers": now["picks"]["pickers"]}
    return b.out()


# ------------------------------------------------------------------ purchasing
def purchasing(uow: UnitOfWork, p: Period) -> dict:
    """Goods received and billed (ERP purchase report), late orders (SRM fulfilment tracking) and the supplier
    ranking of the period's scorecards (SRM)."""
    from opensupply.erp.reports import service as rep

    b = _Board(uow, "purchasing", p)
    if b.shows("erp", "erp.read"):
        now = rep.purchases(uow, p.date_from, p.date_to, by="supplier")
        before = rep.purchases(uow, p.prev_from, p.prev_to, by="supplier")
        b.kpis.append(kpi("received_value", _l("采购入库金额"), now["totals"]["amount"], before["totals"]["amount"]))
        b.kpis.append(kpi("billed_value", _l("供应商开票"), now["totals"]["billed"], before["totals"]["billed"]))
        b.charts["purchases_by_supplier"] = {"title": str(_l("各供应商入库金额")), "suppliers": [
            {"code": r["code"], "name": r["name"], "amount": r["amount"]} for r in now["lines"][:10]]}
    if b.shows("srm", "srm.read"):
        from opensupply.srm import late_orders as lo
        from opensupply.srm import scorecard as sc

        late, total = lo.late_orders(uow, today=min(p.date_to, p.today), limit=10)
        b.kpis.append(kpi("late_orders", _l("逾期采购订单"), total, None, "count", note=_l("期末")))
        kind = "quarter" if p.kind == "quarter" else "month"
        ranked = sc.ranking(uow, sc.period_of(p.date_to, kind))
        ranked_before = sc.ranking(uow, sc.period_of(p.prev_to, kind))
        b.kpis.append(kpi("supplier_on_time", _l("供应商准时率"), _on_time(ranked), _on_time(ranked_before), "pct",
                          note=_("评分期 {period}", period=sc.period_of(p.date_to, kind))))
        b.charts["supplier_ranking"] = {"title": str(_l("供应商排名（综合得分）")),
                                        "period": sc.period_of(p.date_to, kind), "suppliers": [
            {"rank": r["rank"], "code": r["code"], "name": r["name"], "score": r["score"],
             "on_time_pct": r["on_time_pct"]} for r in ranked[:10]]}
        b.charts["late_orders"] = {"title": str(_l("逾期最久的采购订单")), "orders": [
            {"id": r["id"], "number": r["number"], "supplier": r["supplier"], "due_date": r["due_date"],
             "days_late": r["days_late"], "open_quantity": r["open_quantity"]} for r in late]}
    return b.out()


def _on_time(ranked: list[dict]) -> Decimal | None:
    lines = sum(r["lines_received"] or 0 for r in ranked)
    on_time = sum(r["lines_on_time"] or 0 for r in ranked)
    return (Decimal(on_time * 100) / lines).quantize(Decimal("0.1")) if lines else None


# ------------------------------------------------------------------ production
def production(uow: UnitOfWork, p: Period) -> dict:
    """Work orders by state and completions (MES work orders), OEE per machine and of the plant (MES OEE)."""
    from opensupply.mes import oee as mes_oee
    from opensupply.mes import work_orders as wo

    b = _Board(uow, "production", p)
    states = wo.state_counts(uow)
    done, done_before = wo.completions_between(uow, *p.bounds), wo.completions_between(uow, *p.prev_bounds)
    o, o_before = mes_oee.oee(uow, *p.bounds), mes_oee.oee(uow, *p.prev_bounds)

    def pct(x):
        return None if x is None else (Decimal(x) * 100).quantize(Decimal("0.1"))

    b.kpis += [
        kpi("open_work_orders", _l("在制工单"), sum(states[s] for s in wo.OPEN_STATES), None, "count",
            note=_l("当前")),
        kpi("completed_work_orders", _l("完工工单"), done["work_orders"], done_before["work_orders"], "count"),
        kpi("qty_good", _l("完工数量"), done["qty_good"], done_before["qty_good"], "number"),
        kpi("oee", _l("OEE（全厂）"), pct(o["plant"].oee), pct(o_before["plant"].oee), "pct"),
    ]
    b.charts["work_orders_by_state"] = {"title": str(_l("工单状态")), "states": [
        {"state": s, "label": wo.state_label(s), "count": n} for s, n in states.items() if n]}
    b.charts["oee_by_machine"] = {"title": str(_l("各设备 OEE")), "machines": [
        {"code": i.code, "name": i.name, "availability": pct(i.availability), "performance": pct(i.performance),
         "quality": pct(i.quality), "oee": pct(i.oee)} for i in o["items"]]}
    return b.out()


# ------------------------------------------------------------------ sales
def sales(uow: UnitOfWork, p: Period) -> dict:
    """Pipeline and won deals (CRM), sales, collections and receivables by age (ERP sales and reports)."""
    from opensupply.erp.reports import service as rep
    from opensupply.erp.sales import service as es

    b = _Board(uow, "sales", p)
    if b.shows("crm", "crm.read"):
        from opensupply.crm import service as crm

        stages = crm.pipeline(uow)
        open_stages = [s for s in stages if s["stage"] not in ("won", "lost")]
        won, won_before = crm.won_between(uow, *p.bounds), crm.won_between(uow, *p.prev_bounds)
        b.kpis += [
            kpi("pipeline_value", _l("在跟商机金额"), sum((s["value"] for s in open_stages), ZERO), None,
                note=_("{n} 个商机", n=sum(s["count"] for s in open_stages))),
            kpi("pipeline_weighted", _l("加权商机金额"), sum((s["weighted_value"] for s in open_stages), ZERO), None),
            kpi("won_value", _l("赢单金额"), won["value"], won_before["value"],
                note=_("{n} 单", n=won["count"])),
        ]
        b.charts["pipeline"] = {"title": str(_l("销售漏斗")), "stages": [
            {"stage": s["stage"], "label": s["label"], "count": s["count"], "value": s["value"]}
            for s in open_stages]}
    if b.shows("erp", "erp.read"):
        now = rep.sales(uow, p.date_from, p.date_to, by="channel")
        before = rep.sales(uow, p.prev_from, p.prev_to, by="channel")
        b.kpis.append(kpi("revenue", _l("销售额（不含税）"), now["totals"]["amount_untaxed"],
                          before["totals"]["amount_untaxed"]))
        b.kpis.append(kpi("collections", _l("回款"), es.receipts_total(uow, p.date_from, p.date_to),
                          es.receipts_total(uow, p.prev_from, p.prev_to)))
        aging = es.ar_aging(uow, as_of=min(p.date_to, p.today))
        overdue = sum((aging["totals"][bk["key"]] for bk in aging["buckets"] if bk["key"] != "not_due"), ZERO)
        b.kpis.append(kpi("receivable", _l("应收账款"), aging["totals"]["total"], None, note=_l("期末")))
        b.kpis.append(kpi("overdue", _l("逾期应收"), overdue, None, note=_l("期末")))
        b.charts["ar_aging"] = {"title": str(_l("应收账龄")), "buckets": [
            {"key": bk["key"], "label": bk["label"], "amount": aging["totals"][bk["key"]]} for bk in aging["buckets"]]}
    return b.out()


BUILDERS = {"owner": owner, "warehouse": warehouse, "purchasing": purchasing, "production": production,
            "sales": sales}


def dashboard(uow: UnitOfWork, name: str, p: Period) -> dict:
    """One dashboard's figures, after checking the user may open it."""
    check_access(uow, name)
    return BUILDERS[name](uow, p)


def plain(value):
    """JSON-ready: decimals as strings (as every amount in the API), dates as ISO text."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value
