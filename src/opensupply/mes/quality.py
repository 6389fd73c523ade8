"""Quality (品控): checklists, in-process and final inspections, and what happens to nonconforming units.

* **Checklists** (`checklists`, a declarative Resource at /api/v1/mes/checklists and /mes/checklists): items
  `[{"name", "kind": "check" | "measure", "min", "max", "unit"}]`. A check item passes or fails; a measurement
  passes inside its limits (either limit may be open). People type items one per line
  (`长度 | measure | 99.5 | 100.5 | mm`, `外观 | check`) or as rows on the form; the API also takes the list.
  Routing operations name the checklist of their in-process check, the routing its final inspection.
* **Inspection** (`record_check`): `qty_inspected` units of a work order's output lot at an operation
  (stage `operation`) or as the final inspection (stage `final`); every item is evaluated and the check fails
  when an item fails or any unit failed. Numbered `QC2026-000001`; the inspector is whoever records it.
* **Disposition** of a failed check (`dispose`), once: `accept` 让步接收 (a reason is required), `scrap` 报废
  (the units leave stock for the virtual scrap location — Dr 待处理财产损溢 / Cr 库存商品 through the stock
  ledger — and a reason is required) or `rework` 返工 (a rework work order on the same lot that takes the
  nonconforming units out of stock as its material, so they are not counted twice; they are reserved for it
  at once). Scrap and rework need the units in stock: what an operation scraps while running is reported at
  the scan terminal instead.
* Every check and its disposition stay on the lot (`checks_for_lot`, shown by the lot trace);
  `final_inspection_status` says whether a work order's final inspection is done (for closing rules);
  `first_pass_yield` is the pass rate per product or work center per period.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, func, or_, select

from opensupply.core.errors import Conflict, InsufficientStock, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.resource import Field, Resource, register
from opensupply.core.sequences import DEFAULT_TZ, company_today, next_number, register_sequence
from opensupply.core.types import ZERO, to_decimal, utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockLot
from opensupply.masterdata import models as md
from opensupply.masterdata import service as mds

from . import work_orders as wos
from .models import (
    QualityCheck,
    QualityChecklist,
    Routing,
    WorkCenter,
    WorkOrder,
    WorkOrderComponent,
    WorkOrderOperation,
)

register_sequence("MES_QC", "QC{year}-", 6)

READ_PERMISSION = "mes.read"
QUALITY_PERMISSION = "mes.quality"
CHECK_REF = "mes.quality_check"  # scrap moves of a disposition
ITEM_KINDS = ("check", "measure")
MAX_ITEMS = 100
STAGE_LABELS = {"operation": "工序检验", "final": "完工检验"}
RESULT_LABELS = {"pass": "合格", "fail": "不合格"}
DISPOSITION_LABELS = {"none": "待处置", "accept": "让步接收", "rework": "返工", "scrap": "报废"}
ACTIONS = ("accept", "rework", "scrap")
KIND_WORDS = {"check": "check", "判定": "check", "检查": "check", "目视": "check", "c": "check",
              "measure": "measure", "测量": "measure", "计量": "measure", "尺寸": "measure", "m": "measure"}
OK_WORDS = {"ok", "pass", "passed", "good", "y", "yes", "true", "1", "合格", "通过", "是", "√", "✓", "on"}
NG_WORDS = {"ng", "fail", "failed", "bad", "n", "no", "false", "0", "不合格", "不通过", "否", "×", "x", "off"}
CODE_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
PERIODS = ("day", "week", "month")
GROUPS = ("product", "work_center")


def stage_label(stage: str) -> str:
    return _(STAGE_LABELS.get(stage, stage))


def result_label(result: str) -> str:
    return _(RESULT_LABELS.get(result, result))


def disposition_label(disposition: str, result: str = "fail") -> str:
    if disposition == "none" and result == "pass":
        return "-"
    return _(DISPOSITION_LABELS.get(disposition, disposition))


def _fmt(value) -> str:
    return inv.fmt_qty(to_decimal(value or 0))


# ------------------------------------------------------------------ checklist items
def _number(raw: Any, field: str, label: str) -> Decimal | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValidationFailed(_("{label}必须是数字：{value}", label=label, value=raw), field=field)
    try:
        value = to_decimal(raw)
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationFailed(_("{label}必须是数字：{value}", label=label, value=str(raw)[:30]), field=field) from None
    if not value.is_finite():
        raise ValidationFailed(_("{label}必须是数字：{value}", label=label, value=str(raw)[:30]), field=field)
    return value


def _json_number(value: Decimal | None):
    """Limits as JSON numbers (as the checklist format shows them); exact, since float repr round-trips."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def validate_items(raw_items: Any) -> list[dict]:
    """Checked, normalised checklist items; the first problem is a field error naming the item."""
    if not isinstance(raw_items, list | tuple):
        raise ValidationFailed(_("检验项目格式不正确"), field="items")
    if not raw_items:
        raise ValidationFailed(_("请至少填写一个检验项目"), field="items")
    if len(raw_items) > MAX_ITEMS:
        raise ValidationFailed(_("检验项目最多 {n} 个", n=MAX_ITEMS), field="items")
    out, seen = [], set()
    for i, raw in enumerate(raw_items):
        n = i + 1
        if not isinstance(raw, dict):
            raise ValidationFailed(_("第 {n} 个检验项目格式不正确", n=n), field="items")
        unknown = set(raw) - {"name", "kind", "min", "max", "unit"}
        if unknown:
            raise ValidationFailed(_("第 {n} 个检验项目有未知字段：{names}", n=n, names=", ".join(sorted(unknown))),
                                   field="items")
        name = str(raw.get("name") or "").strip()
        if not name:
            raise ValidationFailed(_("第 {n} 个检验项目：请填写名称", n=n), field="items")
        if len(name) > 80:
            raise ValidationFailed(_("第 {n} 个检验项目：名称最多 80 个字符", n=n), field="items")
        if name in seen:
            raise ValidationFailed(_("检验项目「{name}」重复", name=name), field="items")
        seen.add(name)
        kind_raw = str(raw.get("kind") or "check").strip().lower()
        kind = KIND_WORDS.get(kind_raw)
        if kind is None:
            raise ValidationFailed(_("检验项目「{name}」：类型只能是 check（判定）或 measure（测量）", name=name),
                                   field="items")
        lo = _number(raw.get("min"), "items", _("「{name}」的下限", name=name))
        hi = _number(raw.get("max"), "items", _("「{name}」的上限", name=name))
        unit = str(raw.get("unit") or "").strip()
        if len(unit) > 20:
            raise ValidationFailed(_("检验项目「{name}」：单位最多 20 个字符", name=name), field="items")
        if kind == "check":
            if lo is not None or hi is not None:
                raise ValidationFailed(_("检验项目「{name}」是判定项，不能设上下限（测量项请选 measure）", name=name),
                                       field="items")
            out.append({"name": name, "kind": "check"})
            continue
        if lo is None and hi is None:
            raise ValidationFailed(_("测量项目「{name}」请至少填写下限或上限", name=name), field="items")
        if lo is not None and hi is not None and lo > hi:
            raise ValidationFailed(_("测量项目「{name}」的下限 {lo} 大于上限 {hi}", name=name, lo=_fmt(lo),
                                     hi=_fmt(hi)), field="items")
        out.append({"name": name, "kind": "measure", "min": _json_number(lo), "max": _json_number(hi),
                    "unit": unit or None})
    return out


def _parse_line(line: str, n: int) -> dict:
    """`名称 | 类型 | 下限 | 上限 | 单位`; the type may be left out when limits follow (`长度 | 99.5 | 100.5 | mm`)."""
    parts = [p.strip() for p in re.split(r"[|｜]", line)]
    name = parts[0]
    rest = parts[1:]
    if not rest:
        return {"name": name, "kind": "check"}
    first = rest[0].lower()
    if first in KIND_WORDS or not first:
        kind, limits = KIND_WORDS.get(first, "check") if first else None, rest[1:]
        if kind is None:  # "名称 | | 99 | 101": an empty type with limits is a measurement
            kind = "measure" if any(limits[:2]) else "check"
    else:
        try:
            to_decimal(first)
        except (InvalidOperation, ValueError):
            raise ValidationFailed(_("第 {n} 行：类型只能是 check（判定）或 measure（测量）：{value}", n=n,
                                     value=rest[0][:20]), field="items") from None
        kind, limits = "measure", rest
    if len(limits) > 3:
        raise ValidationFailed(_("第 {n} 行：列太多（名称 | 类型 | 下限 | 上限 | 单位）", n=n), field="items")
    limits = limits + [""] * (3 - len(limits))
    item = {"name": name, "kind": kind}
    if kind == "measure" or any(limits):
        item.update({"min": limits[0], "max": limits[1], "unit": limits[2]})
    return item


def parse_items(raw: Any) -> list[dict]:
    """Checklist items from a list of dicts, a JSON text, or text with one item per line (or `;` between)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationFailed(_("请至少填写一个检验项目"), field="items")
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                data = json.loads(text)
            except ValueError:
                raise ValidationFailed(_("检验项目格式不正确：不是有效的 JSON"), field="items") from None
        else:
            lines = [ln.strip() for ln in re.split(r"[\r\n;；]+", text)]
            data = [_parse_line(line, n) for n, line in enumerate((ln for ln in lines if ln), start=1)]
        return validate_items(data)
    return validate_items(raw)


def format_items(items: list[dict] | None) -> str:
    """Items as the one-per-line text people edit and spreadsheets carry."""
    lines = []
    for it in items or []:
        if it.get("kind") == "measure":
            parts = [it["name"], "measure", _limit(it.get("min")), _limit(it.get("max")), it.get("unit") or ""]
            lines.append(" | ".join(parts).rstrip(" |"))
        else:
            lines.append(f"{it['name']} | check")
    return "\n".join(lines)


def _limit(value) -> str:
    return "" if value is None else _fmt(to_decimal(value))


def limits_text(item: dict) -> str:
    """`99.5 – 100.5 mm`, `≥ 3`, `≤ 0.2 mm` for the inspection form."""
    lo, hi, unit = item.get("min"), item.get("max"), item.get("unit") or ""
    if lo is not None and hi is not None:
        text = f"{_limit(lo)} – {_limit(hi)}"
    elif lo is not None:
        text = f"≥ {_limit(lo)}"
    elif hi is not None:
        text = f"≤ {_limit(hi)}"
    else:
        text = ""
    return f"{text} {unit}".strip()


def _validate_checklist(uow: UnitOfWork, obj: QualityChecklist, data: dict) -> None:
    if obj.code and not CODE_RE.match(obj.code):
        raise ValidationFailed(_("编码只能包含字母、数字和 - _"), field="code")
    if "items" in data or not isinstance(obj.items, list):
        obj.items = parse_items(obj.items)


checklists = register(Resource(
    name="checklists", model=QualityChecklist, label=_l("质检方案"), key="code", module="mes", api_prefix="mes",
    read_permission=READ_PERMISSION, write_permission=QUALITY_PERMISSION, default_sort="code",
    validate=_validate_checklist, extra={"detail_template": "mes/checklist_detail.html"},
    fields=[
        Field("code", _l("编码"), required=True, search=True, max_length=20),
        Field("name", _l("名称"), required=True, search=True, max_length=120),
        Field("items", _l("检验项目"), "text", required=True, list=False,
              help=_l("每行一项：名称 | check 或 measure | 下限 | 上限 | 单位")),
    ]))


def get_checklist(uow: UnitOfWork, checklist_id: int) -> QualityChecklist:
    return uow.get(QualityChecklist, checklist_id)


def checklist_rows(uow: UnitOfWork, items: list) -> list[list]:
    """Export rows of checklists with their items as one-per-line text (a re-import changes nothing)."""
    return [[c.code, c.name, format_items(c.items)] for c in items]


# ------------------------------------------------------------------ inspection
def _checklist_for(uow: UnitOfWork, wo: WorkOrder, op: WorkOrderOperation | None,
                   checklist_id: int | None) -> QualityChecklist | None:
    if checklist_id not in (None, ""):
        return uow.get(QualityChecklist, int(checklist_id))
    if op is not None:
        return uow.get(QualityChecklist, op.checklist_id) if op.checklist_id else None
    routing = uow.get(Routing, wo.routing_id) if wo.routing_id else None
    if routing is not None and routing.final_checklist_id:
        return uow.get(QualityChecklist, routing.final_checklist_id)
    return None


def _check_value(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in OK_WORDS:
        return True
    if word in NG_WORDS:
        return False
    raise ValidationFailed(_("「{name}」请填写合格或不合格", name=name), field="results")


def evaluate(items: list[dict], results: list[dict]) -> list[dict]:
    """Each item with its value and verdict: a check passes when marked OK, a measurement inside its limits.
    Without a checklist the results themselves say what each item is (`kind`, `min`, `max`)."""
    given: dict[str, Any] = {}
    for raw in results or []:
        if not isinstance(raw, dict):
            raise ValidationFailed(_("检验结果格式不正确"), field="results")
        name = str(raw.get("name") or "").strip()
        if not name:
            raise ValidationFailed(_("检验结果缺少项目名称"), field="results")
        if name in given:
            raise ValidationFailed(_("检验项目「{name}」重复填写", name=name), field="results")
        given[name] = raw
    if items:
        unknown = [n for n in given if n not in {it["name"] for it in items}]
        if unknown:
            raise ValidationFailed(_("检验项目不在质检方案中：{name}", name=unknown[0]), field="results")
        spec = items
    else:  # no checklist: an ad-hoc record; each result describes its own item
        spec = validate_items([{k: v for k, v in r.items() if k in ("name", "kind", "min", "max", "unit")}
                               for r in given.values()]) if given else []
    out = []
    for it in spec:
        raw = given.get(it["name"], {}).get("value")
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ValidationFailed(_("请填写检验项目「{name}」", name=it["name"]), field="results")
        if it["kind"] == "check":
            ok = _check_value(it["name"], raw)
            out.append({"name": it["name"], "kind": "check", "value": "ok" if ok else "ng", "ok": ok})
            continue
        value = _number(raw, "results", _("「{name}」的测量值", name=it["name"]))
        lo = None if it.get("min") is None else to_decimal(it["min"])
        hi = None if it.get("max") is None else to_decimal(it["max"])
        ok = (lo is None or value >= lo) and (hi is None or value <= hi)
        out.append({"name": it["name"], "kind": "measure", "value": _fmt(value), "ok": ok, "min": it.get("min"),
                    "max": it.get("max"), "unit": it.get("unit")})
    return out


def _output_lot(uow: UnitOfWork, wo: WorkOrder, lot: str | None) -> int | None:
    """The work order's output lot (its lot name, else its number — as completion names it), created on first use."""
    product = wo.product
    lot = (lot or "").strip()
    if product.tracking == "none":
        if lot:
            raise ValidationFailed(_("商品 {sku} 不按批次管理，不能指定批次", sku=product.sku), field="lot")
        return None
    name = lot or (wo.lot_name or wo.number).strip()
    if len(name) > 80:
        raise ValidationFailed(_("批次号最多 80 个字符"), field="lot")
    return inv.lots_by_name(uow, [(product.id, name)], create=True)[(product.id, name)]


def record_check(uow: UnitOfWork, work_order_id: int, *, operation_id: int | None = None,
                 results: list[dict] | None = None, qty_inspected: Any, qty_failed: Any = None,
                 lot: str | None = None, notes: str | None = None, checklist_id: int | None = None,
                 at: dt.datetime | None = None) -> QualityCheck:
    """Record an inspection of a work order: at an operation (`operation_id`) or the final one (None).
    `results` are `[{"name", "value"}]` for the checklist's items (value: 合格/不合格 or ok/ng for a check, the
    measured number for a measurement). `qty_failed` left empty means none when every item passed, else every
    inspected unit."""
    uow.actor.require(QUALITY_PERMISSION)
    wo = wos.get_work_order(uow, int(work_order_id), for_update=True)  # serializes the running final total
    if wo.state in ("draft", "cancelled"):
        raise Conflict(_("工单 {n} 状态为{state}，不能检验", n=wo.number, state=wos.state_label(wo.state)),
                       field="work_order_id")
    op = None
    if operation_id not in (None, ""):
        op = next((o for o in wo.operations if o.id == int(operation_id)), None)
        if op is None:
            raise ValidationFailed(_("工序不属于工单 {n}", n=wo.number), field="operation_id")
        if op.state in ("pending", "cancelled"):
            raise Conflict(_("工序 {seq} {name} 还未开工，不能检验", seq=op.sequence, name=op.name),
                           field="operation_id")
    stage = "operation" if op else "final"
    checklist = _checklist_for(uow, wo, op, checklist_id)
    qty = wos._qty(qty_inspected, "qty_inspected", _("检验数量"))
    ceiling = max(to_decimal(wo.quantity), to_decimal(wo.qty_done))
    if stage == "final":
        before = to_decimal(uow.session.scalar(select(func.sum(QualityCheck.qty_inspected)).where(
            QualityCheck.work_order_id == wo.id, QualityCheck.stage == "final")) or 0)
        if before + qty > ceiling:
            raise ValidationFailed(_("完工检验数量合计 {t} 超过工单数量 {q}（已检 {b}）", t=_fmt(before + qty),
                                     q=_fmt(ceiling), b=_fmt(before)), field="qty_inspected")
    elif qty > ceiling:
        raise ValidationFailed(_("检验数量 {t} 超过工单数量 {q}", t=_fmt(qty), q=_fmt(ceiling)), field="qty_inspected")
    evaluated = evaluate(checklist.items if checklist else [], results or [])
    items_ok = all(r["ok"] for r in evaluated)
    if qty_failed in (None, ""):
        failed = ZERO if items_ok else qty
    else:
        failed = wos._qty(qty_failed, "qty_failed", _("不合格数量"), allow_zero=True)
    if failed > qty:
        raise ValidationFailed(_("不合格数量 {f} 不能超过检验数量 {q}", f=_fmt(failed), q=_fmt(qty)),
                               field="qty_failed")
    if not items_ok and failed == 0:
        bad = next(r["name"] for r in evaluated if not r["ok"])
        raise ValidationFailed(_("检验项目「{name}」不合格，不合格数量必须大于 0", name=bad), field="qty_failed")
    notes = (notes or "").strip() or None
    if notes and len(notes) > 2000:
        raise ValidationFailed(_("备注最多 2000 个字符"), field="notes")
    check = QualityCheck(
        number=next_number(uow, "MES_QC"), work_order_id=wo.id, operation_id=op.id if op else None, stage=stage,
        product_id=wo.product_id, lot_id=_output_lot(uow, wo, lot), checklist_id=checklist.id if checklist else None,
        results=evaluated, result="pass" if items_ok and failed == 0 else "fail", qty_inspected=qty,
        qty_failed=failed, inspector_id=uow.actor.user_id, checked_at=at or utcnow(), disposition="none",
        notes=notes)
    uow.add(check)
    uow.flush()
    uow.emit("mes.quality_checked", check_id=check.id, number=check.number, work_order_id=wo.id,
             operation_id=check.operation_id, stage=stage, product_id=wo.product_id, lot_id=check.lot_id,
             result=check.result, qty_inspected=str(qty), qty_failed=str(failed))
    return check


def get_check(uow: UnitOfWork, check_id: int, *, for_update: bool = False) -> QualityCheck:
    return uow.get(QualityCheck, check_id, for_update=for_update)


# ------------------------------------------------------------------ disposition
def _lot_stock(uow: UnitOfWork, check: QualityCheck, wo: WorkOrder) -> list[dict]:
    """Where the inspected lot lies in the work order's warehouse: the completion's destination first."""
    lot_name = _lot_name(uow, check.lot_id)
    rows, _total = inv.on_hand_rows(uow, warehouse=wo.warehouse_id, product=check.product_id, lot=lot_name,
                                    limit=1000)
    if lot_name is None:
        rows = [r for r in rows if r["lot"] is None]
    wh = uow.get(md.Warehouse, wo.warehouse_id)
    home = wo.dest_location_id or wh.stock_location_id
    return sorted((r for r in rows if r["on_hand"] > 0),
                  key=lambda r: (r["location_id"] != home, -r["available"], r["location"]))


def _take_from_stock(uow: UnitOfWork, check: QualityCheck, wo: WorkOrder, qty: Decimal, what: str
                     ) -> list[tuple[int, Decimal]]:
    """(location, quantity) pairs covering `qty` of the lot's available stock, or a clear refusal."""
    rows = _lot_stock(uow, check, wo)
    on_hand = sum((r["on_hand"] for r in rows), ZERO)
    available = sum((max(r["available"], ZERO) for r in rows), ZERO)
    lot = _lot_name(uow, check.lot_id) or "-"
    if on_hand < qty:
        raise InsufficientStock(_(
            "批次 {lot} 在库 {have}，不足{what}数量 {q}（不合格品需已入库；工序中的报废请在报工时填写）",
            lot=lot, have=_fmt(on_hand), what=what, q=_fmt(qty)), field="qty")
    if available < qty:
        raise InsufficientStock(_("批次 {lot} 在库 {have}，其中 {res} 已预留，可{what} {avail}，不足 {q}", lot=lot,
                                  have=_fmt(on_hand), res=_fmt(on_hand - available), what=what,
                                  avail=_fmt(available), q=_fmt(qty)), field="qty")
    out, left = [], qty
    for r in rows:
        if left <= 0:
            break
        take = min(left, max(r["available"], ZERO))
        if take > 0:
            out.append((r["location_id"], take))
            left -= take
    return out


def _scrap(uow: UnitOfWork, check: QualityCheck, wo: WorkOrder, qty: Decimal, reason: str) -> list[int]:
    scrap = mds.virtual_location(uow, "scrap").id
    specs = [inv.MoveSpec(check.product_id, take, loc, scrap, lot_id=check.lot_id, ref_type=CHECK_REF,
                          ref_id=check.id, reference=check.number, note=reason[:200])
             for loc, take in _take_from_stock(uow, check, wo, qty, _("报废"))]
    return inv.post_moves(uow, specs)


def _rework(uow: UnitOfWork, check: QualityCheck, wo: WorkOrder, qty: Decimal, reason: str) -> WorkOrder:
    """A rework order on the same lot whose one material is the nonconforming units themselves, reserved for
    it now: completing it turns them back into good units of the lot instead of adding new ones."""
    places = _take_from_stock(uow, check, wo, qty, _("返工"))
    lot_name = _lot_name(uow, check.lot_id)
    rework = wos.create_work_order(
        uow, product=wo.product_id, quantity=qty, kind="rework", source="quality", source_ref=check.number,
        parent_id=wo.id, lot_name=lot_name, warehouse_id=wo.warehouse_id,
        dest_location=wo.dest_location_id, priority=wo.priority,
        notes=reason or _("质检单 {n} 不合格品返工", n=check.number))
    comp = WorkOrderComponent(product_id=wo.product_id, quantity_per_unit=Decimal(1), required_qty=qty,
                              consumption="backflush")
    rework.components.append(comp)
    uow.flush()
    inv.reserve(uow, [inv.ReservationRequest(wo.product_id, loc, take, lot_id=check.lot_id, ref_type=wos.COMPONENT_REF,
                                             ref_id=comp.id, reference=rework.number) for loc, take in places])
    return rework


def dispose(uow: UnitOfWork, check_id: int, action: str, qty: Any = None, reason: str | None = None) -> QualityCheck:
    """不合格品处置 of a failed check, once: accept (让步接收), scrap (报废) or rework (返工) `qty` units (default:
    the failed quantity; more is allowed when a failed sample condemns the lot)."""
    uow.actor.require(QUALITY_PERMISSION)
    action = (action or "").strip()
    if action not in ACTIONS:
        raise ValidationFailed(_("处置方式无效：{value}（可选 accept 让步接收、rework 返工、scrap 报废）",
                                 value=action[:20]), field="action")
    check = get_check(uow, check_id, for_update=True)
    if check.result != "fail":
        raise Conflict(_("质检单 {n} 合格，无需处置", n=check.number), field="action")
    if check.disposition != "none":
        raise Conflict(_("质检单 {n} 已处置：{d}", n=check.number, d=disposition_label(check.disposition)),
                       field="action")
    wo = wos.get_work_order(uow, check.work_order_id)
    amount = to_decimal(check.qty_failed) if qty in (None, "") else wos._qty(qty, "qty", _("处置数量"))
    ceiling = max(to_decimal(wo.quantity), to_decimal(wo.qty_done))
    if amount > ceiling:
        raise ValidationFailed(_("处置数量 {q} 超过工单数量 {n}", q=_fmt(amount), n=_fmt(ceiling)), field="qty")
    reason = (reason or "").strip()
    if action in ("accept", "scrap") and not reason:
        raise ValidationFailed(_("{action}请填写原因", action=disposition_label(action)), field="reason")
    if len(reason) > 200:
        raise ValidationFailed(_("原因最多 200 个字符"), field="reason")
    if action == "scrap":
        check.scrap_move_id = _scrap(uow, check, wo, amount, reason)[0]
    elif action == "rework":
        check.rework_work_order_id = _rework(uow, check, wo, amount, reason).id
    check.disposition, check.disposition_qty, check.disposition_reason = action, amount, reason or None
    check.disposed_at, check.disposed_by_id = utcnow(), uow.actor.user_id
    uow.flush()
    uow.emit("mes.quality_disposed", check_id=check.id, number=check.number, action=action, qty=str(amount),
             work_order_id=check.work_order_id, lot_id=check.lot_id, product_id=check.product_id,
             rework_work_order_id=check.rework_work_order_id, scrap_move_id=check.scrap_move_id)
    return check


# ------------------------------------------------------------------ queries
def _lot_name(uow: UnitOfWork, lot_id: int | None) -> str | None:
    if not lot_id:
        return None
    return uow.session.scalar(select(StockLot.name).where(StockLot.id == lot_id))


def final_inspection_status(uow: UnitOfWork, work_order_id: int) -> dict:
    """Is the final inspection of a work order done? `required` when its routing names a final checklist;
    `ok` when not required, or when it was inspected and no failed units wait for a disposition. The
    quantities let a closing rule be stricter (every completed unit inspected: `qty_uninspected` = 0)."""
    wo = wos.get_work_order(uow, work_order_id)
    routing = uow.get(Routing, wo.routing_id) if wo.routing_id else None
    checklist_id = routing.final_checklist_id if routing else None
    checks = list(uow.session.scalars(select(QualityCheck).where(
        QualityCheck.company_id == uow.company_id, QualityCheck.work_order_id == wo.id,
        QualityCheck.stage == "final").order_by(QualityCheck.id)))
    inspected = sum((to_decimal(c.qty_inspected) for c in checks), ZERO)
    failed = sum((to_decimal(c.qty_failed) for c in checks), ZERO)
    by_action: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for c in checks:
        if c.disposition != "none":
            by_action[c.disposition] += to_decimal(c.disposition_qty or c.qty_failed)
    open_checks = [c for c in checks if c.result == "fail" and c.disposition == "none"]
    open_qty = sum((to_decimal(c.qty_failed) for c in open_checks), ZERO)
    done = to_decimal(wo.qty_done)
    ok, message = True, None
    if checklist_id:
        if not checks:
            ok, message = False, _("工单 {n} 需要完工检验，尚未检验", n=wo.number)
        elif open_checks:
            ok, message = False, _("工单 {n} 有 {q} 件不合格品待处置（{checks}）", n=wo.number, q=_fmt(open_qty),
                                   checks="、".join(c.number for c in open_checks))
    return {"work_order_id": wo.id, "number": wo.number, "required": bool(checklist_id),
            "checklist_id": checklist_id, "ok": ok, "message": message, "qty_done": _fmt(done),
            "qty_inspected": _fmt(inspected), "qty_passed": _fmt(inspected - failed), "qty_failed": _fmt(failed),
            "qty_accepted": _fmt(by_action["accept"]), "qty_reworked": _fmt(by_action["rework"]),
            "qty_scrapped": _fmt(by_action["scrap"]), "qty_open": _fmt(open_qty),
            "qty_uninspected": _fmt(max(done - inspected, ZERO)), "checks": [c.number for c in checks]}


def list_checks(uow: UnitOfWork, *, q: str | None = None, result: str | None = None, stage: str | None = None,
                disposition: str | None = None, product_id: int | None = None, work_order_id: int | None = None,
                lot_id: int | None = None, work_center_id: int | None = None, date_from: dt.date | None = None,
                date_to: dt.date | None = None, open_only: bool = False, limit: int = 50,
                offset: int = 0) -> tuple[list[QualityCheck], int]:
    """Checks, newest first; `q` matches the check, work order, lot and product; `open_only` keeps failed
    checks still waiting for a disposition."""
    qc, p = QualityCheck, md.Product
    stmt = (select(qc).join(WorkOrder, WorkOrder.id == qc.work_order_id).join(p, p.id == qc.product_id)
            .outerjoin(StockLot, StockLot.id == qc.lot_id).where(qc.company_id == uow.company_id))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(qc.number.ilike(like), WorkOrder.number.ilike(like), StockLot.name.ilike(like),
                              p.sku.ilike(like), p.name.ilike(like), cast(qc.notes, String).ilike(like)))
    for value, allowed, column, field in ((result, RESULT_LABELS, qc.result, "result"),
                                          (stage, STAGE_LABELS, qc.stage, "stage"),
                                          (disposition, DISPOSITION_LABELS, qc.disposition, "disposition")):
        if value:
            if value not in allowed:
                raise ValidationFailed(_("筛选条件无效：{value}", value=value[:20]), field=field)
            stmt = stmt.where(column == value)
    if open_only:
        stmt = stmt.where(qc.result == "fail", qc.disposition == "none")
    if product_id:
        stmt = stmt.where(qc.product_id == product_id)
    if work_order_id:
        stmt = stmt.where(qc.work_order_id == work_order_id)
    if lot_id:
        stmt = stmt.where(qc.lot_id == lot_id)
    if work_center_id:
        stmt = stmt.where(qc.operation_id.in_(select(WorkOrderOperation.id).where(
            WorkOrderOperation.work_center_id == work_center_id)))
    start, end = _utc_bounds(uow, date_from, date_to)
    if start:
        stmt = stmt.where(qc.checked_at >= start)
    if end:
        stmt = stmt.where(qc.checked_at < end)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(qc.checked_at.desc(), qc.id.desc())
                                     .limit(max(1, min(limit, 100000))).offset(max(0, offset))))
    return items, total


def _zone(uow: UnitOfWork) -> ZoneInfo:
    name = uow.session.scalar(select(md.Company.timezone).where(md.Company.id == uow.company_id))
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (KeyError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def _utc_bounds(uow: UnitOfWork, date_from: dt.date | None, date_to: dt.date | None
                ) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Company-local days [from, to] as UTC instants: a check at 07:00 Shanghai belongs to that day."""
    tz = _zone(uow)
    start = dt.datetime.combine(date_from, dt.time(), tz).astimezone(dt.UTC) if date_from else None
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tz).astimezone(dt.UTC) if date_to else None
    return start, end


def checks_to_dicts(uow: UnitOfWork, checks: list[QualityCheck]) -> list[dict]:
    """Checks for pages and JSON, with their work order, product, lot, operation, checklist and inspector
    names (one query per kind, not per row)."""
    if not checks:
        return []
    from opensupply.core.auth import User

    def by_id(model, ids, *cols):
        ids = {i for i in ids if i}
        if not ids:
            return {}
        return {r[0]: r for r in uow.session.execute(select(model.id, *cols).where(model.id.in_(ids)))}

    wo_ids = {c.work_order_id for c in checks} | {c.rework_work_order_id for c in checks}
    wos_ = by_id(WorkOrder, wo_ids, WorkOrder.number, WorkOrder.state)
    prods = by_id(md.Product, {c.product_id for c in checks}, md.Product.sku, md.Product.name)
    lots = by_id(StockLot, {c.lot_id for c in checks}, StockLot.name)
    lists = by_id(QualityChecklist, {c.checklist_id for c in checks}, QualityChecklist.code, QualityChecklist.name)
    users = by_id(User, {c.inspector_id for c in checks} | {c.disposed_by_id for c in checks}, User.username)
    ops = {r[0]: r for r in uow.session.execute(
        select(WorkOrderOperation.id, WorkOrderOperation.sequence, WorkOrderOperation.name, WorkCenter.code,
               WorkCenter.name, WorkCenter.id).join(WorkCenter, WorkCenter.id == WorkOrderOperation.work_center_id)
        .where(WorkOrderOperation.id.in_({c.operation_id for c in checks if c.operation_id} or {0})))}
    out = []
    for c in checks:
        op = ops.get(c.operation_id)
        rework = wos_.get(c.rework_work_order_id)
        out.append({
            "id": c.id, "number": c.number, "stage": c.stage, "stage_label": stage_label(c.stage),
            "work_order_id": c.work_order_id, "work_order": wos_[c.work_order_id][1],
            "operation_id": c.operation_id, "operation": f"{op[1]} {op[2]}" if op else None,
            "work_center_id": op[5] if op else None, "work_center": op[3] if op else None,
            "product_id": c.product_id, "sku": prods[c.product_id][1], "product_name": prods[c.product_id][2],
            "lot_id": c.lot_id, "lot": lots[c.lot_id][1] if c.lot_id in lots else None,
            "checklist_id": c.checklist_id,
            "checklist": f"{lists[c.checklist_id][1]} {lists[c.checklist_id][2]}" if c.checklist_id in lists else None,
            "results": [dict(r, limits=limits_text(r) if r.get("kind") == "measure" else "") for r in c.results or []],
            "result": c.result, "result_label": result_label(c.result), "qty_inspected": _fmt(c.qty_inspected),
            "qty_failed": _fmt(c.qty_failed),
            "qty_passed": _fmt(to_decimal(c.qty_inspected) - to_decimal(c.qty_failed)),
            "inspector_id": c.inspector_id,
            "inspector": users[c.inspector_id][1] if c.inspector_id in users else _("系统"),
            "checked_at": c.checked_at.isoformat(), "notes": c.notes,
            "disposition": c.disposition, "disposition_label": disposition_label(c.disposition, c.result),
            "disposition_qty": _fmt(c.disposition_qty) if c.disposition_qty is not None else None,
            "disposition_reason": c.disposition_reason,
            "disposed_at": c.disposed_at.isoformat() if c.disposed_at else None,
            "disposed_by": users[c.disposed_by_id][1] if c.disposed_by_id in users else None,
            "needs_disposition": c.result == "fail" and c.disposition == "none",
            "rework_work_order_id": c.rework_work_order_id, "rework_work_order": rework[1] if rework else None,
            "scrap_move_id": c.scrap_move_id,
        })
    return out


def check_to_dict(uow: UnitOfWork, check: QualityCheck) -> dict:
    return checks_to_dicts(uow, [check])[0]


def checks_for_lot(uow: UnitOfWork, lot_id: int) -> list[dict]:
    """Every inspection of a lot with its disposition, oldest first (for the lot trace)."""
    checks = list(uow.session.scalars(select(QualityCheck).where(
        QualityCheck.company_id == uow.company_id, QualityCheck.lot_id == lot_id)
        .order_by(QualityCheck.checked_at, QualityCheck.id)))
    return checks_to_dicts(uow, checks)


def checks_for_work_order(uow: UnitOfWork, work_order_id: int) -> list[dict]:
    """Every inspection of a work order (in-process and final), oldest first (for its detail page)."""
    checks = list(uow.session.scalars(select(QualityCheck).where(
        QualityCheck.company_id == uow.company_id, QualityCheck.work_order_id == work_order_id)
        .order_by(QualityCheck.checked_at, QualityCheck.id)))
    return checks_to_dicts(uow, checks)


EXPORT_HEADER = (_l("质检单号"), _l("检验时间"), _l("类型"), _l("工单"), _l("工序"), _l("工作中心"), _l("商品编码"),
                 _l("商品"), _l("批次"), _l("质检方案"), _l("检验数量"), _l("不合格数量"), _l("结果"),
                 _l("检验项目"), _l("处置"), _l("处置数量"), _l("处置原因"), _l("返工工单"), _l("检验员"), _l("备注"))


def export_rows(uow: UnitOfWork, **filters) -> tuple[list[str], list[list]]:
    from opensupply.core.i18n import format_datetime

    items, _total = list_checks(uow, limit=100000, **filters)
    rows = []
    for d in checks_to_dicts(uow, items):
        results = "; ".join(f"{r['name']}={r['value']}{'' if r['ok'] else ' NG'}" for r in d["results"])
        rows.append([d["number"], format_datetime(dt.datetime.fromisoformat(d["checked_at"])), d["stage_label"],
                     d["work_order"], d["operation"] or "", d["work_center"] or "", d["sku"], d["product_name"],
                     d["lot"] or "", d["checklist"] or "", d["qty_inspected"], d["qty_failed"], d["result_label"],
                     results, d["disposition_label"], d["disposition_qty"] or "", d["disposition_reason"] or "",
                     d["rework_work_order"] or "", d["inspector"], d["notes"] or ""])
    return [str(h) for h in EXPORT_HEADER], rows


def inspection_form(uow: UnitOfWork, work_order_id: int, operation_id: int | None = None) -> dict:
    """What an inspector fills in for a work order (and operation): the checklist items with their limits,
    the lot and what was already inspected."""
    wo = wos.get_work_order(uow, work_order_id)
    op = None
    if operation_id:
        op = next((o for o in wo.operations if o.id == int(operation_id)), None)
        if op is None:
            raise ValidationFailed(_("工序不属于工单 {n}", n=wo.number), field="operation_id")
    checklist = _checklist_for(uow, wo, op, None)
    final_done = to_decimal(uow.session.scalar(select(func.sum(QualityCheck.qty_inspected)).where(
        QualityCheck.work_order_id == wo.id, QualityCheck.stage == "final")) or 0)
    tracked = wo.product.tracking != "none"
    return {
        "work_order": {"id": wo.id, "number": wo.number, "state": wo.state, "state_label": wos.state_label(wo.state),
                       "sku": wo.product.sku, "product_name": wo.product.name, "quantity": _fmt(wo.quantity),
                       "qty_done": _fmt(wo.qty_done), "uom": wo.product.uom.code},
        "operations": [{"id": o.id, "sequence": o.sequence, "name": o.name, "state": o.state,
                        "work_center": o.work_center.code, "checklist_id": o.checklist_id} for o in wo.operations],
        "operation": {"id": op.id, "sequence": op.sequence, "name": op.name} if op else None,
        "stage": "operation" if op else "final", "stage_label": stage_label("operation" if op else "final"),
        "checklist": {"id": checklist.id, "code": checklist.code, "name": checklist.name} if checklist else None,
        "items": [dict(it, limits=limits_text(it) if it["kind"] == "measure" else "")
                  for it in (checklist.items if checklist else [])],
        "lot": (wo.lot_name or wo.number) if tracked else None, "lot_tracked": tracked,
        "final_inspected": _fmt(final_done),
        "suggested_qty": _fmt(max(to_decimal(wo.qty_done) - final_done, ZERO)) if not op else "",
    }


# ------------------------------------------------------------------ first-pass yield
def _period_key(day: dt.date, period: str) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _d = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def first_pass_yield(uow: UnitOfWork, *, date_from: dt.date | None = None, date_to: dt.date | None = None,
                     group_by: str = "product", period: str = "month") -> dict:
    """一次合格率: units that passed inspection the first time ÷ units inspected, per product or work center per
    period (day / ISO week / month, company-local). Rework orders are left out — their units are not on their
    first pass. A final inspection counts for the work center of the order's last operation."""
    if group_by not in GROUPS:
        raise ValidationFailed(_("分组方式无效：{value}", value=str(group_by)[:20]), field="group_by")
    if period not in PERIODS:
        raise ValidationFailed(_("统计周期无效：{value}", value=str(period)[:20]), field="period")
    today = company_today(uow)
    date_to = date_to or today
    date_from = date_from or (date_to - dt.timedelta(days=89))
    if date_from > date_to:
        raise ValidationFailed(_("开始日期不能晚于结束日期"), field="date_from")
    if (date_to - date_from).days > 731:
        raise ValidationFailed(_("统计区间最长两年"), field="date_from")
    start, end = _utc_bounds(uow, date_from, date_to)
    qc = QualityCheck
    rows = uow.session.execute(
        select(qc.product_id, qc.work_order_id, qc.operation_id, qc.checked_at, qc.qty_inspected, qc.qty_failed)
        .join(WorkOrder, WorkOrder.id == qc.work_order_id)
        .where(qc.company_id == uow.company_id, WorkOrder.kind != "rework", qc.checked_at >= start,
               qc.checked_at < end)).all()
    tz = _zone(uow)
    wo_ids = {r[1] for r in rows}
    op_wc: dict[int, int] = {}
    last_wc: dict[int, int] = {}
    if group_by == "work_center" and wo_ids:
        for op_id, wo_id, _seq, wc_id in uow.session.execute(
                select(WorkOrderOperation.id, WorkOrderOperation.work_order_id, WorkOrderOperation.sequence,
                       WorkOrderOperation.work_center_id).where(WorkOrderOperation.work_order_id.in_(wo_ids))
                .order_by(WorkOrderOperation.work_order_id, WorkOrderOperation.sequence)):
            op_wc[op_id] = wc_id
            last_wc[wo_id] = wc_id  # ordered by sequence: the last one wins
    cells: dict[tuple[str, int | None], list] = defaultdict(lambda: [0, ZERO, ZERO])
    for product_id, wo_id, op_id, at, inspected, failed in rows:
        key = product_id if group_by == "product" else (op_wc.get(op_id) if op_id else last_wc.get(wo_id))
        bucket = _period_key(at.astimezone(tz).date(), period)
        cell = cells[(bucket, key)]
        cell[0] += 1
        cell[1] += to_decimal(inspected)
        cell[2] += to_decimal(failed)
    keys = {k for _b, k in cells}
    if group_by == "product":
        names = {i: (sku, name) for i, sku, name in uow.session.execute(
            select(md.Product.id, md.Product.sku, md.Product.name).where(md.Product.id.in_(keys or {0})))}
    else:
        names = {i: (code, name) for i, code, name in uow.session.execute(
            select(WorkCenter.id, WorkCenter.code, WorkCenter.name).where(WorkCenter.id.in_(keys - {None} or {0})))}

    def line(bucket, key, checks, inspected, failed):
        code, name = names.get(key, ("-", _("未指定工作中心")))
        rate = (inspected - failed) / inspected * 100 if inspected else None
        return {"period": bucket, "key_id": key, "key": code, "name": name, "checks": checks,
                "inspected": _fmt(inspected), "failed": _fmt(failed), "passed": _fmt(inspected - failed),
                "fpy_pct": None if rate is None else str(rate.quantize(Decimal("0.1")))}

    out = [line(b, k, *v) for (b, k), v in sorted(cells.items(), key=lambda kv: (kv[0][0], names.get(
        kv[0][1], ("~",))[0]))]
    totals: dict[int | None, list] = defaultdict(lambda: [0, ZERO, ZERO])
    for (_b, k), v in cells.items():
        t = totals[k]
        t[0], t[1], t[2] = t[0] + v[0], t[1] + v[1], t[2] + v[2]
    total_rows = sorted((line(None, k, *v) for k, v in totals.items()), key=lambda r: r["key"])
    checks_n = sum(v[0] for v in totals.values())
    inspected_n = sum((v[1] for v in totals.values()), ZERO)
    failed_n = sum((v[2] for v in totals.values()), ZERO)
    overall = dict(line(None, None, checks_n, inspected_n, failed_n), key="", name=_("合计")) if inspected_n else None
    return {"group_by": group_by, "period": period, "date_from": date_from.isoformat(),
            "date_to": date_to.isoformat(), "periods": sorted({b for b, _k in cells}), "rows": out,
            "totals": total_rows, "overall": overall}


__all__ = ["CHECK_REF", "checklists", "checks_for_lot", "checks_for_work_order", "checks_to_dicts", "dispose",
           "evaluate", "final_inspection_status", "first_pass_yield", "format_items", "inspection_form",
           "list_checks", "parse_items", "record_check", "validate_items"]
