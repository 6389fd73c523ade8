"""Pack station: picked goods into cartons, verified against the fulfilment, then shipped.

* ``find_fulfilment(uow, code, slot=None)`` — what the packer scans: a fulfilment number, a wave number
  with the cart slot (`WV2026-00001#3`, or the slot separately), or the OMS order number behind it.
* ``pack_item(uow, fulfilment_id, *, product_code, quantity=1, lot=None, client_scan_id=None)`` — one item
  scan into the open carton. Only what was picked for this fulfilment and not yet packed is accepted: a
  wrong or extra item is refused with what was expected.
* ``close_package(uow, package_id, *, weight_kg=None, …)`` — the carton is weighed and closed.
* ``ship_confirm(uow, fulfilment_id, *, tracking_number=None, carrier_id=None)`` — every picked unit is in a
  closed carton: a waybill number (the carrier's sequence, until TMS connects carriers) unless one is
  given, then `oms.fulfilments.mark_packed` + `oms.fulfilments.ship` (stock leaves through ERP, OMS says
  已发货) and the event `wms.shipment_confirmed` that TMS turns into a shipment.
* ``return_to_stock(uow, fulfilment_id, *, bin_code=None)`` — an intercepted fulfilment's picked goods go
  from the pack station back to their bins (or the given one) and are released.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot
from opensupply.masterdata import models as md
from opensupply.oms import fulfilments as oms_ful
from opensupply.oms.models import OmsFulfilment, OmsFulfilmentLine, OmsOrder

from . import bins as wbins
from .models import WmsPackage, WmsPackageLine, WmsTask, WmsWave, WmsWaveFulfilment
from .picking import bin_code_of
from .scans import scan_once
from .waves import OPEN, cancel_open_tasks, live_wave_of, pack_location_id

register_sequence("WMS_PACKAGE", "PK{year}-", 6)
ZERO = Decimal(0)
PACKABLE = ("picking", "packed")
PACKAGE_STATE_LABELS = {"open": _l("装箱中"), "closed": _l("已封箱"), "shipped": _l("已发货"),
                        "cancelled": _l("已取消")}
FIELD_LABELS = {"qty": _l("数量"), "weight_kg": _l("重量"), "length_cm": _l("长度"), "width_cm": _l("宽度"),
                "height_cm": _l("高度")}


def _dec(value, field: str, *, allow_zero: bool = False) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        q = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(_("{field}格式不正确：{value}", field=str(FIELD_LABELS.get(field, field)),
                                 value=str(value)[:20]), field=field) from None
    if not q.is_finite() or q < 0 or (q == 0 and not allow_zero):
        raise ValidationFailed(_("{field}必须大于 0", field=str(FIELD_LABELS.get(field, field))), field=field)
    return q


def _fulfilment(uow: UnitOfWork, fulfilment_id: int, *, lock: bool = False) -> OmsFulfilment:
    """The fulfilment; with `lock`, locked the way OMS locks it (its orders first, then the
    fulfilment), so packing and shipping never deadlock with a platform refund landing at once."""
    f = uow.get(OmsFulfilment, int(fulfilment_id))
    if lock:
        oms_ful.lock(uow, [f.id])
    return f


# ------------------------------------------------------------------ what the packer scans
def find_fulfilment(uow: UnitOfWork, code: str | None, slot: int | str | None = None) -> OmsFulfilment:
    text = (code or "").strip()
    if not text:
        raise ValidationFailed(_("请扫描发货单号，或波次号加格号"), field="code")
    m = re.fullmatch(r"(.+?)\s*[#＃/ ]\s*(\d{1,3})", text)
    wave_no, slot_no = (m.group(1), int(m.group(2))) if m else (text, None)
    if slot not in (None, ""):
        try:
            slot_no = int(str(slot).strip())
        except ValueError:
            raise ValidationFailed(_("格号须为数字"), field="slot") from None
        wave_no = text
    base = select(OmsFulfilment).where(OmsFulfilment.company_id == uow.company_id)
    if slot_no is None:
        f = uow.session.scalar(base.where(OmsFulfilment.number == text))
        if f is None:  # the OMS order number or the platform's order number behind it
            f = uow.session.scalar(base.join(OmsFulfilmentLine, OmsFulfilmentLine.fulfilment_id == OmsFulfilment.id)
                                   .join(OmsOrder, OmsOrder.id == OmsFulfilmentLine.order_id)
                                   .where((OmsOrder.number == text) | (OmsOrder.channel_order_id == text))
                                   .order_by(OmsFulfilment.status.in_(PACKABLE).desc(), OmsFulfilment.id.desc())
                                   .limit(1))
        if f is None:
            raise NotFound(_("未找到发货单：{code}", code=text), field="code")
        return f
    wave = uow.session.scalar(select(WmsWave).where(WmsWave.company_id == uow.company_id, WmsWave.number == wave_no))
    if wave is None:
        raise NotFound(_("未找到波次：{code}", code=wave_no), field="code")
    fid = uow.session.scalar(select(WmsWaveFulfilment.fulfilment_id).where(
        WmsWaveFulfilment.wave_id == wave.id, WmsWaveFulfilment.slot == slot_no, WmsWaveFulfilment.active_key == 1))
    if fid is None:
        raise NotFound(_("波次 {n} 没有第 {slot} 格", n=wave.number, slot=slot_no), field="slot")
    return uow.get(OmsFulfilment, fid)


# ------------------------------------------------------------------ state of a fulfilment at the station
def picked_by_line(uow: UnitOfWork, fulfilment_id: int) -> dict[int, Decimal]:
    rows = uow.session.execute(select(WmsTask.fulfilment_line_id, func.sum(WmsTask.qty_done)).where(
        WmsTask.company_id == uow.company_id, WmsTask.fulfilment_id == fulfilment_id, WmsTask.kind == "pick")
        .group_by(WmsTask.fulfilment_line_id)).all()
    return {lid: Decimal(q or 0) for lid, q in rows if lid}


def packed_by_line(uow: UnitOfWork, fulfilment_id: int) -> dict[int, Decimal]:
    rows = uow.session.execute(select(WmsPackageLine.fulfilment_line_id, func.sum(WmsPackageLine.quantity))
                               .join(WmsPackage, WmsPackage.id == WmsPackageLine.package_id)
                               .where(WmsPackage.company_id == uow.company_id,
                                      WmsPackage.fulfilment_id == fulfilment_id, WmsPackage.state != "cancelled")
                               .group_by(WmsPackageLine.fulfilment_line_id)).all()
    return {lid: Decimal(q or 0) for lid, q in rows}


def packages_of(uow: UnitOfWork, fulfilment_id: int) -> list[WmsPackage]:
    return list(uow.session.scalars(select(WmsPackage).where(
        WmsPackage.company_id == uow.company_id, WmsPackage.fulfilment_id == fulfilment_id,
        WmsPackage.state != "cancelled").order_by(WmsPackage.id)))


def open_tasks(uow: UnitOfWork, fulfilment_id: int) -> int:
    return uow.session.scalar(select(func.count()).select_from(WmsTask).where(
        WmsTask.company_id == uow.company_id, WmsTask.fulfilment_id == fulfilment_id, WmsTask.kind == "pick",
        WmsTask.state.in_(OPEN))) or 0


def pack_state(uow: UnitOfWork, fulfilment_id: int) -> dict:
    """Everything the pack station shows: lines (ordered / picked / packed), cartons, status."""
    f = _fulfilment(uow, fulfilment_id)
    picked, packed = picked_by_line(uow, f.id), packed_by_line(uow, f.id)
    pids = {ln.product_id for ln in f.lines}
    products = {p.id: p for p in uow.session.scalars(select(md.Product).where(md.Product.id.in_(pids)))} if pids else {}
    lines = []
    for ln in f.lines:
        p = products.get(ln.product_id)
        pk, pa = picked.get(ln.id, ZERO), packed.get(ln.id, ZERO)
        lines.append({"id": ln.id, "product_id": ln.product_id, "sku": p.sku if p else "",
                      "barcode": p.barcode if p else None,
                      "product_name": p.name if p else "", "quantity": inv.fmt_qty(Decimal(ln.quantity)),
                      "picked": inv.fmt_qty(pk), "packed": inv.fmt_qty(pa), "to_pack": inv.fmt_qty(pk - pa),
                      "complete": pk > 0 and pa >= pk})
    wave = live_wave_of(uow, f.id)
    slot = uow.session.scalar(select(WmsWaveFulfilment.slot).where(
        WmsWaveFulfilment.fulfilment_id == f.id, WmsWaveFulfilment.active_key == 1)) if wave else None
    order_numbers = sorted({n for (n,) in uow.session.execute(
        select(OmsOrder.number).join(OmsFulfilmentLine, OmsFulfilmentLine.order_id == OmsOrder.id)
        .where(OmsFulfilmentLine.fulfilment_id == f.id)).all()})
    carrier = uow.session.get(md.Partner, f.carrier_id) if f.carrier_id else None
    pkgs = [package_dict(uow, p, products) for p in packages_of(uow, f.id)]
    to_pack = sum((picked.get(ln.id, ZERO) - packed.get(ln.id, ZERO) for ln in f.lines), ZERO)
    return {"id": f.id, "number": f.number, "status": f.status, "intercepted": bool(f.intercepted),
            "intercept_reason": f.intercept_reason, "warehouse_id": f.warehouse_id,
            "wave": wave.number if wave else None, "wave_id": wave.id if wave else None, "slot": slot,
            "order_numbers": order_numbers, "carrier_id": f.carrier_id, "carrier": carrier.name if carrier else None,
            "tracking_number": f.tracking_number, "receiver": receiver_of(f), "lines": lines, "packages": pkgs,
            "open_tasks": open_tasks(uow, f.id), "to_pack": inv.fmt_qty(to_pack),
            "ready_to_ship": (f.status in PACKABLE and not f.intercepted and to_pack == 0
                              and any(p["lines"] for p in pkgs) and open_tasks(uow, f.id) == 0),
            "returnable": returnable(uow, f.id) if f.intercepted or f.status == "cancelled" else []}


def receiver_of(f: OmsFulfilment) -> dict:
    return {"name": f.receiver_name, "phone": f.phone, "province": f.province, "city": f.city,
            "district": f.district, "address": f.address_detail}


def package_dict(uow: UnitOfWork, p: WmsPackage, products: dict | None = None) -> dict:
    products = products or {}
    lines = []
    for ln in p.lines:
        prod = products.get(ln.product_id) or uow.session.get(md.Product, ln.product_id)
        lines.append({"product_id": ln.product_id, "sku": prod.sku if prod else "",
                      "quantity": inv.fmt_qty(ln.quantity),
                      "fulfilment_line_id": ln.fulfilment_line_id})
    return {"id": p.id, "number": p.number, "state": p.state,
            "state_label": str(PACKAGE_STATE_LABELS.get(p.state, p.state)),
            "weight_kg": inv.fmt_qty(p.weight_kg) if p.weight_kg is not None else None,
            "tracking_number": p.tracking_number, "lines": lines,
            "units": inv.fmt_qty(sum((Decimal(ln.quantity) for ln in p.lines), ZERO))}


# ------------------------------------------------------------------ packing
def _refuse_intercepted(f: OmsFulfilment) -> None:
    if f.intercepted:
        raise Conflict(_("发货单 {n} 已拦截（{why}），不能打包发货：请把商品退回库位", n=f.number,
                         why=f.intercept_reason or _("买家退款/取消")), code="intercepted")


def _open_package(uow: UnitOfWork, f: OmsFulfilment) -> WmsPackage:
    pkg = uow.session.scalar(select(WmsPackage).where(
        WmsPackage.company_id == uow.company_id, WmsPackage.fulfilment_id == f.id, WmsPackage.state == "open")
        .order_by(WmsPackage.id.desc()).limit(1))
    if pkg is None:
        pkg = uow.add(WmsPackage(number=next_number(uow, "WMS_PACKAGE"), fulfilment_id=f.id, state="open"))
        uow.flush()
    return pkg


def pack_item(uow: UnitOfWork, fulfilment_id: int, *, product_code: str | None, quantity=1, lot: str | None = None,
              client_scan_id: str | None = None) -> dict:
    """One scanned item into the fulfilment's open carton (opened on the first scan)."""

    def handle() -> dict:
        f = _fulfilment(uow, fulfilment_id, lock=True)
        _refuse_intercepted(f)
        if f.status not in PACKABLE:
            raise Conflict(_("发货单 {n} 状态为{s}，不能装箱", n=f.number, s=_status_label(f.status)), field="status")
        text = (product_code or "").strip()
        if not text:
            raise ValidationFailed(_("请扫描商品条码"), field="item")
        base = select(md.Product).where(md.Product.company_id == uow.company_id)
        prod = uow.session.scalars(base.where(md.Product.barcode == text)).first() \
            or uow.session.scalars(base.where(md.Product.sku == text)).first()
        lines = [ln for ln in f.lines if prod is not None and ln.product_id == prod.id]
        if not lines:
            raise ValidationFailed(_("扫描的商品 {code} 不在发货单 {n} 中，请勿装箱", code=prod.sku if prod else text,
                                     n=f.number), field="item", code="wrong_item")
        qty = _dec(quantity if quantity not in (None, "") else 1, "qty") or Decimal(1)
        picked, packed = picked_by_line(uow, f.id), packed_by_line(uow, f.id)
        left = {ln.id: picked.get(ln.id, ZERO) - packed.get(ln.id, ZERO) for ln in lines}
        if sum(left.values(), ZERO) < qty:
            total_picked = sum((picked.get(ln.id, ZERO) for ln in lines), ZERO)
            raise ValidationFailed(_("{sku} 多装了：已拣 {p}，已装箱 {k}，本次 {q}", sku=prod.sku,
                                     p=inv.fmt_qty(total_picked),
                                     k=inv.fmt_qty(total_picked - sum(left.values(), ZERO)), q=inv.fmt_qty(qty)),
                                   field="qty", code="extra_item")
        lot_id = None
        if (lot or "").strip():
            lot_id = uow.session.scalar(select(StockLot.id).where(StockLot.company_id == uow.company_id,
                                                                  StockLot.product_id == prod.id,
                                                                  StockLot.name == lot.strip()))
            if lot_id is None:
                raise ValidationFailed(_("批次不存在：{name}", name=lot.strip()), field="lot")
        pkg = _open_package(uow, f)
        rest = qty
        for ln in lines:
            take = min(rest, left[ln.id])
            if take <= 0:
                continue
            existing = next((x for x in pkg.lines if x.fulfilment_line_id == ln.id and x.lot_id == lot_id), None)
            if existing:
                existing.quantity = Decimal(existing.quantity) + take
            else:
                pkg.lines.append(WmsPackageLine(fulfilment_line_id=ln.id, product_id=prod.id, lot_id=lot_id,
                                                quantity=take))
            rest -= take
            if rest <= 0:
                break
        uow.flush()
        remaining = sum((picked.get(ln.id, ZERO) - packed.get(ln.id, ZERO) for ln in f.lines), ZERO) - qty
        return {"ok": True, "fulfilment_id": f.id, "package_id": pkg.id, "package": pkg.number,
                "remaining": inv.fmt_qty(remaining),
                "message": _("{sku} × {q} 已装入 {pkg}；还需装箱 {r} 件", sku=prod.sku, q=inv.fmt_qty(qty),
                             pkg=pkg.number, r=inv.fmt_qty(remaining))}

    return scan_once(uow, client_scan_id, "pack", product_code or "", handle)


def close_package(uow: UnitOfWork, package_id: int, *, weight_kg=None, length_cm=None, width_cm=None,
                  height_cm=None) -> WmsPackage:
    """Weigh and close a carton; the next scan opens a new one."""
    pkg = uow.get(WmsPackage, int(package_id), for_update=True)
    if pkg.state != "open":
        raise Conflict(_("包裹 {n} 已封箱", n=pkg.number), field="state")
    if not pkg.lines:
        raise ValidationFailed(_("包裹 {n} 是空的，请先扫描商品装箱", n=pkg.number), field="lines")
    pkg.weight_kg = _dec(weight_kg, "weight_kg")
    pkg.length_cm, pkg.width_cm, pkg.height_cm = (_dec(length_cm, "length_cm"), _dec(width_cm, "width_cm"),
                                                  _dec(height_cm, "height_cm"))
    pkg.state = "closed"
    return pkg


def unpack_package(uow: UnitOfWork, package_id: int) -> WmsPackage:
    """Empty an unshipped carton (packed wrongly): its items count as picked, not packed, again."""
    pkg = uow.get(WmsPackage, int(package_id), for_update=True)
    if pkg.state not in ("open", "closed"):
        raise Conflict(_("包裹 {n} 已发货，不能拆箱", n=pkg.number), field="state")
    pkg.state = "cancelled"
    return pkg


# ------------------------------------------------------------------ waybill numbers and ship confirm
def waybill_number(uow: UnitOfWork, carrier_id: int | None) -> str:
    """A waybill number from the carrier's own sequence (`<carrier code><year><8 digits>`), until TMS
    asks the carrier for one."""
    prefix = "WB"
    if carrier_id:
        partner = uow.get(md.Partner, carrier_id)
        prefix = re.sub(r"[^A-Za-z0-9]", "", partner.code or "").upper()[:8] or f"C{partner.id}"
    code = f"WMS_WAYBILL_{prefix}"
    register_sequence(code, prefix + "{year}", 8)
    return next_number(uow, code)


def ship_confirm(uow: UnitOfWork, fulfilment_id: int, *, tracking_number: str | None = None,
                 carrier_id: int | None = None) -> dict:
    """Ship what was packed: OMS marks it packed and shipped (ERP posts the stock out), the
    cartons get the tracking number, and `wms.shipment_confirmed` goes out for TMS."""
    f = _fulfilment(uow, fulfilment_id, lock=True)
    if f.intercepted or oms_ful.is_intercepted(uow, f.id):
        raise Conflict(_("发货单 {n} 已拦截（{why}），不能发货：请把商品退回库位", n=f.number,
                         why=f.intercept_reason or _("买家退款/取消")), code="intercepted")
    if f.status not in PACKABLE:
        raise Conflict(_("发货单 {n} 状态为{s}，不能发货", n=f.number, s=_status_label(f.status)), field="status")
    if open_tasks(uow, f.id):
        raise Conflict(_("发货单 {n} 还有未完成的拣货任务", n=f.number), field="tasks")
    picked, packed = picked_by_line(uow, f.id), packed_by_line(uow, f.id)
    missing = [(ln, picked.get(ln.id, ZERO) - packed.get(ln.id, ZERO)) for ln in f.lines
               if picked.get(ln.id, ZERO) > packed.get(ln.id, ZERO)]
    if missing:
        skus = dict(uow.session.execute(select(md.Product.id, md.Product.sku).where(
            md.Product.id.in_([ln.product_id for ln, _q in missing]))).all())
        raise Conflict(_("还有已拣未装箱的商品：{items}", items="、".join(
            f"{skus.get(ln.product_id)} × {inv.fmt_qty(q)}" for ln, q in missing)), field="lines")
    pkgs = [p for p in packages_of(uow, f.id) if p.lines]
    if not pkgs:
        raise ValidationFailed(_("发货单 {n} 还没有装箱", n=f.number), field="packages")
    for p in packages_of(uow, f.id):
        if not p.lines:
            p.state = "cancelled"
        elif p.state == "open":
            p.state = "closed"
    wave = live_wave_of(uow, f.id)
    carrier = carrier_id or f.carrier_id or (wave.carrier_id if wave else None)
    if carrier:
        partner = uow.get(md.Partner, int(carrier))
        if not partner.is_carrier:
            raise ValidationFailed(_("{name} 不是承运商", name=partner.name), field="carrier_id")
        carrier = partner.id
    printed = next((p.tracking_number for p in pkgs if p.tracking_number), None)  # on the label already
    tracking = (tracking_number or "").strip()[:80] or printed or waybill_number(uow, carrier)
    weights = [Decimal(p.weight_kg) for p in pkgs if p.weight_kg is not None]
    weight = sum(weights, ZERO) if weights else None
    if f.status == "picking":
        oms_ful.mark_packed(uow, f.id, weight_kg=weight)
    ship_lines = [(lid, q) for lid, q in packed.items() if q > 0]
    oms_ful.ship(uow, f.id, tracking_number=tracking, carrier_id=carrier, weight_kg=weight, packages=len(pkgs),
                 lines=ship_lines)
    for p in pkgs:
        p.state = "shipped"
        p.tracking_number = tracking
    if wave is not None:
        _finish_wave(uow, wave)
    f = _fulfilment(uow, f.id)
    payload = {"fulfilment_id": f.id, "number": f.number, "warehouse_id": f.warehouse_id, "carrier_id": carrier,
               "tracking_number": tracking,
               "packages": [{"number": p.number,
                             "weight_kg": inv.fmt_qty(p.weight_kg) if p.weight_kg is not None else None}
                            for p in pkgs],
               "receiver": receiver_of(f)}
    uow.emit("wms.shipment_confirmed", **payload)
    return {**payload, "status": f.status}


def _finish_wave(uow: UnitOfWork, wave: WmsWave) -> None:
    """A picked wave whose fulfilments have all left (or were intercepted) is done."""
    if wave.state not in ("picked",):
        return
    uow.flush()
    rows = uow.session.execute(select(OmsFulfilment.status, OmsFulfilment.intercepted)
                               .join(WmsWaveFulfilment, WmsWaveFulfilment.fulfilment_id == OmsFulfilment.id)
                               .where(WmsWaveFulfilment.wave_id == wave.id, WmsWaveFulfilment.active_key == 1)).all()
    if all(status in ("shipped", "delivered", "cancelled") or intercepted for status, intercepted in rows):
        wave.state = "done"
        wave.finished_at = utcnow()


def _status_label(status: str) -> str:
    return str(oms_ful.status_label(status))


# ------------------------------------------------------------------ intercepted: goods back to the shelf
def returnable(uow: UnitOfWork, fulfilment_id: int) -> list[dict]:
    """Picked goods of the fulfilment still at the pack station: per (product, lot, source bin)."""
    picked: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for t in uow.session.scalars(select(WmsTask).where(
            WmsTask.company_id == uow.company_id, WmsTask.fulfilment_id == fulfilment_id,
            WmsTask.kind.in_(("pick", "move")), WmsTask.ref_type.in_(("wms.wave", "wms.return")))):
        key = (t.product_id, t.lot_id, t.source_location_id if t.kind == "pick" else t.ref_id)
        if t.kind == "pick":
            picked[key] += Decimal(t.qty_done or 0)
        else:
            picked[key] -= Decimal(t.qty_done or 0)
    out = []
    for (pid, lot_id, loc), q in sorted(picked.items(), key=lambda kv: (kv[0][0], kv[0][2] or 0)):
        if q > 0:
            sku = uow.session.scalar(select(md.Product.sku).where(md.Product.id == pid))
            out.append({"product_id": pid, "sku": sku, "lot_id": lot_id, "location_id": loc,
                        "bin": bin_code_of(uow, loc) if loc else None, "quantity": q})
    return out


def return_to_stock(uow: UnitOfWork, fulfilment_id: int, *, bin_code: str | None = None) -> dict:
    """Move an intercepted (or cancelled) fulfilment's picked goods from the pack station back to
    the bins they came from (or `bin_code`) and release them for other orders."""
    f = _fulfilment(uow, fulfilment_id, lock=True)
    if not (f.intercepted or f.status == "cancelled"):
        raise Conflict(_("发货单 {n} 未被拦截，不能退回库位", n=f.number), field="status")
    if f.status in ("shipped", "delivered"):
        raise Conflict(_("发货单 {n} 已发货", n=f.number), field="status")
    items = returnable(uow, f.id)
    if not items:
        raise Conflict(_("发货单 {n} 没有待退回库位的商品", n=f.number), field="status")
    pack = pack_location_id(uow, f.warehouse_id)
    target = wbins.bin_by_code(uow, f.warehouse_id, bin_code) if (bin_code or "").strip() else None
    # reservations still holding the goods at the pack station, per fulfilment line's product
    at_pack: dict[tuple[int, int | None], list] = defaultdict(list)
    for need in oms_ful.pick_plan(uow, f.id):
        for s in need.reservations:
            if s.location_id == pack:
                at_pack[(need.product_id, s.lot_id)].append(s)
    now = utcnow()
    moved = []
    used: dict[int, Decimal] = defaultdict(lambda: ZERO)  # reservation id → quantity already sent back
    for item in items:
        dest = target.location_id if target else (item["location_id"] or pack)
        left = item["quantity"]
        transfers = []
        candidates = at_pack.get((item["product_id"], item["lot_id"]), [])
        if item["lot_id"]:
            candidates = candidates + at_pack.get((item["product_id"], None), [])
        for s in candidates:
            take = min(left, Decimal(s.quantity) - used[s.reservation_id])
            if take > 0:
                transfers.append((s.reservation_id, take))
                used[s.reservation_id] += take
                left -= take
            if left <= 0:
                break
        move_ids = []
        if transfers:
            done = inv.transfer_reserved(uow, transfers, dest, reference=f.number, ref_type="wms.return", ref_id=f.id)
            inv.release(uow, [r for _m, r in done])
            move_ids += [m for m, _r in done]
        if left > 0:  # no longer reserved (OMS released it): move the free goods back
            move_ids.append(inv.move(uow, item["product_id"], left, pack, dest, lot_id=item["lot_id"],
                                     reference=f.number, ref_type="wms.return", ref_id=f.id))
        uow.add(WmsTask(kind="move", state="done", warehouse_id=f.warehouse_id, product_id=item["product_id"],
                        lot_id=item["lot_id"], quantity=item["quantity"], qty_done=item["quantity"],
                        source_location_id=pack, dest_location_id=dest, fulfilment_id=f.id, reference=f.number,
                        ref_type="wms.return", ref_id=item["location_id"], done_by_id=uow.actor.user_id,
                        started_at=now, done_at=now, move_ids=move_ids, note=_("拦截退回库位")))
        moved.append({"sku": item["sku"], "quantity": inv.fmt_qty(item["quantity"]), "bin": bin_code_of(uow, dest)})
    for p in packages_of(uow, f.id):
        if p.state in ("open", "closed"):
            p.state = "cancelled"
    cancel_open_tasks(uow, fulfilment_id=f.id, note=_("发货单已拦截"))
    uow.flush()
    from .picking import _timeline

    _timeline(uow, f.id, _("拦截的商品已退回库位：{items}", items="、".join(
        f"{m['sku']} × {m['quantity']} → {m['bin']}" for m in moved)), "returned_to_stock")
    if f.status in ("picking", "packed"):  # OMS closes the intercepted fulfilment now that the goods are back
        oms_ful.return_to_pool(uow, [f.id], reason=str(_("拦截商品已退回库位")))
    wave = live_wave_of(uow, f.id)
    if wave is not None:
        from .waves import refresh_wave_state

        refresh_wave_state(uow, wave)
        _finish_wave(uow, wave)
    uow.emit("wms.returned_to_stock", fulfilment_id=f.id, number=f.number, items=moved)
    summary = "、".join(f"{m['sku']} × {m['quantity']} → {m['bin']}" for m in moved)
    return {"ok": True, "fulfilment_id": f.id, "items": moved, "message": _("已退回库位：{items}", items=summary)}

