"""Advisor pages: /advisor — the questionnaire, the roadmap it gives (stage, modules with reasons, what comes
next, prerequisites), what the company's own numbers say, printable as PDF, and "apply" for an admin;
/admin/modules — switch modules on and off. Thin: `advisor.service`, `advisor.evidence`, `core.modules`."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request

from opensupply.core import modules
from opensupply.core.errors import DomainError
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import Company
from opensupply.web import redirect, render
from opensupply.web.pdf import pdf_response, render_pdf

from . import evidence, rules, service

router = APIRouter(include_in_schema=False)
USE = Depends(page_permission("advisor.use"))
ADMIN = Depends(page_permission("admin.modules"))
NUMBERS = ("headcount", "annual_revenue_cny", "daily_orders", "skus", "warehouses")
FLAGS = ("own_production", "own_fleet", "multi_company")
CHANNEL_LABELS = {"taobao": _l("淘宝"), "tmall": _l("天猫"), "jd": _l("京东"), "pdd": _l("拼多多"),
                  "miniapp": _l("小程序"), "douyin": _l("抖音"), "offline": _l("线下/批发"), "other": _l("其他")}
INDUSTRY_LABELS = {"manufacturing": _l("制造"), "retail": _l("零售"), "distribution": _l("分销"),
                   "mixed": _l("产销一体")}


def answers_from_form(form) -> dict:
    """The answers object from the questionnaire form (numbers left empty are left out)."""
    out: dict = {}
    for key in NUMBERS:
        raw = (form.get(key) or "").strip().replace(",", "")
        if raw:
            try:
                out[key] = int(float(raw)) if key != "annual_revenue_cny" else float(raw) * 10_000  # form asks 万元
            except ValueError:
                out[key] = raw  # the rules name the field and the bad value
    out["industry"] = form.get("industry") or ""
    for key in FLAGS:
        out[key] = bool(form.get(key))
    out["channels"] = list(form.getlist("channels")) if hasattr(form, "getlist") else []
    out["pain_points"] = list(form.getlist("pain_points")) if hasattr(form, "getlist") else []
    return out


def _context(uow: UnitOfWork) -> dict:
    return {"pain_points": [(k, rules.pain_label(k)) for k in rules.PAIN_POINTS],
            "channels": [(k, str(v)) for k, v in CHANNEL_LABELS.items()],
            "industries": [(k, str(v)) for k, v in INDUSTRY_LABELS.items()],
            "module_labels": {k: rules.module_label(k) for k in rules.MODULES},
            "findings": evidence.findings(uow), "states": {m["name"]: m["enabled"] for m in modules.module_states(uow)}}


@router.get("/advisor")
def advisor_page(p: Page = USE):
    with UnitOfWork(p.actor, readonly=True) as uow:
        ctx = _context(uow)
    return render(p, "advisor/advisor.html", title=_("先上哪个系统"), values={"industry": "mixed"}, result=None,
                  can_apply=p.actor.can("admin.modules"), answers_json="", **ctx)


@router.post("/advisor")
async def advisor_answer(request: Request, p: Page = USE):
    form = await request.form()
    answers = answers_from_form(form)
    error, result = None, None
    try:
        result = service.recommend(answers)
    except DomainError as exc:
        error = exc.message
    with UnitOfWork(p.actor, readonly=True) as uow:
        ctx = _context(uow)
    return render(p, "advisor/advisor.html", status_code=422 if error else 200, title=_("先上哪个系统"),
                  values=answers, result=result, error=error, can_apply=p.actor.can("admin.modules"),
                  answers_json=json.dumps(answers, ensure_ascii=False), **ctx)


@router.post("/advisor/apply")
async def advisor_apply(request: Request, p: Page = ADMIN):
    form = await request.form()
    try:
        answers = json.loads(form.get("answers") or "{}")
        with UnitOfWork(p.actor) as uow:
            done = service.apply_recommendation(uow, answers)
    except (ValueError, DomainError) as exc:
        return redirect("/advisor", getattr(exc, "message", _("答卷无效")), kind="error")
    labels = "、".join(modules._label(n) for n in done["on"]) or "-"
    return redirect("/admin/modules", _("已按建议开启：{m}", m=labels))


@router.post("/advisor/report.pdf")
async def advisor_pdf(request: Request, p: Page = USE):
    form = await request.form()
    try:
        answers = json.loads(form.get("answers") or "{}")
        result = service.recommend(answers)
    except (ValueError, DomainError) as exc:
        return redirect("/advisor", getattr(exc, "message", _("答卷无效")), kind="error")
    with UnitOfWork(p.actor, readonly=True) as uow:
        company = uow.session.get(Company, uow.company_id)
        ctx = _context(uow)
    pdf = render_pdf("advisor/report_print.html", company=company, result=result, answers=answers, **ctx)
    return pdf_response(pdf, _("信息化路线图") + ".pdf")


@router.get("/admin/modules")
def modules_page(p: Page = ADMIN):
    with UnitOfWork(p.actor, readonly=True) as uow:
        items = modules.module_states(uow)
    return render(p, "advisor/modules.html", title=_("模块开关"), items=items,
                  labels={m["name"]: m["label"] for m in items})


@router.post("/admin/modules/{name}")
async def modules_switch(name: str, request: Request, p: Page = ADMIN):
    form = await request.form()
    enabled = form.get("enabled") == "1"
    try:
        with UnitOfWork(p.actor) as uow:
            modules.set_module(uow, name, enabled)
    except DomainError as exc:
        return redirect("/admin/modules", exc.message, kind="error")
    return redirect("/admin/modules", _("{m} 已开启", m=modules._label(name)) if enabled
                    else _("{m} 已关闭（数据保留）", m=modules._label(name)))
