"""Demand forecasting use cases (需求预测).

* `start_forecast(uow, bucket=, horizon=, history_periods=)` records a run (运行中) and enqueues the job
  `scm.forecast`; `run_forecast(uow, …)` does the same at once in the caller's unit of work (tests, CLI).
* **History**: ordered quantities of confirmed sales orders per SKU (all channels, all warehouses), read through
  `erp.sales.service.demand_history`, bucketed by calendar month or ISO week, over the last `history_periods`
  full periods before the current one; SKUs with no demand in the window are left out.
* **Engine**: `scm.forecasting.forecast_many` (the same function `bench forecast` measures), with a backtest
  per series; the run keeps each series' model and backtest MASE.
* **Review**: a planner overrides a line (quantity and reason, who/when kept), approves the run, and publishes
  an approved run to MRP as independent demand (source "scm_forecast").
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, or_, select

from opensupply.core import jobs
from opensupply.core.audit import record
from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import Product

from . import forecasting
from .models import ForecastLine, ForecastRun, ForecastSeries

JOB_KIND = "scm.forecast"
BUCKETS = {"month": _l("月"), "week": _l("周")}
SEASON = {"month": 12, "week": 52}
STATES = {"running": _l("运行中"), "done": _l("待审核"), "approved": _l("已审核"), "published": _l("已发布到 MRP"),
          "failed": _l("失败")}
MODELS = {"combo": _l("组合（Theta/SES）"), "combo_seasonal": _l("季节组合"), "croston": "Croston",
          "tsb": "TSB", "adida": "ADIDA", "imapa": "IMAPA", "mean": _l("均值"), "zero": _l("无需求")}
MAX_HORIZON = {"month": 36, "week": 104}
MAX_HISTORY = {"month": 120, "week": 520}
MRP_SOURCE = "scm_forecast"

register_sequence("SCM_FC", "FC{year}-", 5)


def state_label(state: str) -> str:
    return str(STATES.get(state, state))


def model_label(model: str) -> str:
    return str(MODELS.get(model, model))


# ------------------------------------------------------------------ periods
def period_start(day: dt.date, bucket: str) -> dt.date:
    if bucket == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def shift(start: dt.date, bucket: str, n: int) -> dt.date:
    if bucket == "week":
        return start + dt.timedelta(weeks=n)
    months = start.year * 12 + start.month - 1 + n
    return dt.date(months // 12, months % 12 + 1, 1)


def _index(start: dt.date, day: dt.date, bucket: str) -> int:
    p = period_start(day, bucket)
    if bucket == "week":
        return (p - start).days // 7
    return (p.year - start.year) * 12 + p.month - start.month


def _check(bucket: str, horizon: int, history_periods: int) -> None:
    if bucket not in BUCKETS:
        raise ValidationFailed(_("时间粒度只能是月或周"), field="bucket")
    if not 1 <= int(horizon) <= MAX_HORIZON[bucket]:
        raise ValidationFailed(_("预测期数须在 1 到 {n} 之间", n=MAX_HORIZON[bucket]), field="horizon")
    if not 4 <= int(history_periods) <= MAX_HISTORY[bucket]:
        raise ValidationFailed(_("历史期数须在 4 到 {n} 之间", n=MAX_HISTORY[bucket]), field="history_periods")


# ------------------------------------------------------------------ runs
def _new_run(uow: UnitOfWork, bucket: str, horizon: int, history_periods: int) -> ForecastRun:
    uow.actor.require("scm.plan")
    _check(bucket, horizon, history_periods)
    busy = uow.session.scalar(select(ForecastRun.id).where(ForecastRun.company_id == uow.company_id,
                                                          ForecastRun.state == "running").limit(1))
    if busy:
        raise Conflict(_("已有预测任务在运行，请等待它完成"), field="forecast", code="forecast_running")
    first = period_start(company_today(uow), bucket)
    run = ForecastRun(number=next_number(uow, "SCM_FC"), state="running", bucket=bucket, horizon=int(horizon),
                      history_periods=int(history_periods), first_period=first,
                      history_start=shift(first, bucket, -int(history_periods)))
    uow.add(run)
    uow.flush()
    return run


def start_forecast(uow: UnitOfWork, *, bucket: str = "month", horizon: int = 12,
                   history_periods: int = 36) -> ForecastRun:
    """A run (运行中) computed by the background job `scm.forecast` after the commit."""
    run = _new_run(uow, bucket, horizon, history_periods)
    run.job_id = jobs.enqueue(uow, JOB_KIND, {"run_id": run.id}).id
    return run


def run_forecast(uow: UnitOfWork, *, bucket: str = "month", horizon: int = 12,
                 history_periods: int = 36) -> ForecastRun:
    """Forecast now, in the caller's unit of work."""
    run = _new_run(uow, bucket, horizon, history_periods)
    history = build_history(uow, run)
    store_result(uow, run, history, _forecast(history, run))
    return run


def build_history(uow: UnitOfWork, run: ForecastRun) -> dict[int, list[float]]:
    """{product_id: quantity per period from run.history_start, oldest first} for SKUs with demand."""
    from opensupply.erp.sales import service as sales

    n = run.history_periods
    until = run.first_period - dt.timedelta(days=1)
    series: dict[int, list[float]] = defaultdict(lambda: [0.0] * n)
    for row in sales.demand_history(uow, since=run.history_start, until=until):
        i = _index(run.history_start, row["date"], run.bucket)
        if 0 <= i < n:
            series[row["product_id"]][i] += float(row["quantity"])
    return {pid: ys for pid, ys in sorted(series.items()) if any(ys)}


def _trim_leading_zeros(ys: list[float]) -> list[float]:
    # a SKU introduced during the window has no demand before its launch, not zero demand
    for i, v in enumerate(ys):
        if v:
            return ys[i:]
    return ys


def _forecast(history: dict[int, list[float]], run: ForecastRun, progress=None):
    t0 = time.perf_counter()
    results = forecasting.forecast_many([_trim_leading_zeros(ys) for ys in history.values()], run.horizon,
                                        SEASON[run.bucket], backtest=True, progress=progress)
    return results, time.perf_counter() - t0


def _qty(x: float) -> Decimal:
    return Decimal(str(round(float(x), 2))).quantize(Decimal("0.01"), ROUND_HALF_UP)


def store_result(uow: UnitOfWork, run: ForecastRun, history: dict[int, list[float]], computed) -> ForecastRun:
    results, seconds = computed
    errors = []
    for (pid, ys), res in zip(history.items(), results, strict=True):
        s = ForecastSeries(run_id=run.id, product_id=pid, model=res.model, backtest_mase=res.backtest_mase,
                           history=[round(v, 4) for v in ys], history_total=_qty(sum(ys)),
                           forecast_total=_qty(sum(float(_qty(v)) for v in res.mean)))
        uow.add(s)
        s.lines = [ForecastLine(company_id=uow.company_id, run_id=run.id, product_id=pid,
                                period_start=shift(run.first_period, run.bucket, k), quantity=_qty(v))
                   for k, v in enumerate(res.mean)]
        if res.backtest_mase is not None:
            errors.append(res.backtest_mase)
    run.series_count = len(results)
    run.seconds = round(seconds, 3)
    run.backtest_mase = round(sum(errors) / len(errors), 4) if errors else None
    run.state = "done"
    run.finished_at = utcnow()
    uow.flush()
    return run


@jobs.job(JOB_KIND)
def _forecast_job(ctx: jobs.JobContext) -> dict:
    run_id = int(ctx.params["run_id"])
    try:
        ctx.progress(5, _("读取销售需求历史"))
        with ctx.uow() as uow:
            run = uow.get(ForecastRun, run_id)
            history = build_history(uow, run)
            uow.session.expunge(run)
        ctx.progress(15, _("预测 {n} 个 SKU", n=len(history)))
        computed = _forecast(history, run, progress=lambda done, total: ctx.progress(
            15 + 75 * done / max(total, 1), _("已预测 {done}/{total}", done=done, total=total)))
        ctx.progress(92, _("保存预测结果"))
        with ctx.uow() as uow:
            run = uow.get(ForecastRun, run_id, for_update=True)
            store_result(uow, run, history, computed)
            return {"run_id": run.id, "series": run.series_count}
    except Exception as exc:
        with ctx.uow() as uow:
            run = uow.get(ForecastRun, run_id, for_update=True)
            if run.state == "running":
                run.state = "failed"
                run.finished_at = utcnow()
                run.message = (_("已取消") if isinstance(exc, jobs.JobCancelled) else
                               getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}")[:300]
        raise


# ------------------------------------------------------------------ reading
def list_runs(uow: UnitOfWork, *, limit: int = 50, offset: int = 0) -> tuple[list[ForecastRun], int]:
    uow.actor.require("scm.read")
    stmt = select(ForecastRun).where(ForecastRun.company_id == uow.company_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(uow.session.scalars(stmt.order_by(ForecastRun.id.desc()).limit(max(1, min(limit, 500)))
                                     .offset(max(0, offset))))
    return items, total


def get_run(uow: UnitOfWork, run_id: int) -> ForecastRun:
    uow.actor.require("scm.read")
    return uow.get(ForecastRun, run_id)


def list_series(uow: UnitOfWork, run_id: int, *, q: str = "", model: str = "", overridden: bool = False,
                limit: int = 50, offset: int = 0) -> tuple[list[ForecastSeries], int]:
    run = get_run(uow, run_id)
    stmt = select(ForecastSeries).join(Product, Product.id == ForecastSeries.product_id).where(
        ForecastSeries.run_id == run.id)
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Product.sku.ilike(like), Product.name.ilike(like)))
    if model:
        stmt = stmt.where(ForecastSeries.model == model)
    if overridden:
        stmt = stmt.where(ForecastSeries.id.in_(select(ForecastLine.series_id).where(
            ForecastLine.run_id == run.id, ForecastLine.override_qty.is_not(None))))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = list(uow.session.scalars(stmt.order_by(ForecastSeries.forecast_total.desc(), Product.sku)
                                     .limit(max(1, min(limit, 500))).offset(max(0, offset))))
    return items, total


def get_series(uow: UnitOfWork, series_id: int) -> ForecastSeries:
    uow.actor.require("scm.read")
    return uow.get(ForecastSeries, series_id)


def chart_data(run: ForecastRun, series: ForecastSeries) -> dict:
    """History, forecast and final (overridden) quantities on one period axis, for ECharts."""
    hist = list(series.history)
    periods = [shift(run.history_start, run.bucket, k) for k in range(len(hist))]
    periods += [ln.period_start for ln in series.lines]
    nh, nf = len(hist), len(series.lines)
    fc = [float(ln.quantity) for ln in series.lines]
    # the forecast line starts at the last history point so the two lines join on the chart
    forecast = [None] * (nh - 1) + [hist[-1]] + fc if nh else fc
    return {"periods": [p.isoformat() for p in periods],
            "history": hist + [None] * nf,
            "forecast": forecast,
            "final": [None] * nh + [float(ln.final_qty) for ln in series.lines]}


# ------------------------------------------------------------------ review
def override_line(uow: UnitOfWork, line_id: int, *, quantity, reason: str | None) -> ForecastLine:
    """Set (or with quantity None, clear) the planner's quantity for one period; the reason is required."""
    uow.actor.require("scm.plan")
    line = uow.get(ForecastLine, line_id, for_update=True)
    run = uow.get(ForecastRun, line.run_id)
    if run.state not in ("done", "approved"):
        raise Conflict(_("只能调整待审核或已审核的预测"), field="state", code="forecast_locked")
    if quantity is None or (isinstance(quantity, str) and not quantity.strip()):
        line.override_qty = line.override_reason = line.override_by_id = line.override_at = None
    else:
        try:
            qty = Decimal(str(quantity).strip())
        except ArithmeticError as exc:
            raise ValidationFailed(_("调整数量必须是数字"), field="quantity") from exc
        if not qty.is_finite() or qty < 0:
            raise ValidationFailed(_("调整数量不能为负数"), field="quantity")
        if not (reason or "").strip():
            raise ValidationFailed(_("请填写调整原因"), field="reason")
        line.override_qty = qty.quantize(Decimal("0.01"), ROUND_HALF_UP)
        line.override_reason = reason.strip()[:300]
        line.override_by_id = uow.actor.user_id
        line.override_at = utcnow()
    if run.state == "approved":  # a changed forecast needs approving again before MRP sees it
        run.state, run.approved_by_id, run.approved_at = "done", None, None
    uow.flush()
    # lines are not audited row by row (a run writes thousands); the override is
    record(uow.session, "override", "scm_forecast_line", line.id,
           after={"quantity": None if line.override_qty is None else str(line.override_qty),
                  "reason": line.override_reason})
    return line


def approve_run(uow: UnitOfWork, run_id: int) -> ForecastRun:
    uow.actor.require("scm.plan")
    run = uow.get(ForecastRun, run_id, for_update=True)
    if run.state != "done":
        raise Conflict(_("只能审核待审核的预测"), field="state", code="forecast_not_done")
    run.state, run.approved_by_id, run.approved_at = "approved", uow.actor.user_id, utcnow()
    uow.flush()
    return run


def _mrp_set_demand():
    """ERP planning's `set_independent_demand` (from its service, or the demand module that defines it)."""
    import importlib

    for name in ("opensupply.erp.planning.service", "opensupply.erp.planning.demand"):
        try:
            fn = getattr(importlib.import_module(name), "set_independent_demand", None)
        except ImportError:
            continue
        if fn is not None:
            return fn
    return None


def mrp_available() -> bool:
    return _mrp_set_demand() is not None


def publish_to_mrp(uow: UnitOfWork, run_id: int) -> ForecastRun:
    """Hand the final quantities of an approved run to MRP as its independent demand (replacing the last one)."""
    uow.actor.require("scm.plan")
    run = uow.get(ForecastRun, run_id, for_update=True)
    if run.state not in ("approved", "published"):
        raise Conflict(_("只能发布已审核的预测"), field="state", code="forecast_not_approved")
    set_demand = _mrp_set_demand()
    if set_demand is None:
        raise Conflict(_("MRP 尚不可用"), field="mrp", code="mrp_unavailable")
    lines = uow.session.scalars(select(ForecastLine).where(ForecastLine.run_id == run.id)
                                .order_by(ForecastLine.product_id, ForecastLine.period_start))
    rows = [{"product_id": ln.product_id, "warehouse_id": None, "date": ln.period_start, "quantity": ln.final_qty}
            for ln in lines if ln.final_qty > 0]
    run.published_rows = set_demand(uow, source=MRP_SOURCE, rows=rows)
    run.state, run.published_at = "published", utcnow()
    uow.flush()
    return run


def export_rows(uow: UnitOfWork, run_id: int) -> tuple[list[str], list[list]]:
    run = get_run(uow, run_id)
    header = [_("物料编码"), _("名称"), _("期间"), _("模型"), _("回测 MASE"), _("预测数量"), _("调整数量"),
              _("调整原因"), _("最终数量")]
    rows = []
    stmt = (select(ForecastLine, ForecastSeries, Product)
            .join(ForecastSeries, ForecastSeries.id == ForecastLine.series_id)
            .join(Product, Product.id == ForecastLine.product_id)
            .where(ForecastLine.run_id == run.id).order_by(Product.sku, ForecastLine.period_start))
    for ln, s, p in uow.session.execute(stmt):
        rows.append([p.sku, p.name, ln.period_start.isoformat(), model_label(s.model), s.backtest_mase,
                     ln.quantity, ln.override_qty, ln.override_reason or "", ln.final_qty])
    return header, rows


def run_dict(run: ForecastRun) -> dict:
    return {"id": run.id, "number": run.number, "state": run.state, "state_label": state_label(run.state),
            "bucket": run.bucket, "horizon": run.horizon, "history_periods": run.history_periods,
            "first_period": run.first_period.isoformat() if run.first_period else None,
            "series": run.series_count, "seconds": run.seconds, "backtest_mase": run.backtest_mase,
            "job_id": run.job_id, "message": run.message,
            "approved_at": run.approved_at.isoformat() if run.approved_at else None,
            "published_at": run.published_at.isoformat() if run.published_at else None}


def series_dict(s: ForecastSeries, *, lines: bool = False) -> dict:
    out = {"id": s.id, "product_id": s.product_id, "sku": s.product.sku, "name": s.product.name,
           "model": s.model, "model_label": model_label(s.model), "backtest_mase": s.backtest_mase,
           "history_total": str(s.history_total), "forecast_total": str(s.forecast_total)}
    if lines:
        out["lines"] = [{"id": ln.id, "period_start": ln.period_start.isoformat(), "quantity": str(ln.quantity),
                         "override_qty": None if ln.override_qty is None else str(ln.override_qty),
                         "override_reason": ln.override_reason, "override_by_id": ln.override_by_id,
                         "override_at": ln.override_at.isoformat() if ln.override_at else None,
                         "final_qty": str(ln.final_qty)} for ln in s.lines]
    return out
