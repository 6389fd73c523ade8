"""Rate card pages under /tms/rate-cards (list, new card, detail with lines and surcharges, CSV/XLSX import of the
lines with bad rows listed by line number, export) and /tms/carriers (connector settings and choice rules)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.web import redirect, render

from . import rates
from .carriers import CONNECTORS

router = APIRouter(prefix="/tms", include_in_schema=False)
READ = Depends(page_permission("tms.read"))
ADMIN = Depends(page_permission("tms.admin"))
PAGE_SIZE = 50


def _carriers(uow: UnitOfWork) -> list[md.Partner]:
    return list(uow.session.scalars(select(md.Partner).where(md.Partner.company_id == uow.company_id,
                                                             md.Partner.is_carrier.is_(True)).order_by(md.Partner.code)))


def _list(p: Page, request: Request, *, error: str | None = None, form: dict | None = None, status: int = 200):
    qp = request.query_params
    offset = int(qp.get("offset") or 0) if (qp.get("offset") or "0").isdigit() else 0
    carrier = int(qp["carrier"]) if (qp.get("carrier") or "").isdigit() else None
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = rates.list_cards(uow, q=qp.get("q") or None, carrier_id=carrier, limit=PAGE_SIZE, offset=offset)
        items = [rates.card_dict(uow, c) for c in rows]
        carriers = [(c.id, c.name) for c in _carriers(uow)]
    return render(p, "tms/rate_cards.html", status_code=status, title=_("承运商运价"), items=items, total=total,
                  offset=offset, limit=PAGE_SIZE, filters=qp, carriers=carriers, error=error, form=form or {},
                  services=rates.SERVICES, can_admin=p.actor.can("tms.admin"))


@router.get("/rate-cards")
def rate_cards_page(request: Request, p: Page = READ):
    return _list(p, request)


def _d(value, default=None):
    text = str(value or "").strip()
    if not text:
        return default
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(_("数值不正确：{v}", v=text)) from None


def _date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        raise ValidationFailed(_("日期不正确：{v}", v=value)) from None


@router.post("/rate-cards")
async def rate_card_create(request: Request, p: Page = ADMIN):
    form = dict(await request.form())

    def run() -> int:
        carrier = str(form.get("carrier_id") or "")
        if not carrier.isdigit():
            raise ValidationFailed(_("请选择承运商"), field="carrier_id")
        with UnitOfWork(p.actor) as uow:
            return rates.create_card(
                uow, code=str(form.get("code") or ""), name=str(form.get("name") or ""), carrier_id=int(carrier),
                service=str(form.get("service") or "standard"), valid_from=_date(form.get("valid_from")),
                valid_to=_date(form.get("valid_to")), volumetric_divisor=int(_d(form.get("volumetric_divisor"), 6000)),
                min_charge=_d(form.get("min_charge"), Decimal(0)),
                fuel_surcharge_pct=_d(form.get("fuel_surcharge_pct"), Decimal(0)),
                max_weight_kg=_d(form.get("max_weight_kg"))).id

    try:
        cid = await run_in_threadpool(run)
    except DomainError as exc:
        return _list(p, request, error=exc.message, form={k: str(v) for k, v in form.items()}, status=422)
    return redirect(f"/tms/rate-cards/{cid}", _("运价表已创建，请导入各省运价"))


def _detail(p: Page, card_id: int, *, error: str | None = None, rejected: list | None = None, status: int = 200):
    with UnitOfWork(p.actor, readonly=True) as uow:
        card = rates.card_dict(uow, rates.get_card(uow, card_id), lines=True)
    return render(p, "tms/rate_card_detail.html", status_code=status, title=card["name"], c=card, error=error,
                  rejected=rejected or [], columns=rates.IMPORT_COLUMNS, can_admin=p.actor.can("tms.admin"))


@router.get("/rate-cards/{card_id}")
def rate_card_page(card_id: int, p: Page = READ):
    return _detail(p, card_id)


@router.post("/rate-cards/{card_id}/import")
async def rate_card_import(card_id: int, request: Request, p: Page = ADMIN):
    form = await request.form()
    upload = form.get("file")

    def run() -> dict:
        if upload is None or not hasattr(upload, "filename") or not upload.filename:
            raise ValidationFailed(_("请选择文件"), field="file")
        data = upload.file.read()
        with UnitOfWork(p.actor) as uow:
            return rates.import_lines(uow, card_id, upload.filename, data, replace=form.get("mode") != "merge")

    try:
        res = await run_in_threadpool(run)
    except rates.ImportRejected as exc:
        return _detail(p, card_id, error=exc.message, rejected=exc.rejected, status=422)
    except DomainError as exc:
        return _detail(p, card_id, error=exc.message, status=422)
    return redirect(f"/tms/rate-cards/{card_id}", _("已导入 {n} 行运价", n=res["imported"]))


@router.get("/rate-cards/{card_id}/export")
def rate_card_export(card_id: int, request: Request, p: Page = READ):
    fmt = request.query_params.get("format", "xlsx")
    with UnitOfWork(p.actor, readonly=True) as uow:
        data, name = rates.export_lines(uow, card_id, fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@router.post("/rate-cards/{card_id}/toggle")
async def rate_card_toggle(card_id: int, p: Page = ADMIN):
    def run():
        with UnitOfWork(p.actor) as uow:
            card = rates.get_card(uow, card_id)
            rates.update_card(uow, card_id, active=not card.active)

    await run_in_threadpool(run)
    return redirect(f"/tms/rate-cards/{card_id}", _("已更新"))


@router.get("/carriers")
def carriers_page(p: Page = READ, error: str | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        items = []
        for c in _carriers(uow):
            st = rates.carrier_setting(uow, c.id)
            items.append({"id": c.id, "code": c.code, "name": c.name, "active": c.active, "setting": st and {
                "code": st.code, "connector": st.connector, "api_base_url": st.api_base_url, "app_key": st.app_key,
                "has_secret": bool(st.app_secret), "default_service": st.default_service,
                "rules": json.dumps(st.rules, ensure_ascii=False) if st.rules else "", "active": st.active}})
    return render(p, "tms/rate_carriers.html", title=_("承运商设置"), items=items, connectors=CONNECTORS,
                  can_admin=p.actor.can("tms.admin"))


@router.post("/carriers/{carrier_id}/setting")
async def carrier_setting_save(carrier_id: int, request: Request, p: Page = ADMIN):
    form = await request.form()

    def run():
        rules_text = str(form.get("rules") or "").strip()
        try:
            rules = json.loads(rules_text) if rules_text else None
        except ValueError:
            raise ValidationFailed(_("规则不是有效的 JSON"), field="rules") from None
        with UnitOfWork(p.actor) as uow:
            rates.save_carrier_setting(uow, carrier_id, code=str(form.get("code") or ""),
                                       connector=str(form.get("connector") or "") or None,
                                       api_base_url=str(form.get("api_base_url") or "") or None,
                                       app_key=str(form.get("app_key") or "") or None,
                                       app_secret=str(form.get("app_secret") or "") or None,
                                       default_service=str(form.get("default_service") or "") or None,
                                       rules=rules, active=form.get("active") == "1")

    try:
        await run_in_threadpool(run)
    except DomainError as exc:
        return redirect("/tms/carriers", exc.message, "error")
    return redirect("/tms/carriers", _("承运商设置已保存"))
