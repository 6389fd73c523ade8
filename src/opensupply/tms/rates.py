"""Carriers' rate cards and the carrier choice for a shipment.

* Rate cards: create / update / delete, lines imported from CSV/XLSX (one row per destination province:
  目的省份, 首重(kg), 首重价格, 续重单位(kg), 续重价格, 最低收费, 时效(天); header row; province names
  normalized; a bad row is reported with its file line number and nothing is imported) and exported.
* Quotes: `quote(uow, shipment_id)` prices the shipment on every active card of every active carrier
  (ineligible cards are kept with their reason, so the page can show why); `choose(...)` picks one:
  - ``cost`` — the cheapest eligible total (then the shorter lead time);
  - ``lead`` — the shortest lead time (then the cheaper);
  - ``rule`` — carrier preferences in each carrier setting's ``rules`` JSON, e.g.
    ``{"priority": 1, "warehouses": [3], "provinces": ["新疆维吾尔自治区"], "max_kg": 30}``: among eligible
    quotes, the carriers whose rules match the shipment (every key given must match: origin warehouse id,
    destination province, chargeable weight ≤ max_kg) win, lowest ``priority`` first, then cheapest;
    when no carrier's rule matches, the cheapest eligible quote;
  - a carrier id — that carrier's cheapest eligible card (a manual choice).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, func, or_, select

from opensupply.core import tabular
from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.sequences import company_today
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md
from opensupply.masterdata.regions import normalize_province

from . import pricing
from .models import TmsCarrierSetting, TmsQuote, TmsRateCard, TmsRateLine, TmsShipment, TmsSurcharge

ZERO = Decimal(0)
IMPORT_COLUMNS = ("目的省份", "首重(kg)", "首重价格", "续重单位(kg)", "续重价格", "最低收费", "时效(天)")
SURCHARGE_KINDS = ("fixed", "pct", "per_kg", "value_pct")
SERVICES = ("standard", "express", "freight")


class ImportRejected(ValidationFailed):
    """Some rows of an import file are wrong; `rejected` lists them by file line (header = line 1)."""

    def __init__(self, message: str, rejected: list[dict]):
        super().__init__(message, field="file", code="import_rejected")
        self.rejected = rejected

    def as_dict(self) -> dict:
        d = super().as_dict()
        d["error"]["rejected"] = self.rejected
        return d


# ------------------------------------------------------------------ carriers' settings
def carrier_setting(uow: UnitOfWork, carrier_id: int) -> TmsCarrierSetting | None:
    return uow.session.scalars(select(TmsCarrierSetting).where(TmsCarrierSetting.company_id == uow.company_id,
                                                               TmsCarrierSetting.carrier_id == carrier_id)).first()


def setting_by_code(uow: UnitOfWork, code: str) -> TmsCarrierSetting | None:
    return uow.session.scalars(select(TmsCarrierSetting).where(TmsCarrierSetting.company_id == uow.company_id,
                                                               func.upper(TmsCarrierSetting.code) == code.upper())
                               ).first()


def save_carrier_setting(uow: UnitOfWork, carrier_id: int, *, code: str, connector: str | None = None,
                         api_base_url: str | None = None, app_key: str | None = None, app_secret: str | None = None,
                         default_service: str | None = None, rules: dict | None = None,
                         active: bool = True) -> TmsCarrierSetting:
    """Create or update a carrier's connector settings (code, waybill API, webhook secret, choice rules)."""
    from .carriers import CONNECTORS

    partner = uow.get(md.Partner, carrier_id)
    if not partner.is_carrier:
        raise ValidationFailed(_("{name} 不是承运商", name=partner.name), field="carrier_id")
    code = (code or "").strip().upper()
    if not code:
        raise ValidationFailed(_("请填写承运商代码"), field="code")
    if connector and connector not in CONNECTORS:
        raise ValidationFailed(_("不支持的电子面单接口：{c}", c=connector), field="connector")
    if rules is not None and not isinstance(rules, dict):
        raise ValidationFailed(_("规则须是 JSON 对象"), field="rules")
    other = setting_by_code(uow, code)
    if other is not None and other.carrier_id != carrier_id:
        raise Conflict(_("承运商代码 {c} 已被使用", c=code), field="code")
    st = carrier_setting(uow, carrier_id)
    if st is None:
        st = uow.add(TmsCarrierSetting(carrier_id=carrier_id, code=code))
    st.code = code
    st.connector = connector or None
    st.api_base_url = api_base_url or None
    st.app_key = app_key or None
    if app_secret:  # blank keeps the stored secret
        st.app_secret = app_secret
    st.default_service = default_service or None
    st.rules = rules
    st.active = active
    uow.flush()
    return st


def connector_configured(uow: UnitOfWork, carrier_id: int) -> bool:
    st = carrier_setting(uow, carrier_id)
    return bool(st and st.active and st.connector)


# ------------------------------------------------------------------ rate cards
def _dec(value, field: str, *, required: bool = True, line: int | None = None) -> Decimal | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        if required:
            raise ValidationFailed(_("请填写{f}", f=field), field=field)
        return None
    try:
        d = Decimal(text)
    except InvalidOperation as exc:
        raise ValidationFailed(_("{f}不是数字：{v}", f=field, v=text), field=field) from exc
    if d < 0 or not d.is_finite():
        raise ValidationFailed(_("{f}不能为负：{v}", f=field, v=text), field=field)
    return d


def create_card(uow: UnitOfWork, *, code: str, name: str, carrier_id: int, service: str = "standard",
                valid_from: dt.date | None = None, valid_to: dt.date | None = None, volumetric_divisor: int = 6000,
                min_charge: Decimal = ZERO, fuel_surcharge_pct: Decimal = ZERO, max_weight_kg: Decimal | None = None,
                lines: list[dict] | None = None, surcharges: list[dict] | None = None) -> TmsRateCard:
    partner = uow.get(md.Partner, carrier_id)
    if not partner.is_carrier:
        raise ValidationFailed(_("{name} 不是承运商", name=partner.name), field="carrier_id")
    code = (code or "").strip()
    if not code or not (name or "").strip():
        raise ValidationFailed(_("请填写运价表编码和名称"), field="code")
    if uow.session.scalars(select(TmsRateCard.id).where(TmsRateCard.company_id == uow.company_id,
                                                        TmsRateCard.code == code)).first():
        raise Conflict(_("运价表编码 {c} 已存在", c=code), field="code")
    card = TmsRateCard(code=code, name=name.strip(), carrier_id=carrier_id)
    _apply_header(card, service=service, valid_from=valid_from, valid_to=valid_to,
                  volumetric_divisor=volumetric_divisor, min_charge=min_charge, fuel_surcharge_pct=fuel_surcharge_pct,
                  max_weight_kg=max_weight_kg)
    uow.add(card)
    for ln in lines or []:
        card.lines.append(_line(ln))
    _check_unique_lines(card)
    for s in surcharges or []:
        card.surcharges.append(_surcharge(s))
    uow.flush()
    return card


def _apply_header(card: TmsRateCard, **kw) -> None:
    if kw["service"] not in SERVICES:
        raise ValidationFailed(_("服务类型不正确：{s}", s=kw["service"]), field="service")
    if kw["valid_from"] and kw["valid_to"] and kw["valid_to"] < kw["valid_from"]:
        raise ValidationFailed(_("失效日期不能早于生效日期"), field="valid_to")
    if int(kw["volumetric_divisor"] or 0) <= 0:
        raise ValidationFailed(_("抛比（体积重除数）必须大于 0"), field="volumetric_divisor")
    card.service = kw["service"]
    card.valid_from, card.valid_to = kw["valid_from"], kw["valid_to"]
    card.volumetric_divisor = int(kw["volumetric_divisor"])
    card.min_charge = _dec(kw["min_charge"] or 0, "min_charge")
    card.fuel_surcharge_pct = _dec(kw["fuel_surcharge_pct"] or 0, "fuel_surcharge_pct")
    card.max_weight_kg = _dec(kw["max_weight_kg"], "max_weight_kg", required=False)


def update_card(uow: UnitOfWork, card_id: int, **kw) -> TmsRateCard:
    card = get_card(uow, card_id)
    if kw.get("name"):
        card.name = kw.pop("name").strip()
    if "active" in kw:
        card.active = bool(kw.pop("active"))
    surcharges = kw.pop("surcharges", None)
    header = {k: getattr(card, k) for k in ("service", "valid_from", "valid_to", "volumetric_divisor", "min_charge",
                                             "fuel_surcharge_pct", "max_weight_kg")}
    header.update({k: v for k, v in kw.items() if k in header})
    _apply_header(card, **header)
    if surcharges is not None:
        card.surcharges[:] = [_surcharge(s) for s in surcharges]
    uow.flush()
    return card


def delete_card(uow: UnitOfWork, card_id: int) -> None:
    card = get_card(uow, card_id)
    used = uow.session.scalar(select(func.count(TmsShipment.id)).where(TmsShipment.rate_card_id == card.id))
    if used:
        card.active = False  # shipments priced on it keep their history
    else:
        uow.session.execute(delete(TmsQuote).where(TmsQuote.rate_card_id == card.id))
        uow.session.delete(card)
    uow.flush()


def get_card(uow: UnitOfWork, card_id: int) -> TmsRateCard:
    return uow.get(TmsRateCard, card_id)


def list_cards(uow: UnitOfWork, *, q: str | None = None, carrier_id: int | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[TmsRateCard], int]:
    c = TmsRateCard
    stmt = select(c).where(c.company_id == uow.company_id)
    if q:
        stmt = stmt.where(or_(c.code.ilike(f"%{q}%"), c.name.ilike(f"%{q}%")))
    if carrier_id:
        stmt = stmt.where(c.carrier_id == carrier_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return list(uow.session.scalars(stmt.order_by(c.code).limit(limit).offset(offset))), total


def _line(d: dict) -> TmsRateLine:
    dest = normalize_province(d.get("dest_province"), "dest_province")
    if not dest:
        raise ValidationFailed(_("请填写目的省份"), field="dest_province")
    origin = normalize_province(d.get("origin_province"), "origin_province")
    unit = _dec(d.get("additional_unit_kg") or 1, "续重单位(kg)")
    if unit <= 0:
        raise ValidationFailed(_("续重单位必须大于 0"), field="additional_unit_kg")
    lead = str(d.get("lead_days") or "2").strip()
    if not lead.isdigit():
        raise ValidationFailed(_("时效(天)须是整数：{v}", v=lead), field="lead_days")
    return TmsRateLine(origin_province=origin, dest_province=dest,
                       first_weight_kg=_dec(d.get("first_weight_kg") or 1, "首重(kg)"),
                       first_price=_dec(d.get("first_price"), "首重价格"), additional_unit_kg=unit,
                       additional_price=_dec(d.get("additional_price"), "续重价格"),
                       min_charge=_dec(d.get("min_charge"), "最低收费", required=False), lead_days=int(lead))


def _check_unique_lines(card: TmsRateCard) -> None:
    seen = set()
    for ln in card.lines:
        key = (ln.origin_province, ln.dest_province)
        if key in seen:
            raise ValidationFailed(_("目的省份重复：{p}", p=ln.dest_province), field="dest_province")
        seen.add(key)


def _surcharge(d: dict) -> TmsSurcharge:
    kind = d.get("kind") or "fixed"
    if kind not in SURCHARGE_KINDS:
        raise ValidationFailed(_("附加费类型不正确：{k}", k=kind), field="kind")
    provinces = d.get("provinces") or None
    if provinces:
        provinces = [normalize_province(p, "provinces") for p in provinces]
    return TmsSurcharge(code=(d.get("code") or kind)[:20], name=(d.get("name") or d.get("code") or kind)[:60],
                        kind=kind, amount=_dec(d.get("amount"), "amount"), provinces=provinces,
                        optional=bool(d.get("optional")))


def import_lines(uow: UnitOfWork, card_id: int, filename: str, data: bytes, *, replace: bool = True) -> dict:
    """Import a card's lines from CSV/XLSX; all rows or none. Returns {"imported": n} or raises with the
    rejected rows (line numbers, header = line 1)."""
    card = get_card(uow, card_id)
    table = tabular.read_table(filename, data)
    missing = [c for c in ("目的省份", "首重价格", "续重价格") if c not in table.header]
    if missing:
        raise ValidationFailed(_("缺少列：{cols}", cols="、".join(missing)), field="file")
    made, rejected, seen = [], [], set()
    for line_no, rec in table.records():
        try:
            ln = _line({"origin_province": rec.get("始发省份"), "dest_province": rec.get("目的省份"),
                        "first_weight_kg": rec.get("首重(kg)"), "first_price": rec.get("首重价格"),
                        "additional_unit_kg": rec.get("续重单位(kg)"), "additional_price": rec.get("续重价格"),
                        "min_charge": rec.get("最低收费"), "lead_days": rec.get("时效(天)")})
            key = (ln.origin_province, ln.dest_province)
            if key in seen:
                raise ValidationFailed(_("目的省份重复：{p}", p=ln.dest_province))
            seen.add(key)
            made.append(ln)
        except ValidationFailed as exc:
            rejected.append({"line": line_no, "reason": exc.message})
    if rejected:
        raise ImportRejected(_("{n} 行有误，未导入：{rows}", n=len(rejected), rows="；".join(
            _("第 {line} 行：{reason}", line=r["line"], reason=r["reason"]) for r in rejected[:20])), rejected)
    if not made:
        raise ValidationFailed(_("文件中没有运价行"), field="file")
    if replace:
        card.lines[:] = []
        uow.flush()
    else:
        existing = {(ln.origin_province, ln.dest_province): ln for ln in card.lines}
        for ln in made:
            old = existing.get((ln.origin_province, ln.dest_province))
            if old is not None:
                card.lines.remove(old)
        uow.flush()
    card.lines.extend(made)
    card.source_file = (filename or "")[:200] or None
    uow.flush()
    return {"imported": len(made), "rejected": []}


def export_lines(uow: UnitOfWork, card_id: int, fmt: str = "xlsx") -> tuple[bytes, str]:
    card = get_card(uow, card_id)
    rows = [[ln.dest_province, ln.first_weight_kg, ln.first_price, ln.additional_unit_kg, ln.additional_price,
             ln.min_charge if ln.min_charge is not None else "", ln.lead_days] for ln in card.lines]
    header = list(IMPORT_COLUMNS)
    if fmt == "csv":
        return tabular.write_csv(header, rows), f"{card.code}.csv"
    return tabular.write_xlsx(header, rows, title=card.code[:30]), f"{card.code}.xlsx"


# ------------------------------------------------------------------ quoting and choosing
def to_pricing(card: TmsRateCard, carrier_active: bool = True) -> pricing.Card:
    return pricing.Card(
        lines=tuple(pricing.Line(ln.dest_province, ln.first_weight_kg, ln.first_price, ln.additional_unit_kg,
                                 ln.additional_price, ln.origin_province, ln.min_charge, ln.lead_days)
                    for ln in card.lines),
        surcharges=tuple(pricing.Surcharge(s.code, s.name, s.kind, s.amount, tuple(s.provinces or ()) or None,
                                           s.optional) for s in card.surcharges),
        volumetric_divisor=card.volumetric_divisor, min_charge=card.min_charge or ZERO,
        fuel_surcharge_pct=card.fuel_surcharge_pct or ZERO, max_weight_kg=card.max_weight_kg,
        valid_from=card.valid_from, valid_to=card.valid_to, active=card.active, carrier_active=carrier_active)


def parcels_of(ship: TmsShipment) -> list[pricing.Parcel]:
    return [pricing.Parcel(p.weight_kg or ZERO, p.length_cm, p.width_cm, p.height_cm) for p in ship.packages_rel] \
        or [pricing.Parcel(ship.weight_kg or ZERO)]


def quote(uow: UnitOfWork, shipment_id: int, *, on: dt.date | None = None) -> list[TmsQuote]:
    """Price the shipment on every active card of every carrier (replacing earlier quotes)."""
    ship = uow.get(TmsShipment, shipment_id, for_update=True)
    if ship.mode != "carrier":
        raise ValidationFailed(_("自有车队配送的运单不需要承运商报价"), field="mode")
    on = on or company_today(uow)
    cards = list(uow.session.scalars(select(TmsRateCard).where(TmsRateCard.company_id == uow.company_id,
                                                               TmsRateCard.active.is_(True))
                                     .order_by(TmsRateCard.carrier_id, TmsRateCard.code)))
    partners = {p.id: p for p in uow.session.scalars(select(md.Partner).where(
        md.Partner.id.in_({c.carrier_id for c in cards})))} if cards else {}
    settings = {s.carrier_id: s for s in uow.session.scalars(select(TmsCarrierSetting).where(
        TmsCarrierSetting.company_id == uow.company_id))}
    uow.session.execute(delete(TmsQuote).where(TmsQuote.shipment_id == ship.id))
    parcels = parcels_of(ship)
    out = []
    for card in cards:
        p = partners.get(card.carrier_id)
        st = settings.get(card.carrier_id)
        active = bool(p and p.active and p.is_carrier and (st is None or st.active))
        pr = pricing.price(to_pricing(card, active), origin=ship.origin_province, dest=ship.province,
                           parcels=parcels, on=on, declared_value=ship.declared_value,
                           options=tuple(ship.options or ()))
        q = TmsQuote(shipment_id=ship.id, carrier_id=card.carrier_id, rate_card_id=card.id, eligible=pr.eligible,
                     reason=(str(pr.reason)[:200] if pr.reason else None), chargeable_kg=pr.chargeable_kg,
                     freight=pr.freight, surcharges=pr.surcharges, total=pr.total, lead_days=pr.lead_days,
                     breakdown=pr.breakdown or None, chosen=False)
        uow.session.add(q)
        out.append(q)
    uow.flush()
    return out


def quotes_of(uow: UnitOfWork, shipment_id: int) -> list[TmsQuote]:
    uow.get(TmsShipment, shipment_id)
    return list(uow.session.scalars(select(TmsQuote).where(TmsQuote.shipment_id == shipment_id)
                                    .order_by(TmsQuote.eligible.desc(), TmsQuote.total, TmsQuote.id)))


def _rule_matches(rules: dict | None, ship: TmsShipment, q: TmsQuote) -> bool:
    if not rules:
        return False
    if rules.get("warehouses") and ship.warehouse_id not in rules["warehouses"]:
        return False
    if rules.get("provinces"):
        wanted = set()
        for p in rules["provinces"]:
            try:
                wanted.add(normalize_province(p))
            except ValidationFailed:
                wanted.add(p)
        if ship.province not in wanted:
            return False
    if rules.get("max_kg") is not None and q.chargeable_kg is not None and q.chargeable_kg > Decimal(
            str(rules["max_kg"])):
        return False
    return True


def choose(uow: UnitOfWork, shipment_id: int, by: str | int = "cost") -> TmsQuote:
    """Choose the carrier from the shipment's quotes (quoting first when there are none)."""
    ship = uow.get(TmsShipment, shipment_id, for_update=True)
    if ship.status != "draft":
        raise Conflict(_("运单 {n} 已下单，不能更换承运商", n=ship.number), field="status")
    quotes = quotes_of(uow, ship.id) or quote(uow, ship.id)
    eligible = [q for q in quotes if q.eligible]
    if not eligible:
        raise ValidationFailed(_("没有可用的承运商报价：{why}", why="；".join(sorted({q.reason or "" for q in quotes}))
                                 or _("没有运价表")), field="carrier_id")

    def cheap(q):
        return (q.total, q.lead_days or 99, q.id)

    if isinstance(by, int) or (isinstance(by, str) and by.isdigit()):
        cid = int(by)
        mine = [q for q in eligible if q.carrier_id == cid]
        if not mine:
            raise ValidationFailed(_("所选承运商不能承运此运单"), field="carrier_id")
        best, mode = min(mine, key=cheap), "manual"
    elif by == "cost":
        best, mode = min(eligible, key=cheap), "cost"
    elif by == "lead":
        best, mode = min(eligible, key=lambda q: (q.lead_days or 99, q.total, q.id)), "lead"
    elif by == "rule":
        settings = {s.carrier_id: s for s in uow.session.scalars(select(TmsCarrierSetting).where(
            TmsCarrierSetting.company_id == uow.company_id))}
        matched = [q for q in eligible if _rule_matches(getattr(settings.get(q.carrier_id), "rules", None), ship, q)]
        if matched:
            best = min(matched, key=lambda q: (int((settings[q.carrier_id].rules or {}).get("priority", 100)),
                                               *cheap(q)))
        else:
            best = min(eligible, key=cheap)
        mode = "rule"
    else:
        raise ValidationFailed(_("选择方式不正确：{b}", b=by), field="by")
    for q in quotes:
        q.chosen = q.id == best.id
    card = uow.session.get(TmsRateCard, best.rate_card_id) if best.rate_card_id else None
    ship.carrier_id = best.carrier_id
    ship.rate_card_id = best.rate_card_id
    ship.service = card.service if card else None
    ship.quoted_cost = best.total
    ship.choose_by = mode
    if ship.promised_date is None and best.lead_days:  # the carrier's promise, counted from today
        ship.promised_date = company_today(uow) + dt.timedelta(days=best.lead_days)
    uow.flush()
    return best


def comparison(uow: UnitOfWork, shipment_id: int) -> list[dict]:
    """The quotes as the shipment page shows them: eligible cheapest first (highlighted), then the others."""
    quotes = quotes_of(uow, shipment_id)
    names = dict(uow.session.execute(select(md.Partner.id, md.Partner.name).where(
        md.Partner.id.in_({q.carrier_id for q in quotes}))).all()) if quotes else {}
    cards = dict(uow.session.execute(select(TmsRateCard.id, TmsRateCard.name).where(
        TmsRateCard.id.in_({q.rate_card_id for q in quotes if q.rate_card_id}))).all()) if quotes else {}
    eligible = [q for q in quotes if q.eligible]
    cheapest = min(eligible, key=lambda q: (q.total, q.id)).id if eligible else None
    return [{"id": q.id, "carrier_id": q.carrier_id, "carrier": names.get(q.carrier_id),
             "rate_card_id": q.rate_card_id, "rate_card": cards.get(q.rate_card_id), "eligible": q.eligible,
             "reason": q.reason, "chargeable_kg": _s(q.chargeable_kg), "freight": _m(q.freight),
             "surcharges": _m(q.surcharges), "total": _m(q.total), "lead_days": q.lead_days,
             "breakdown": q.breakdown, "chosen": q.chosen, "cheapest": q.id == cheapest} for q in quotes]


def _s(v) -> str | None:
    """A quantity as text without trailing zeros."""
    return None if v is None else f"{Decimal(v).normalize():f}"


def _m(v) -> str | None:
    """An amount as text with two decimals."""
    return None if v is None else str(Decimal(v).quantize(Decimal("0.01")))


def card_dict(uow: UnitOfWork, card: TmsRateCard, *, lines: bool = False) -> dict:
    p = uow.session.get(md.Partner, card.carrier_id)
    d = {"id": card.id, "code": card.code, "name": card.name, "carrier_id": card.carrier_id,
         "carrier": p.name if p else None, "service": card.service,
         "valid_from": card.valid_from.isoformat() if card.valid_from else None,
         "valid_to": card.valid_to.isoformat() if card.valid_to else None,
         "volumetric_divisor": card.volumetric_divisor, "min_charge": _m(card.min_charge),
         "fuel_surcharge_pct": _s(card.fuel_surcharge_pct), "max_weight_kg": _s(card.max_weight_kg),
         "active": card.active, "lines_count": len(card.lines), "source_file": card.source_file}
    if lines:
        d["lines"] = [{"id": ln.id, "origin_province": ln.origin_province, "dest_province": ln.dest_province,
                       "first_weight_kg": _s(ln.first_weight_kg), "first_price": _m(ln.first_price),
                       "additional_unit_kg": _s(ln.additional_unit_kg), "additional_price": _m(ln.additional_price),
                       "min_charge": _m(ln.min_charge), "lead_days": ln.lead_days} for ln in card.lines]
        d["surcharges"] = [{"id": s.id, "code": s.code, "name": s.name, "kind": s.kind, "amount": _m(s.amount),
                            "provinces": s.provinces, "optional": s.optional} for s in card.surcharges]
    return d


def get_carrier(uow: UnitOfWork, carrier_id: int) -> md.Partner:
    p = uow.get(md.Partner, carrier_id)
    if not p.is_carrier:
        raise NotFound(_("承运商不存在：#{id}", id=carrier_id))
    return p
