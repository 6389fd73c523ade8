"""Scorecard pages under /srm/scorecards (ranking of a month or quarter with export, recompute and weights; one
supplier's trend chart) and incoming inspections of receipts under /srm/receipt-inspections (list and form:
sample size and defects by type). srm.read to look, srm.write to change. Thin over `srm.scorecard`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render, script_json

from . import scorecard
from .rfq_api import download

router = APIRouter(include_in_schema=False)
READ = Depends(page_permission(scorecard.READ))
WRITE = Depends(page_permission(scorecard.WRITE))
DEFECT_ROWS = 4


@router.get("/srm/scorecards")
def ranking_page(request: Request, p: Page = READ):
    qp = request.query_params
    q = (qp.get("q") or "").strip()
    with UnitOfWork(p.actor, readonly=True) as uow:
        today = company_today(uow)
        period = (qp.get("period") or "").strip() or scorecard.period_of(today)
        error = None
        try:
            items = scorecard.ranking(uow, period, q=q or None)
        except DomainError as exc:
            items, error = [], exc.message
        w = scorecard.weights(uow)
    periods = scorecard.recent_periods(today, "month", 12)[::-1] + scorecard.recent_periods(today, "quarter", 4)[::-1]
    return render(p, "srm/scorecards.html", status_code=422 if error else 200, title=_("供应商评分卡"), items=items,
                  period=period, periods=periods, q=q, error=error, weights=w,
                  can_write=p.actor.can(scorecard.WRITE))


@router.get("/srm/scorecards/export")
def ranking_export(request: Request, format: str = "xlsx", p: Page = READ):
    qp = request.query_params
    with UnitOfWork(p.actor, readonly=True) as uow:
        period = qp.get("period") or scorecard.period_of(company_today(uow))
        header, rows = scorecard.export_rows(uow, period, qp.get("q") or None)
    return download(header, rows, "csv" if format == "csv" else "xlsx", f"scorecards-{period}")


@router.post("/srm/scorecards/compute")
async def compute(request: Request, p: Page = WRITE):
    form = await request.form()
    period = str(form.get("period") or "")
    try:
        with UnitOfWork(p.actor) as uow:
            scorecard.recompute(uow, period)
    except DomainError as exc:
        return redirect("/srm/scorecards", exc.message, "error")
    return redirect(f"/srm/scorecards?period={period}", _("评分卡已重新计算"))


@router.post("/srm/scorecards/weights")
async def weights(request: Request, p: Page = WRITE):
    form = await request.form()
    try:
        with UnitOfWork(p.actor) as uow:
            scorecard.update_weights(uow, {m: str(form.get(m) or "") for m in scorecard.METRICS})
    except DomainError as exc:
        return redirect("/srm/scorecards", exc.message, "error")
    return redirect("/srm/scorecards", _("权重已保存，重新计算后生效"))


@router.get("/srm/scorecards/suppliers/{partner_id}")
def supplier_page(partner_id: int, request: Request, p: Page = READ):
    kind = "quarter" if request.query_params.get("kind") == "quarter" else "month"
    with UnitOfWork(p.actor, readonly=True) as uow:
        t = scorecard.trend(uow, partner_id, kind)
    return render(p, "srm/scorecard_supplier.html", title=_("评分趋势 {s}", s=t["name"]), t=t, kind=kind,
                  chart_json=script_json(t["chart"]))


@router.get("/srm/receipt-inspections")
def inspections_page(request: Request, p: Page = READ):
    q = (request.query_params.get("q") or "").strip()
    with UnitOfWork(p.actor, readonly=True) as uow:
        items, total = scorecard.inspection_rows(uow, q=q or None, limit=100)
    return render(p, "srm/scorecard_inspections.html", title=_("来料检验"), items=items, total=total, q=q,
                  values={"receipt": request.query_params.get("receipt") or ""}, rows=DEFECT_ROWS, error=None,
                  can_write=p.actor.can(scorecard.WRITE))


@router.post("/srm/receipt-inspections")
async def record(request: Request, p: Page = WRITE):
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in ("receipt", "sample_size", "defective_qty", "notes")}
    defects = [(str(form.get(f"type_{i}") or ""), str(form.get(f"qty_{i}") or "").strip() or None)
               for i in range(DEFECT_ROWS)]
    try:
        with UnitOfWork(p.actor) as uow:
            ins = scorecard.record_inspection(uow, values["receipt"], sample_size=values["sample_size"],
                                              defects=defects, defective_qty=values["defective_qty"] or None,
                                              notes=values["notes"])
            number = ins.number
    except DomainError as exc:
        with UnitOfWork(p.actor, readonly=True) as uow:
            items, total = scorecard.inspection_rows(uow, limit=100)
        return render(p, "srm/scorecard_inspections.html", status_code=422, title=_("来料检验"), items=items,
                      total=total, q="", values=values, rows=DEFECT_ROWS, error=exc.message, can_write=True)
    return redirect("/srm/receipt-inspections", _("来料检验 {n} 已保存，评分卡已更新", n=number))
