"""Shift calendars and line rostering (产线排班), and the capacity they give.

* A **shift** (班次, `mes.resources.shifts`) is a template in the company's local time: 早班 08:00–16:00 with
  30 minutes' break. An end at or before the start runs past midnight (夜班 22:00–06:00 ends the next day).
  The break is taken to sit in the **middle** of the shift — a shift of length L with break B works
  [start, start + (L − B)/2) and [start + (L + B)/2, end) — because the template does not say when it is,
  and the middle is where a meal break usually falls.
* A **roster entry** (`ShiftAssignment`) says a work center works a shift on a date (the date the shift
  starts), with a headcount and its crew (`ShiftCrew`: employees with a role). Entries of one work center must
  not overlap in time, and nobody is on two overlapping shifts. `apply_pattern` fills many at once
  (早班 Mon–Fri for the next 4 weeks on these lines).
* `working_windows(uow, work_center_ids, start, end)` → per work center the UTC intervals it works, breaks
  taken out, clipped to [start, end) and merged. A work center with no roster in the period gets an empty list;
  the callers decide what that means (OEE and scheduling treat it as "no calendar kept: always available").
* `capacity(uow, start_date, end_date)` → per work center and local day: shift hours × parallel units (active
  machines, or the work center's capacity when it has no equipment) against the load — the remaining planned
  minutes of open operations of released / in-progress work orders, spread over the days of their planned
  slot; operations not scheduled yet are shown apart.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today
from opensupply.core.types import to_decimal
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import models as md

from .models import Equipment, Shift, ShiftAssignment, ShiftCrew, WorkCenter, WorkOrder, WorkOrderOperation

Interval = tuple[dt.datetime, dt.datetime]
MAX_PATTERN_DAYS = 366
SCHEDULED_WO_STATES = ("released", "in_progress")
OPEN_OP_STATES = ("pending", "running", "paused")
WEEKDAY_LABELS = (_l("周一"), _l("周二"), _l("周三"), _l("周四"), _l("周五"), _l("周六"), _l("周日"))


def company_tz(uow: UnitOfWork) -> ZoneInfo:
    company_today(uow)  # caches the company's zone on the session
    return uow.session.info.get("company_tz") or ZoneInfo("Asia/Shanghai")


def weekday_label(index: int) -> str:
    return str(WEEKDAY_LABELS[index])


# ------------------------------------------------------------------ shift arithmetic
def shift_span(shift: Shift, day: dt.date, tz: ZoneInfo) -> Interval:
    """Start and end (UTC) of `shift` worked on `day`; an end at or before the start is on the next day."""
    start = dt.datetime.combine(day, shift.start_time, tzinfo=tz)
    end_day = day if shift.end_time > shift.start_time else day + dt.timedelta(days=1)
    end = dt.datetime.combine(end_day, shift.end_time, tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def shift_windows(shift: Shift, day: dt.date, tz: ZoneInfo) -> list[Interval]:
    """The working intervals (UTC) of a shift on a day: its span without the break, which sits in the middle."""
    start, end = shift_span(shift, day, tz)
    brk = dt.timedelta(minutes=max(0, int(shift.break_minutes or 0)))
    if brk <= dt.timedelta(0):
        return [(start, end)]
    if brk >= end - start:
        return []
    work_half = (end - start - brk) / 2
    return [(start, start + work_half), (start + work_half + brk, end)]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def clip(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> list[Interval]:
    return [(max(s, start), min(e, end)) for s, e in intervals if e > start and s < end]


def subtract(intervals: Sequence[Interval], holes: Sequence[Interval]) -> list[Interval]:
    """`intervals` minus every hole (both lists of disjoint intervals)."""
    out: list[Interval] = []
    holes = merge(holes)
    for s, e in intervals:
        cur = s
        for hs, he in holes:
            if he <= cur or hs >= e:
                continue
            if hs > cur:
                out.append((cur, hs))
            cur = max(cur, he)
            if cur >= e:
                break
        if cur < e:
            out.append((cur, e))
    return out


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """The time in both lists of intervals."""
    out: list[Interval] = []
    a, b = merge(a), merge(b)
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def seconds(intervals: Iterable[Interval]) -> int:
    return int(sum((e - s).total_seconds() for s, e in intervals))


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValidationFailed(_("时间必须带时区"), field=field)
    return value.astimezone(dt.UTC)


def parse_moment(uow: UnitOfWork, raw: Any, field: str, *, end_of_day: bool = False) -> dt.datetime | None:
    """An aware ISO datetime as given, a naive one (a `datetime-local` field) or a date in the company's zone;
    a date used as a period end means the end of that day."""
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        text = str(raw).strip().replace(" ", "T")
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                value = dt.datetime.combine(day + dt.timedelta(days=1 if end_of_day else 0), dt.time(0))
            else:
                value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(_("时间格式不正确：{value}", value=text[:30]), field=field) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=company_tz(uow))
    return value.astimezone(dt.UTC)


def local_period(uow: UnitOfWork, start: Any, end: Any, *, default_days: int = 7,
                 max_days: int = 366) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC from what a page or API caller gives: dates are company-local days with the end day
    included; missing bounds give the last `default_days` days up to the end of today."""
    hi = parse_moment(uow, end, "end", end_of_day=True)
    if hi is None:
        hi = parse_moment(uow, company_today(uow).isoformat(), "end", end_of_day=True)
    lo = parse_moment(uow, start, "start") or hi - dt.timedelta(days=default_days)
    if hi <= lo:
        raise ValidationFailed(_("结束时间必须晚于开始时间"), field="end")
    if (hi - lo).days > max_days:
        raise ValidationFailed(_("一次最多查看 {n} 天", n=max_days), field="end")
    return lo, hi


def _assignments(uow: UnitOfWork, work_center_ids: Iterable[int] | None, first: dt.date,
                 last: dt.date) -> list[ShiftAssignment]:
    stmt = select(ShiftAssignment).where(ShiftAssignment.company_id == uow.company_id,
                                         ShiftAssignment.date >= first, ShiftAssignment.date <= last)
    if work_center_ids is not None:
        ids = list(work_center_ids)
        if not ids:
            return []
        stmt = stmt.where(ShiftAssignment.work_center_id.in_(ids))
    return list(uow.session.scalars(stmt.order_by(ShiftAssignment.date, ShiftAssignment.id)))


def working_windows(uow: UnitOfWork, work_center_ids: Iterable[int], start: dt.datetime,
                    end: dt.datetime) -> dict[int, list[Interval]]:
    """Per work center, the UTC intervals it works inside [start, end) by the roster, breaks taken out
    (see the module docstring for where the break sits). A work center without roster entries in the period
    gets an empty list."""
    start, end = _aware(start, "start"), _aware(end, "end")
    ids = list(dict.fromkeys(int(i) for i in work_center_ids))
    out: dict[int, list[Interval]] = {i: [] for i in ids}
    if end <= start or not ids:
        return out
    tz = company_tz(uow)
    # a night shift of the day before can still run into the period
    first = start.astimezone(tz).date() - dt.timedelta(days=1)
    last = end.astimezone(tz).date()
    raw: dict[int, list[Interval]] = defaultdict(list)
    for a in _assignments(uow, ids, first, last):
        raw[a.work_center_id] += shift_windows(a.shift, a.date, tz)
    for wc_id, intervals in raw.items():
        out[wc_id] = merge(clip(intervals, start, end))
    return out


# ------------------------------------------------------------------ roster
def _work_center(uow: UnitOfWork, ref: Any, field: str = "work_center") -> WorkCenter:
    from .routings import _work_center as resolve

    return resolve(uow, ref, field)


def _shift(uow: UnitOfWork, ref: Any, field: str = "shift") -> Shift:
    if ref in (None, ""):
        raise ValidationFailed(_("请选择班次"), field=field)
    stmt = select(Shift).where(Shift.company_id == uow.company_id)
    found = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = uow.session.scalar(stmt.where(Shift.id == ref))
    else:
        text = str(ref).strip()
        found = uow.session.scalar(stmt.where(Shift.code == text))
        if found is None and text.isdigit():
            found = uow.session.scalar(stmt.where(Shift.id == int(text)))
    if found is None:
        raise ValidationFailed(_("班次不存在：{value}", value=ref), field=field)
    if not found.active:
        raise ValidationFailed(_("班次 {code} 已停用", code=found.code), field=field)
    return found


def _date(raw: Any, field: str) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw or "").strip()[:10])
    except ValueError:
        raise ValidationFailed(_("日期格式不正确：{value}", value=str(raw)[:20]), field=field) from None


def _headcount(raw: Any, crew_size: int) -> int:
    if raw in (None, ""):
        return crew_size
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(_("定员必须是整数"), field="headcount") from None
    if value < 0 or value > 10000:
        raise ValidationFailed(_("定员必须在 0 到 10000 之间"), field="headcount")
    if value < crew_size:
        raise ValidationFailed(_("定员 {n} 少于已排人员 {m} 人", n=value, m=crew_size), field="headcount")
    return value


def _crew(uow: UnitOfWork, crew: Iterable[Mapping | str | int] | None) -> list[tuple[int, str | None]]:
    """[{"employee": code or id, "role": "班长"}, …] (or bare codes) → [(employee id, role)], one query."""
    rows = []
    for i, item in enumerate(crew or []):
        if isinstance(item, Mapping):
            ref, role = item.get("employee", item.get("employee_id")), item.get("role")
        else:
            ref, role = item, None
        if ref in (None, ""):
            continue
        role = (str(role).strip() or None) if role is not None else None
        if role and len(role) > 40:
            raise ValidationFailed(_("岗位最多 40 个字符"), field=f"crew.{i}.role")
        rows.append((i, ref, role))
    if not rows:
        return []
    texts = {str(ref).strip() for _i, ref, _r in rows}
    ids = {int(t) for t in texts if t.isdigit()}
    found = uow.session.execute(select(md.Employee.id, md.Employee.code, md.Employee.active).where(
        md.Employee.company_id == uow.company_id,
        md.Employee.code.in_(texts) | md.Employee.id.in_(ids or {0}))).all()
    by_code = {code: (eid, active) for eid, code, active in found}
    by_id = {eid: (eid, active) for eid, _code, active in found}
    out, seen = [], set()
    for i, ref, role in rows:
        text = str(ref).strip()
        hit = by_code.get(text) or (by_id.get(int(text)) if text.isdigit() else None)
        if hit is None:
            raise ValidationFailed(_("员工不存在：{value}", value=text), field=f"crew.{i}.employee")
        if not hit[1]:
            raise ValidationFailed(_("员工 {value} 已停用", value=text), field=f"crew.{i}.employee")
        if hit[0] in seen:
            raise ValidationFailed(_("员工 {value} 重复", value=text), field=f"crew.{i}.employee")
        seen.add(hit[0])
        out.append((hit[0], role))
    return out


def _overlapping(uow: UnitOfWork, tz: ZoneInfo, span: Interval, candidates: Iterable[ShiftAssignment],
                 exclude_id: int | None = None) -> list[ShiftAssignment]:
    out = []
    for other in candidates:
        if other.id == exclude_id:
            continue
        s, e = shift_span(other.shift, other.date, tz)
        if s < span[1] and span[0] < e:
            out.append(other)
    return out


def _check_crew_free(uow: UnitOfWork, tz: ZoneInfo, assignment_id: int | None, day: dt.date, span: Interval,
                     employee_ids: list[int]) -> None:
    """Nobody is on two overlapping shifts (on any line)."""
    if not employee_ids:
        return
    others = uow.session.execute(
        select(ShiftCrew.employee_id, ShiftAssignment).join(ShiftAssignment,
                                                            ShiftAssignment.id == ShiftCrew.assignment_id)
        .where(ShiftAssignment.company_id == uow.company_id, ShiftCrew.employee_id.in_(employee_ids),
               ShiftAssignment.date.between(day - dt.timedelta(days=1), day + dt.timedelta(days=1)))).all()
    for employee_id, other in others:
        if other.id == assignment_id:
            continue
        if _overlapping(uow, tz, span, [other]):
            code = uow.session.scalar(select(md.Employee.code).where(md.Employee.id == employee_id))
            wc = uow.session.get(WorkCenter, other.work_center_id)
            raise Conflict(_("员工 {e} 在 {d} 已排 {wc} 的{shift}，时间重叠", e=code, d=other.date.isoformat(),
                             wc=wc.code, shift=other.shift.name), field="crew")


def assign_shift(uow: UnitOfWork, *, work_center: Any, day: Any, shift: Any, headcount: Any = None,
                 crew: Iterable[Mapping | str | int] | None = None, notes: str | None = None) -> ShiftAssignment:
    """Roster a work center on a shift for a date (the date the shift starts), with its crew. The work
    center's other entries must not overlap it, nor may a crew member be on another overlapping shift."""
    wc = _work_center(uow, work_center)
    sh = _shift(uow, shift)
    day = _date(day, "date")
    tz = company_tz(uow)
    span = shift_span(sh, day, tz)
    nearby = _assignments(uow, [wc.id], day - dt.timedelta(days=1), day + dt.timedelta(days=1))
    if any(a.shift_id == sh.id and a.date == day for a in nearby):
        raise Conflict(_("{wc} 在 {d} 已排{shift}", wc=wc.code, d=day.isoformat(), shift=sh.name), field="shift")
    clash = _overlapping(uow, tz, span, nearby)
    if clash:
        raise Conflict(_("{wc} 在 {d} 的{shift}与已排的{other}（{od}）时间重叠", wc=wc.code, d=day.isoformat(),
                         shift=sh.name, other=clash[0].shift.name, od=clash[0].date.isoformat()), field="shift")
    members = _crew(uow, crew)
    _check_crew_free(uow, tz, None, day, span, [e for e, _r in members])
    notes = (str(notes or "").strip() or None)
    if notes and len(notes) > 200:
        raise ValidationFailed(_("备注最多 200 个字符"), field="notes")
    a = ShiftAssignment(work_center_id=wc.id, date=day, shift_id=sh.id, shift=sh,
                        headcount=_headcount(headcount, len(members)), notes=notes,
                        crew=[ShiftCrew(employee_id=e, role=r) for e, r in members])
    uow.add(a)
    uow.flush()
    return a


def update_assignment(uow: UnitOfWork, assignment_id: int, changes: Mapping) -> ShiftAssignment:
    """Change an entry's headcount, crew (replaced as a whole) and notes."""
    a = uow.get(ShiftAssignment, assignment_id, for_update=True)
    unknown = set(changes) - {"headcount", "crew", "notes"}
    if unknown:
        raise ValidationFailed(_("未知字段：{names}", names=", ".join(sorted(unknown))), field=sorted(unknown)[0])
    if "crew" in changes:
        members = _crew(uow, changes.get("crew"))
        tz = company_tz(uow)
        _check_crew_free(uow, tz, a.id, a.date, shift_span(a.shift, a.date, tz), [e for e, _r in members])
        a.crew.clear()
        uow.flush()
        a.crew.extend(ShiftCrew(employee_id=e, role=r) for e, r in members)
    if "headcount" in changes:
        a.headcount = _headcount(changes.get("headcount"), len(a.crew))
    elif "crew" in changes:  # a bigger crew raises the headcount; a smaller one keeps the planned figure
        a.headcount = max(a.headcount or 0, len(a.crew))
    if "notes" in changes:
        notes = str(changes.get("notes") or "").strip() or None
        if notes and len(notes) > 200:
            raise ValidationFailed(_("备注最多 200 个字符"), field="notes")
        a.notes = notes
    uow.flush()
    return a


def remove_assignment(uow: UnitOfWork, assignment_id: int) -> None:
    a = uow.get(ShiftAssignment, assignment_id, for_update=True)
    uow.session.delete(a)
    uow.flush()


def apply_pattern(uow: UnitOfWork, *, shift: Any, work_centers: Iterable[Any], start: Any, weeks: int | None = 4,
                  end: Any = None, weekdays: Iterable[int] = (0, 1, 2, 3, 4), headcount: Any = None,
                  replace: bool = False) -> dict:
    """Roster `shift` on every chosen weekday (0 = Monday) from `start` for `weeks` weeks (or up to `end`,
    inclusive) on each work center. An entry that already exists is kept; one that would overlap another
    shift of the line is reported (or, with `replace`, the overlapping entries are removed first).
    Returns {"created", "existing", "replaced", "conflicts": [{"work_center", "date", "reason"}]}."""
    sh = _shift(uow, shift)
    wcs = [_work_center(uow, ref, "work_centers") for ref in dict.fromkeys(work_centers or [])]
    if not wcs:
        raise ValidationFailed(_("请至少选择一个工作中心"), field="work_centers")
    first = _date(start, "start")
    if end not in (None, ""):
        last = _date(end, "end")
    else:
        try:
            n = int(weeks or 0)
        except (TypeError, ValueError):
            raise ValidationFailed(_("周数必须是整数"), field="weeks") from None
        if n < 1:
            raise ValidationFailed(_("周数至少为 1"), field="weeks")
        last = first + dt.timedelta(days=7 * n - 1)
    if last < first:
        raise ValidationFailed(_("结束日期不能早于开始日期"), field="end")
    if (last - first).days + 1 > MAX_PATTERN_DAYS:
        raise ValidationFailed(_("一次最多排 {n} 天", n=MAX_PATTERN_DAYS), field="end")
    days = set()
    for d in weekdays or []:
        try:
            d = int(d)
        except (TypeError, ValueError):
            raise ValidationFailed(_("星期无效：{value}", value=d), field="weekdays") from None
        if not 0 <= d <= 6:
            raise ValidationFailed(_("星期无效：{value}", value=d), field="weekdays")
        days.add(d)
    if not days:
        raise ValidationFailed(_("请至少选择一天"), field="weekdays")
    count = _headcount(headcount, 0)
    tz = company_tz(uow)
    existing: dict[int, list[ShiftAssignment]] = defaultdict(list)
    for a in _assignments(uow, [wc.id for wc in wcs], first - dt.timedelta(days=1), last + dt.timedelta(days=1)):
        existing[a.work_center_id].append(a)
    report = {"created": 0, "existing": 0, "replaced": 0, "conflicts": []}
    day = first
    while day <= last:
        if day.weekday() in days:
            span = shift_span(sh, day, tz)
            for wc in wcs:
                rows = existing[wc.id]
                if any(a.shift_id == sh.id and a.date == day for a in rows):
                    report["existing"] += 1
                    continue
                clash = _overlapping(uow, tz, span, rows)
                if clash and not replace:
                    report["conflicts"].append({"work_center": wc.code, "date": day.isoformat(), "reason": _(
                        "与已排的{other}时间重叠", other=clash[0].shift.name)})
                    continue
                for old in clash:
                    rows.remove(old)
                    uow.session.delete(old)
                    report["replaced"] += 1
                if clash:
                    uow.flush()
                a = ShiftAssignment(company_id=uow.company_id, work_center_id=wc.id, date=day, shift_id=sh.id,
                                    shift=sh, headcount=count)
                uow.session.add(a)
                rows.append(a)
                report["created"] += 1
        day += dt.timedelta(days=1)
    uow.flush()
    return report


def list_assignments(uow: UnitOfWork, first: dt.date, last: dt.date, *, work_center_ids: Iterable[int] | None = None,
                     limit: int = 500, offset: int = 0) -> tuple[list[ShiftAssignment], int]:
    stmt = select(ShiftAssignment).where(ShiftAssignment.company_id == uow.company_id,
                                         ShiftAssignment.date >= first, ShiftAssignment.date <= last)
    if work_center_ids is not None:
        stmt = stmt.where(ShiftAssignment.work_center_id.in_(list(work_center_ids) or [0]))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(ShiftAssignment.date, ShiftAssignment.work_center_id,
                                                   ShiftAssignment.id).limit(max(1, min(limit, 5000)))
                                     .offset(max(0, offset))))
    return items, total


def assignment_to_dict(uow: UnitOfWork, a: ShiftAssignment, *, employees: Mapping[int, tuple] | None = None,
                       work_centers: Mapping[int, WorkCenter] | None = None) -> dict:
    tz = company_tz(uow)
    if employees is None:
        ids = [c.employee_id for c in a.crew]
        employees = {eid: (code, name) for eid, code, name in uow.session.execute(select(
            md.Employee.id, md.Employee.code, md.Employee.name).where(md.Employee.id.in_(ids or [0])))}
    wc = (work_centers or {}).get(a.work_center_id) or uow.session.get(WorkCenter, a.work_center_id)
    start, end = shift_span(a.shift, a.date, tz)
    work = seconds(shift_windows(a.shift, a.date, tz))
    return {"id": a.id, "work_center_id": a.work_center_id, "work_center": wc.code, "work_center_name": wc.name,
            "date": a.date.isoformat(), "shift_id": a.shift_id, "shift": a.shift.code, "shift_name": a.shift.name,
            "start": start.isoformat(), "end": end.isoformat(),
            "start_local": start.astimezone(tz).strftime("%H:%M"), "end_local": end.astimezone(tz).strftime("%H:%M"),
            "work_hours": str((Decimal(work) / 3600).quantize(Decimal("0.01"))), "headcount": a.headcount,
            "notes": a.notes,
            "crew": [{"employee_id": c.employee_id, "code": employees.get(c.employee_id, ("", ""))[0],
                      "name": employees.get(c.employee_id, ("", ""))[1], "role": c.role} for c in a.crew]}


def roster_week(uow: UnitOfWork, week_start: dt.date, *, work_center_ids: Iterable[int] | None = None,
                days: int = 7) -> dict:
    """The week grid: one row per active work center, one column per day, the entries in each cell."""
    week_start = week_start - dt.timedelta(days=week_start.weekday()) if days == 7 else week_start
    dates = [week_start + dt.timedelta(days=i) for i in range(days)]
    stmt = select(WorkCenter).where(WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True))
    if work_center_ids is not None:
        stmt = stmt.where(WorkCenter.id.in_(list(work_center_ids) or [0]))
    wcs = list(uow.session.scalars(stmt.order_by(WorkCenter.code)))
    items, _total = list_assignments(uow, dates[0], dates[-1], work_center_ids=[w.id for w in wcs], limit=5000)
    emp_ids = {c.employee_id for a in items for c in a.crew}
    employees = {eid: (code, name) for eid, code, name in uow.session.execute(select(
        md.Employee.id, md.Employee.code, md.Employee.name).where(md.Employee.id.in_(emp_ids or {0})))}
    by_wc = {w.id: w for w in wcs}
    cells: dict[tuple[int, str], list[dict]] = defaultdict(list)
    for a in items:
        cells[(a.work_center_id, a.date.isoformat())].append(
            assignment_to_dict(uow, a, employees=employees, work_centers=by_wc))
    return {"week_start": dates[0].isoformat(), "dates": [d.isoformat() for d in dates],
            "weekdays": [weekday_label(d.weekday()) for d in dates],
            "rows": [{"work_center_id": w.id, "work_center": w.code, "name": w.name,
                      "cells": [cells.get((w.id, d.isoformat()), []) for d in dates]} for w in wcs]}


# ------------------------------------------------------------------ capacity and load
def remaining_minutes(op: WorkOrderOperation, wo_quantity: Decimal) -> Decimal:
    """Standard minutes an open operation still needs: setup (unless it already started) + run × the units
    not yet reported at it."""
    left = max(to_decimal(wo_quantity) - to_decimal(op.qty_good or 0) - to_decimal(op.qty_scrap or 0), Decimal(0))
    setup = Decimal(0) if op.state == "paused" or op.actual_start is not None else to_decimal(op.setup_minutes or 0)
    return setup + to_decimal(op.run_minutes or 0) * left


def parallel_units(uow: UnitOfWork, work_center_ids: Iterable[int]) -> dict[int, int]:
    """Active machines per work center, or its capacity when it has none."""
    ids = list(work_center_ids)
    machines = dict(uow.session.execute(select(Equipment.work_center_id, func.count()).where(
        Equipment.company_id == uow.company_id, Equipment.active.is_(True),
        Equipment.work_center_id.in_(ids or [0])).group_by(Equipment.work_center_id)).all())
    caps = dict(uow.session.execute(select(WorkCenter.id, WorkCenter.capacity).where(
        WorkCenter.id.in_(ids or [0]))).all())
    return {i: int(machines.get(i) or caps.get(i) or 1) for i in ids}


def capacity(uow: UnitOfWork, first: dt.date, last: dt.date, *,
             work_center_ids: Iterable[int] | None = None) -> list[dict]:
    """Available vs loaded hours per work center and local day from `first` to `last` (inclusive)."""
    if last < first:
        raise ValidationFailed(_("结束日期不能早于开始日期"), field="end")
    if (last - first).days >= 92:
        raise ValidationFailed(_("一次最多查看 92 天"), field="end")
    tz = company_tz(uow)
    stmt = select(WorkCenter).where(WorkCenter.company_id == uow.company_id, WorkCenter.active.is_(True))
    if work_center_ids is not None:
        stmt = stmt.where(WorkCenter.id.in_(list(work_center_ids) or [0]))
    wcs = list(uow.session.scalars(stmt.order_by(WorkCenter.code)))
    ids = [w.id for w in wcs]
    units = parallel_units(uow, ids)
    dates = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    day_bounds = {d: (dt.datetime.combine(d, dt.time(0), tzinfo=tz).astimezone(dt.UTC),
                      dt.datetime.combine(d + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(dt.UTC))
                  for d in dates}
    shift_s: dict[tuple[int, dt.date], int] = defaultdict(int)
    for a in _assignments(uow, ids, first, last):
        shift_s[(a.work_center_id, a.date)] += seconds(shift_windows(a.shift, a.date, tz))
    load_min: dict[tuple[int, dt.date], Decimal] = defaultdict(Decimal)
    unscheduled: dict[int, Decimal] = defaultdict(Decimal)
    period = (day_bounds[dates[0]][0], day_bounds[dates[-1]][1])
    rows = uow.session.execute(
        select(WorkOrderOperation, WorkOrder.quantity).join(WorkOrder, WorkOrder.id == WorkOrderOperation.work_order_id)
        .where(WorkOrderOperation.company_id == uow.company_id, WorkOrderOperation.work_center_id.in_(ids or [0]),
               WorkOrderOperation.state.in_(OPEN_OP_STATES), WorkOrder.state.in_(SCHEDULED_WO_STATES))).all()
    for op, qty in rows:
        minutes = remaining_minutes(op, qty)
        if minutes <= 0:
            continue
        if op.planned_start is None or op.planned_end is None or op.planned_end <= op.planned_start:
            unscheduled[op.work_center_id] += minutes
            continue
        if op.planned_end <= period[0] or op.planned_start >= period[1]:
            continue
        span = (op.planned_end - op.planned_start).total_seconds()
        for d in dates:
            lo, hi = day_bounds[d]
            overlap = (min(hi, op.planned_end) - max(lo, op.planned_start)).total_seconds()
            if overlap > 0:
                load_min[(op.work_center_id, d)] += minutes * Decimal(overlap) / Decimal(span)
    out = []
    hours = Decimal("0.01")
    for w in wcs:
        days = []
        for d in dates:
            shift_h = Decimal(shift_s[(w.id, d)]) / 3600
            available = shift_h * units[w.id]
            load = load_min[(w.id, d)] / 60
            days.append({"date": d.isoformat(), "shift_hours": str(shift_h.quantize(hours)),
                         "available_hours": str(available.quantize(hours)), "load_hours": str(load.quantize(hours)),
                         "utilisation_pct": (str((load / available * 100).quantize(Decimal("0.1")))
                                             if available > 0 else None)})
        total_av = sum((Decimal(x["available_hours"]) for x in days), Decimal(0))
        total_ld = sum((Decimal(x["load_hours"]) for x in days), Decimal(0))
        out.append({"work_center_id": w.id, "work_center": w.code, "name": w.name, "units": units[w.id],
                    "days": days, "available_hours": str(total_av.quantize(hours)),
                    "load_hours": str(total_ld.quantize(hours)),
                    "unscheduled_hours": str((unscheduled[w.id] / 60).quantize(hours))})
    return out


__all__ = ["apply_pattern", "assign_shift", "assignment_to_dict", "capacity", "company_tz", "intersect",
           "list_assignments", "local_period", "merge", "parallel_units", "parse_moment", "remaining_minutes",
           "remove_assignment", "roster_week", "shift_span", "shift_windows", "subtract", "update_assignment",
           "working_windows"]
