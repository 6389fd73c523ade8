"""OEE (设备综合效率) per machine and period.

Definitions, for one machine and a period [start, end) (the part after now is not counted yet):

* **Planned production time** = the working time of the machine's work center by the shift calendar in the
  period (`calendar.working_windows`: rostered shifts, breaks excluded) minus the time the machine was in
  保养 (planned maintenance) inside it. When the work center has no shift at all in the period, the whole
  period counts as shift time (no calendar kept).
* **Run time** = time the machine's status was 运行 inside the planned production time. 故障 (breakdown) and
  空闲 (idle) inside it are the availability losses. Before a machine's first status record it counts as 空闲.
* **Availability** A = run time / planned production time.
* **Performance** P = ideal cycle time × total count / run time (may exceed 1 when the ideal cycle time is set
  too slow — shown as computed, not capped, so the wrong master data is visible).
* **Quality** Q = good count / total count, total = good + scrap.
* **OEE** = A × P × Q (= ideal cycle time × good count / planned production time).

Counts are the `qty_good` / `qty_scrap` of the scan reports (`mes_operation_log`) made on that machine
(`equipment_id`) in the period. A ratio whose denominator is zero is empty (None); a machine with planned
time that made nothing has OEE 0. Ratios are rounded half-up to 4 decimal places; times are in seconds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, or_, select

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.types import to_decimal, utcnow
from opensupply.core.uow import UnitOfWork

from . import calendar
from .models import Equipment, EquipmentStatusLog, OperationLog, WorkCenter

PLACES = Decimal("0.0001")
MAX_DAYS = 366


@dataclass
class OeeFigures:
    equipment_id: int | None
    code: str
    name: str
    work_center: str
    calendar: str  # "roster" (shift calendar) | "period" (no shifts: the whole period)
    shift_seconds: int
    maintenance_seconds: int
    planned_seconds: int
    run_seconds: int
    down_seconds: int
    ideal_cycle_seconds: Decimal | None
    good: Decimal
    scrap: Decimal
    availability: Decimal | None
    performance: Decimal | None
    quality: Decimal | None
    oee: Decimal | None

    @property
    def total(self) -> Decimal:
        return self.good + self.scrap

    def as_dict(self) -> dict:
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, Decimal):
                out[k] = format(v.normalize(), "f") if k in ("good", "scrap", "ideal_cycle_seconds") else str(v)
        out["total"] = format(self.total.normalize(), "f")
        return out


def ratio(num: Decimal | int, den: Decimal | int) -> Decimal | None:
    den = Decimal(den)
    if den == 0:
        return None
    return (Decimal(num) / den).quantize(PLACES, rounding=ROUND_HALF_UP)


def figures(*, planned_s: int, run_s: int, ideal_s: Decimal | None, good: Decimal, scrap: Decimal
            ) -> tuple[Decimal | None, Decimal | None, Decimal | None, Decimal | None]:
    """(A, P, Q, OEE) from the raw times and counts, by the definitions above."""
    total = good + scrap
    a = ratio(run_s, planned_s)
    p = ratio(ideal_s * total, run_s) if ideal_s is not None else None
    q = ratio(good, total)
    if planned_s <= 0:
        return a, p, q, None
    if total == 0:
        return a, p if run_s else None, None, Decimal(0).quantize(PLACES)
    if ideal_s is None or run_s <= 0:  # counts without run time: the status was not kept, no honest figure
        return a, p, q, None
    # exact: A × P × Q = ideal × good / planned (rounded once, not a product of rounded figures)
    return a, p, q, ratio(ideal_s * good, planned_s)


def _intervals(rows, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict[str, list]:
    out: dict[str, list] = defaultdict(list)
    for status, s, e in rows:
        out[status].append((s, e or now))
    return {k: calendar.merge(calendar.clip(v, start, end)) for k, v in out.items()}


def oee(uow: UnitOfWork, start: dt.datetime, end: dt.datetime, *, equipment_ids: Iterable[int] | None = None,
        work_center_id: int | None = None, now: dt.datetime | None = None) -> dict:
    """OEE of every active machine (or the given ones) over [start, end), plus the plant figure over all of them
    (times and counts summed, then the same ratios)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationFailed(_("时间必须带时区"), field="start")
    if end <= start:
        raise ValidationFailed(_("结束时间必须晚于开始时间"), field="end")
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed(_("一次最多统计 {n} 天", n=MAX_DAYS), field="end")
    now = now or utcnow()
    counted_end = min(end, now)
    stmt = select(Equipment).join(WorkCenter, WorkCenter.id == Equipment.work_center_id).where(
        Equipment.company_id == uow.company_id)
    if equipment_ids is not None:
        stmt = stmt.where(Equipment.id.in_(list(equipment_ids) or [0]))
    else:
        stmt = stmt.where(Equipment.active.is_(True))
    if work_center_id:
        stmt = stmt.where(Equipment.work_center_id == work_center_id)
    machines = list(uow.session.scalars(stmt.order_by(WorkCenter.code, Equipment.code)))
    ids = [m.id for m in machines]
    wc_ids = sorted({m.work_center_id for m in machines})
    rostered = calendar.working_windows(uow, wc_ids, start, end)  # the whole period decides "has shifts"
    log = EquipmentStatusLog
    status_rows: dict[int, list] = defaultdict(list)
    if counted_end > start:
        for eq_id, status, s, e in uow.session.execute(select(log.equipment_id, log.status, log.started_at,
                                                              log.ended_at).where(
                log.company_id == uow.company_id, log.equipment_id.in_(ids or [0]), log.started_at < counted_end,
                or_(log.ended_at.is_(None), log.ended_at > start))).all():
            status_rows[eq_id].append((status, s, e))
    counts = {eq_id: (to_decimal(g or 0), to_decimal(sc or 0)) for eq_id, g, sc in uow.session.execute(
        select(OperationLog.equipment_id, func.sum(OperationLog.qty_good), func.sum(OperationLog.qty_scrap)).where(
            OperationLog.company_id == uow.company_id, OperationLog.equipment_id.in_(ids or [0]),
            OperationLog.at >= start, OperationLog.at < end).group_by(OperationLog.equipment_id)).all()}
    items: list[OeeFigures] = []
    for m in machines:
        windows = rostered.get(m.work_center_id) or []
        kind = "roster" if windows else "period"
        shift = calendar.clip(windows, start, counted_end) if windows else (
            [(start, counted_end)] if counted_end > start else [])
        by_status = _intervals(status_rows.get(m.id, []), start, counted_end, now)
        maintenance = calendar.intersect(by_status.get("maintenance", []), shift)
        planned = calendar.subtract(shift, maintenance)
        run = calendar.intersect(by_status.get("running", []), planned)
        down = calendar.intersect(by_status.get("down", []), planned)
        good, scrap = counts.get(m.id, (Decimal(0), Decimal(0)))
        ideal = to_decimal(m.ideal_cycle_seconds) if m.ideal_cycle_seconds is not None else None
        planned_s, run_s = calendar.seconds(planned), calendar.seconds(run)
        a, p, q, o = figures(planned_s=planned_s, run_s=run_s, ideal_s=ideal, good=good, scrap=scrap)
        items.append(OeeFigures(m.id, m.code, m.name, m.work_center.code, kind, calendar.seconds(shift),
                                calendar.seconds(maintenance), planned_s, run_s, calendar.seconds(down), ideal,
                                good, scrap, a, p, q, o))
    return {"start": start.isoformat(), "end": end.isoformat(), "counted_until": counted_end.isoformat(),
            "items": items, "plant": plant_figures(items)}


def plant_figures(items: list[OeeFigures]) -> OeeFigures:
    planned = sum(i.planned_seconds for i in items)
    run = sum(i.run_seconds for i in items)
    good = sum((i.good for i in items), Decimal(0))
    scrap = sum((i.scrap for i in items), Decimal(0))
    with_ideal = [i for i in items if i.ideal_cycle_seconds is not None]
    ideal_time = sum((i.ideal_cycle_seconds * i.total for i in with_ideal), Decimal(0))
    ideal_good = sum((i.ideal_cycle_seconds * i.good for i in with_ideal), Decimal(0))
    complete = len(with_ideal) == len(items)
    a = ratio(run, planned)
    p = ratio(ideal_time, run) if complete else None
    q = ratio(good, good + scrap)
    o = ratio(ideal_good, planned) if complete and planned else None
    if planned and good + scrap == 0:
        o = Decimal(0).quantize(PLACES)
    return OeeFigures(None, _("全部设备"), "", "", "", sum(i.shift_seconds for i in items),
                      sum(i.maintenance_seconds for i in items), planned, run, sum(i.down_seconds for i in items),
                      None, good, scrap, a, p, q, o)


__all__ = ["OeeFigures", "figures", "oee", "plant_figures", "ratio"]
