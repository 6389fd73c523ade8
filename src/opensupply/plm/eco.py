"""Engineering change orders (工程变更单, ECO): moving a product's BOM from one version to the next.

    draft ──submit──▶ in_review ──every required department approves──▶ approved ──release──▶ released
      ▲   ◀─withdraw──┘   │ any department rejects ──▶ rejected
      └ edit lines        └ cancel (draft / in_review / approved) ──▶ cancelled

* **Create** copies the version in force (or a chosen older version) into a new draft version through
  `masterdata.boms.copy_bom` — or `create_bom` when the product has no BOM yet; the proposer edits the draft
  with `update_eco_lines` (→ `masterdata.boms.update_bom`). PLM never writes BOM tables itself.
* **Review**: one approval row per required department (研发 rd, 采购 purchasing, 生产 production, 质量
  quality; all four unless the ECO lists fewer); approving needs `plm.approve.<department>` and is not for
  the proposer. What was submitted is snapshotted: an edit of the draft after submission is refused at
  approval and at release, so what gets released is what was approved.
* **Release** (`plm.write`, approved ECO) releases the new version with `masterdata.boms.release_bom` (the
  old version becomes obsolete) and stamps its effective date; from then on new work orders use it. Work
  orders already open on the old version keep it (they carry their own `bom_id`) and are listed.
* **Discussion**: comments with @mentions of the company's users (`plm_mention`, read/unread), and the
  "我的待办" view: ECOs waiting for a department the user approves for, or mentioning them.

Authoring and releasing also need master data's BOM permission (`masterdata.boms`), since they go through
its services; approvers need only their department's approval permission.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, func, or_, select

from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import company_today, next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from opensupply.masterdata import models as md
from opensupply.mes import work_orders as mes_wo

from .lifecycle import _text, _usernames
from .models import DEPARTMENTS, ECO_STATES, Eco, EcoApproval, EcoComment, Mention

register_sequence("PLM_ECO", "ECO{year}-", 6)

READ = "plm.read"
WRITE = "plm.write"
STATE_LABELS = {"draft": _l("草稿"), "in_review": _l("审批中"), "approved": _l("已批准"), "released": _l("已发布"),
                "rejected": _l("已驳回"), "cancelled": _l("已取消")}
DEPARTMENT_LABELS = {"rd": _l("研发"), "purchasing": _l("采购"), "production": _l("生产"), "quality": _l("质量")}
APPROVAL_LABELS = {"pending": _l("待审批"), "approved": _l("已同意"), "rejected": _l("已驳回")}
OPEN_STATES = ("draft", "in_review", "approved")
# @name at the start or after a non-word character (not an e-mail address); a trailing . or - is punctuation
MENTION_RE = re.compile(r"(?<![\w@.])@([\w][\w.\-]{0,79})")


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def department_label(department: str) -> str:
    return str(DEPARTMENT_LABELS.get(department, department))


def approval_label(state: str) -> str:
    return str(APPROVAL_LABELS.get(state, state))


def approve_permission(department: str) -> str:
    return f"plm.approve.{department}"


def can_collaborate(actor) -> bool:
    """Who may comment: authors and every approving department (a buyer asked about a part, say)."""
    return actor.can(WRITE) or any(actor.can(approve_permission(d)) for d in DEPARTMENTS)


# ------------------------------------------------------------------ lookups
def get_eco(uow: UnitOfWork, eco_id: int, *, for_update: bool = False) -> Eco:
    return uow.get(Eco, eco_id, for_update=for_update)


def _departments(raw: Any) -> list[str]:
    """None → all four departments; else a list (or comma-separated text) of department codes."""
    if raw is None:
        return list(DEPARTMENTS)
    items = [x.strip() for x in raw.split(",")] if isinstance(raw, str) else [str(x).strip() for x in raw]
    items = [x for x in items if x]
    unknown = [x for x in items if x not in DEPARTMENTS]
    if unknown:
        raise ValidationFailed(_("审批部门无效：{value}", value=", ".join(unknown)), field="departments")
    if not items:
        raise ValidationFailed(_("请至少选择一个审批部门"), field="departments")
    return [d for d in DEPARTMENTS if d in items]


def _require_state(eco: Eco, *states: str, action: str) -> None:
    if eco.state not in states:
        raise Conflict(_("变更单 {number} 当前为{state}，不能{action}", number=eco.number,
                         state=state_label(eco.state), action=action), field="state", code="illegal_transition")


def _first_version(uow: UnitOfWork, product_id: int) -> str:
    existing = set(uow.session.scalars(select(md.Bom.version).where(
        md.Bom.company_id == uow.company_id, md.Bom.product_id == product_id)))
    version = "V1.0"
    while version in existing:
        version = boms.next_version(version)
    return version


def _snapshot(bom: md.Bom) -> list:
    """The content of a version that reviewers approve: output quantity and every line."""
    lines = sorted([ln.component_id, boms._dec_str(ln.quantity), ln.uom_id, boms._dec_str(ln.scrap_pct),
                    bool(ln.is_byproduct)] for ln in bom.lines)
    return [boms._dec_str(bom.quantity), *lines]


def _set_approvals(eco: Eco, departments: list[str]) -> None:
    """One pending row per required department: rows of departments still required stay (replacing them
    would insert before the delete and hit the unique key), the others go."""
    eco.departments = list(departments)
    have = {a.department for a in eco.approvals}
    for a in [a for a in eco.approvals if a.department not in departments]:
        eco.approvals.remove(a)
    eco.approvals.extend(EcoApproval(department=d, state="pending") for d in departments if d not in have)


def _check_unchanged_since_submit(uow: UnitOfWork, eco: Eco) -> md.Bom:
    new = boms.get_bom(uow, eco.new_bom_id)
    if new.state != "draft":
        raise Conflict(_("新版本 {version} 已不是草稿（{state}），请取消该变更单", version=new.version,
                         state=boms.state_label(new.state)), field="state")
    if eco.review_snapshot is not None and _snapshot(new) != eco.review_snapshot:
        raise Conflict(_("新版本 {version} 在提交审批后被修改过，请撤回后重新提交审批", version=new.version),
                       field="lines", code="changed_after_submit")
    return new


# ------------------------------------------------------------------ use cases
def create_eco(uow: UnitOfWork, product: int | str, title: str, reason: str, base_bom_id: int | None = None,
               version: str | None = None, *, lines: Iterable[Mapping] | None = None,
               departments: Any = None) -> Eco:
    """A draft ECO for `product` (id or SKU) with its new draft BOM version: a copy of `base_bom_id` (default:
    the released version) as the next version (or `version`), then `lines` applied if given. A product with no
    BOM yet gets its first version from `lines`."""
    uow.actor.require(WRITE)
    prod = boms._product(uow, product, "product")
    title = _text(title, "title", _("变更标题"), max_length=200)
    reason = _text(reason, "reason", _("变更原因"))
    deps = _departments(departments)
    if prod.lifecycle_stage == "eol":
        raise Conflict(_("商品 {sku} 已退市，不能发起工程变更", sku=prod.sku), field="product")
    version = (version or "").strip() or None
    replaced = boms.released_bom(uow, prod.id)
    if base_bom_id not in (None, ""):
        base = boms.get_bom(uow, int(base_bom_id))
        if base.product_id != prod.id:
            raise ValidationFailed(_("基础版本不属于该商品"), field="base_bom_id")
        if base.state == "draft":
            raise ValidationFailed(_("基础版本必须是已发布或已作废的版本，不能是草稿"), field="base_bom_id")
    else:
        base = replaced or uow.session.scalar(select(md.Bom).where(
            md.Bom.company_id == uow.company_id, md.Bom.product_id == prod.id, md.Bom.state == "obsolete")
            .order_by(md.Bom.id.desc()).limit(1))
    number = next_number(uow, "PLM_ECO")
    notes = f"{number} {title}"[:500]
    if base is None:
        rows = list(lines or [])
        if not rows:
            raise ValidationFailed(_("商品 {sku} 还没有物料清单，请填写新版本的组件", sku=prod.sku), field="lines")
        new = boms.create_bom(uow, product=prod.id, lines=rows, version=version or _first_version(uow, prod.id),
                              notes=notes)
    else:
        new = boms.copy_bom(uow, base.id, version)
        changes: dict[str, Any] = {"notes": notes}
        if lines is not None:
            changes["lines"] = list(lines)
        boms.update_bom(uow, new.id, changes)
    eco = Eco(company_id=uow.company_id, number=number, title=title, reason=reason, product_id=prod.id,
              state="draft", base_bom_id=base.id if base else None, replaced_bom_id=replaced.id if replaced else None,
              new_bom_id=new.id, proposer_id=uow.actor.user_id)
    _set_approvals(eco, deps)
    uow.session.add(eco)
    uow.flush()
    uow.emit("plm.eco_created", eco_id=eco.id, number=eco.number, product_id=prod.id, new_bom_id=new.id)
    return eco


def update_eco(uow: UnitOfWork, eco_id: int, *, title: str | None = None, reason: str | None = None,
               departments: Any = None) -> Eco:
    """Change a draft's title, reason or required departments."""
    uow.actor.require(WRITE)
    eco = get_eco(uow, eco_id, for_update=True)
    _require_state(eco, "draft", action=_("修改变更单"))
    if title is not None:
        eco.title = _text(title, "title", _("变更标题"), max_length=200)
    if reason is not None:
        eco.reason = _text(reason, "reason", _("变更原因"))
    if departments is not None:
        deps = _departments(departments)
        if deps != list(eco.departments or []):
            _set_approvals(eco, deps)
    uow.flush()
    return eco


def update_eco_lines(uow: UnitOfWork, eco_id: int, lines: Iterable[Mapping], *, quantity: Any = None) -> md.Bom:
    """Replace the new version's lines (and optionally its output quantity) while the ECO is a draft;
    master data validates them (units, duplicates, cycles)."""
    uow.actor.require(WRITE)
    eco = get_eco(uow, eco_id, for_update=True)
    _require_state(eco, "draft", action=_("修改新版本的物料"))
    changes: dict[str, Any] = {"lines": list(lines or [])}
    if quantity not in (None, ""):
        changes["quantity"] = quantity
    bom = boms.update_bom(uow, eco.new_bom_id, changes)
    uow.emit("plm.eco_lines_changed", eco_id=eco.id, bom_id=bom.id)
    return bom


def submit_eco(uow: UnitOfWork, eco_id: int) -> Eco:
    """Send a draft for approval; it must change something."""
    uow.actor.require(WRITE)
    eco = get_eco(uow, eco_id, for_update=True)
    _require_state(eco, "draft", action=_("提交该变更单审批"))
    new = boms.get_bom(uow, eco.new_bom_id)
    if new.state != "draft":
        raise Conflict(_("新版本 {version} 已不是草稿（{state}），请取消该变更单", version=new.version,
                         state=boms.state_label(new.state)), field="state")
    diff = eco_diff(uow, eco)
    if not diff.has_changes:
        raise ValidationFailed(_("新版本与基础版本没有差异，请先修改物料"), field="lines")
    for a in eco.approvals:
        a.state, a.decided_by_id, a.decided_at, a.comment = "pending", None, None, None
    eco.review_snapshot = _snapshot(new)
    eco.state = "in_review"
    eco.submitted_at = utcnow()
    uow.flush()
    uow.emit("plm.eco_submitted", eco_id=eco.id, number=eco.number, departments=list(eco.departments))
    return eco


def withdraw_eco(uow: UnitOfWork, eco_id: int) -> Eco:
    """Take an ECO under review back to draft (to edit it); approvals given so far are void."""
    uow.actor.require(WRITE)
    eco = get_eco(uow, eco_id, for_update=True)
    _require_state(eco, "in_review", action=_("撤回该变更单"))
    for a in eco.approvals:
        a.state, a.decided_by_id, a.decided_at, a.comment = "pending", None, None, None
    eco.state = "draft"
    eco.review_snapshot = None
    uow.flush()
    return eco


def _approval_row(uow: UnitOfWork, eco: Eco, department: str) -> EcoApproval:
    if department not in DEPARTMENTS:
        raise ValidationFailed(_("审批部门无效：{value}", value=department), field="department")
    uow.actor.require(approve_permission(department))
    _require_state(eco, "in_review", action=_("审批"))
    row = next((a for a in eco.approvals if a.department == department), None)
    if row is None:
        raise ValidationFailed(_("该变更单不需要{dept}审批", dept=department_label(department)), field="department")
    if row.state != "pending":
        raise Conflict(_("{dept}已审批（{state}）", dept=department_label(department), state=approval_label(row.state)),
                       field="department", code="illegal_transition")
    if eco.proposer_id is not None and eco.proposer_id == uow.actor.user_id and not uow.actor.is_superuser:
        raise PermissionDenied(_("不能审批自己提出的变更"), code="own_request")
    return row


def approve_eco(uow: UnitOfWork, eco_id: int, department: str, comment: str | None = None) -> Eco:
    """One department agrees; when every required department has, the ECO is approved."""
    eco = get_eco(uow, eco_id, for_update=True)
    row = _approval_row(uow, eco, (department or "").strip())
    _check_unchanged_since_submit(uow, eco)
    row.state = "approved"
    row.decided_by_id = uow.actor.user_id
    row.decided_at = utcnow()
    row.comment = _text(comment, "comment", _("审批意见"), required=False)
    uow.emit("plm.eco_department_approved", eco_id=eco.id, department=row.department)
    if all(a.state == "approved" for a in eco.approvals):
        eco.state = "approved"
        eco.approved_at = utcnow()
        uow.emit("plm.eco_approved", eco_id=eco.id, number=eco.number, product_id=eco.product_id)
    uow.flush()
    return eco


def reject_eco(uow: UnitOfWork, eco_id: int, department: str, reason: str) -> Eco:
    """One department says no: the whole ECO is rejected (a new ECO is raised for a new proposal)."""
    eco = get_eco(uow, eco_id, for_update=True)
    row = _approval_row(uow, eco, (department or "").strip())
    reason = _text(reason, "reason", _("驳回原因"))
    row.state = "rejected"
    row.decided_by_id = uow.actor.user_id
    row.decided_at = utcnow()
    row.comment = reason
    eco.state = "rejected"
    eco.closed_reason = f"{department_label(row.department)}：{reason}"
    uow.flush()
    uow.emit("plm.eco_rejected", eco_id=eco.id, number=eco.number, department=row.department)
    return eco


def cancel_eco(uow: UnitOfWork, eco_id: int, reason: str | None = None) -> Eco:
    uow.actor.require(WRITE)
    eco = get_eco(uow, eco_id, for_update=True)
    _require_state(eco, *OPEN_STATES, action=_("取消该变更单"))
    eco.state = "cancelled"
    eco.closed_reason = _text(reason, "reason", _("取消原因"), required=False)
    uow.flush()
    uow.emit("plm.eco_cancelled", eco_id=eco.id, number=eco.number)
    return eco


def _date(raw: Any, field: str) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip()[:10])
    except ValueError:
        raise ValidationFailed(_("日期格式不正确：{value}", value=str(raw)[:20]), field=field) from None


def release_eco(uow: UnitOfWork, eco_id: int, effective_date: dt.date | str | None = None) -> Eco:
    """Put the approved new version in force (the old one becomes obsolete); open work orders on the old
    version are left as they are. `effective_date` (default today) may be in the past, not the future:
    the version is in force from the moment of release."""
    uow.actor.require(WRITE)
    eco = get_eco(uow, eco_id, for_update=True)
    _require_state(eco, "approved", action=_("发布该变更单"))
    today = company_today(uow)
    day = _date(effective_date, "effective_date") or today
    if day > today:
        raise ValidationFailed(_("生效日期不能晚于今天；请在生效当天发布"), field="effective_date")
    current = boms.released_bom(uow, eco.product_id)
    if (current.id if current else None) != eco.replaced_bom_id:
        raise Conflict(_("商品当前生效的版本已变为 {version}，该变更单基于旧版本；请取消后基于当前版本重新发起",
                         version=current.version if current else "—"), field="state", code="stale_base")
    new = _check_unchanged_since_submit(uow, eco)
    still_open = [wo.id for wo in mes_wo.open_work_orders_on_bom(uow, eco.replaced_bom_id)] \
        if eco.replaced_bom_id else []
    boms.update_bom(uow, new.id, {"effective_from": day})
    boms.release_bom(uow, new.id)
    eco.state = "released"
    eco.released_at = utcnow()
    eco.released_by_id = uow.actor.user_id
    eco.effective_date = day
    uow.flush()
    uow.emit("plm.eco_released", eco_id=eco.id, number=eco.number, product_id=eco.product_id, bom_id=new.id,
             replaced_bom_id=eco.replaced_bom_id, open_work_order_ids=still_open)
    return eco


# ------------------------------------------------------------------ the diff
@dataclass
class LineView:
    component_id: int
    sku: str
    name: str
    quantity: Decimal
    uom: str
    scrap_pct: Decimal
    is_byproduct: bool
    sequence: int

    def as_dict(self) -> dict:
        d = asdict(self)
        d["quantity"] = boms._dec_str(self.quantity)
        d["scrap_pct"] = boms._dec_str(self.scrap_pct)
        return d


@dataclass
class DiffRow:
    status: str  # added | removed | changed | unchanged
    component_id: int
    sku: str
    name: str
    old: LineView | None
    new: LineView | None
    changes: list[str] = field(default_factory=list)  # quantity, uom, scrap_pct, is_byproduct

    def as_dict(self) -> dict:
        return {"status": self.status, "component_id": self.component_id, "sku": self.sku, "name": self.name,
                "old": self.old.as_dict() if self.old else None, "new": self.new.as_dict() if self.new else None,
                "changes": list(self.changes)}


@dataclass
class EcoDiff:
    base_bom_id: int | None
    base_version: str | None
    new_bom_id: int
    new_version: str
    base_quantity: Decimal | None
    new_quantity: Decimal
    rows: list[DiffRow]

    @property
    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("added", "removed", "changed", "unchanged"), 0)
        for r in self.rows:
            out[r.status] += 1
        return out

    @property
    def quantity_changed(self) -> bool:
        return self.base_quantity is not None and self.base_quantity != self.new_quantity

    @property
    def has_changes(self) -> bool:
        return self.quantity_changed or any(r.status != "unchanged" for r in self.rows)

    def as_dict(self) -> dict:
        return {"base_bom_id": self.base_bom_id, "base_version": self.base_version, "new_bom_id": self.new_bom_id,
                "new_version": self.new_version,
                "base_quantity": boms._dec_str(self.base_quantity) if self.base_quantity is not None else None,
                "new_quantity": boms._dec_str(self.new_quantity), "quantity_changed": self.quantity_changed,
                "counts": self.counts, "has_changes": self.has_changes, "rows": [r.as_dict() for r in self.rows]}


def _view(ln: md.BomLine) -> LineView:
    return LineView(ln.component_id, ln.component.sku, ln.component.name, ln.quantity, ln.uom.code, ln.scrap_pct,
                    bool(ln.is_byproduct), ln.sequence)


def diff_lines(old_lines: Iterable[LineView], new_lines: Iterable[LineView]) -> list[DiffRow]:
    """Line-by-line comparison keyed by component, in the new version's order, removed lines last.
    A component listed twice (as input and as by-product) is paired by its by-product flag first."""
    old_by: dict[int, list[LineView]] = defaultdict(list)
    for ln in sorted(old_lines, key=lambda x: x.sequence):
        old_by[ln.component_id].append(ln)
    rows: list[DiffRow] = []
    for new in sorted(new_lines, key=lambda x: x.sequence):
        candidates = old_by.get(new.component_id) or []
        old = next((o for o in candidates if o.is_byproduct == new.is_byproduct), None) or (
            candidates[0] if candidates else None)
        if old is None:
            rows.append(DiffRow("added", new.component_id, new.sku, new.name, None, new))
            continue
        candidates.remove(old)
        changes = [name for name, a, b in (("quantity", old.quantity, new.quantity), ("uom", old.uom, new.uom),
                                           ("scrap_pct", old.scrap_pct, new.scrap_pct),
                                           ("is_byproduct", old.is_byproduct, new.is_byproduct)) if a != b]
        rows.append(DiffRow("changed" if changes else "unchanged", new.component_id, new.sku, new.name, old, new,
                            changes))
    for left in old_by.values():
        rows.extend(DiffRow("removed", o.component_id, o.sku, o.name, o, None) for o in left)
    return rows


def eco_diff(uow: UnitOfWork, eco: Eco) -> EcoDiff:
    """The base version against the new one: added / removed / changed / unchanged lines."""
    new = boms.get_bom(uow, eco.new_bom_id)
    base = boms.get_bom(uow, eco.base_bom_id) if eco.base_bom_id else None
    rows = diff_lines([_view(ln) for ln in base.lines] if base else [], [_view(ln) for ln in new.lines])
    return EcoDiff(base.id if base else None, base.version if base else None, new.id, new.version,
                   base.quantity if base else None, new.quantity, rows)


def open_work_orders(uow: UnitOfWork, eco: Eco) -> list:
    """Open work orders on the version the ECO replaces (they keep it, before and after release)."""
    return mes_wo.open_work_orders_on_bom(uow, eco.replaced_bom_id) if eco.replaced_bom_id else []


# ------------------------------------------------------------------ comments and mentions
def parse_mentions(body: str) -> list[str]:
    """Usernames mentioned as @name, in order, without duplicates (case-insensitive)."""
    seen, out = set(), []
    for raw in MENTION_RE.findall(body or ""):
        name = raw.rstrip(".-")
        if name and name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def _company_users(uow: UnitOfWork, names: list[str]) -> dict[str, Any]:
    from opensupply.core.auth import User, UserCompany

    if not names:
        return {}
    rows = uow.session.scalars(select(User).join(UserCompany, UserCompany.user_id == User.id).where(
        UserCompany.company_id == uow.company_id, User.is_active.is_(True),
        func.lower(User.username).in_([n.lower() for n in names]))).all()
    return {u.username.lower(): u for u in rows}


def add_comment(uow: UnitOfWork, eco_id: int, body: str) -> EcoComment:
    """A comment on an ECO; every @username must be an active user of this company who can read ECOs,
    and each (other than the author) gets an unread mention."""
    from opensupply.core.auth import actor_for_user

    if not can_collaborate(uow.actor):
        raise PermissionDenied(_("没有权限：{permission}", permission=WRITE))
    eco = get_eco(uow, eco_id)
    body = _text(body, "body", _("评论内容"), max_length=4000)
    names = parse_mentions(body)
    users = _company_users(uow, names)
    unknown = [n for n in names if n.lower() not in users]
    if unknown:
        raise ValidationFailed(_("找不到用户：{names}", names="、".join("@" + n for n in unknown)), field="body")
    for name in names:
        user = users[name.lower()]
        if not actor_for_user(uow.session, user.id, uow.company_id).can(READ):
            raise ValidationFailed(_("用户 @{name} 没有查看工程变更的权限", name=user.username), field="body")
    comment = EcoComment(company_id=uow.company_id, eco_id=eco.id, author_id=uow.actor.user_id, body=body)
    uow.session.add(comment)
    uow.flush()
    mentioned = [users[n.lower()].id for n in names if users[n.lower()].id != uow.actor.user_id]
    for user_id in mentioned:
        uow.session.add(Mention(company_id=uow.company_id, comment_id=comment.id, eco_id=eco.id, user_id=user_id))
    uow.flush()
    if mentioned:
        uow.emit("plm.mentioned", eco_id=eco.id, comment_id=comment.id, user_ids=mentioned)
    return comment


def list_comments(uow: UnitOfWork, eco_id: int) -> list[dict]:
    get_eco(uow, eco_id)
    comments = list(uow.session.scalars(select(EcoComment).where(
        EcoComment.company_id == uow.company_id, EcoComment.eco_id == eco_id).order_by(EcoComment.id)))
    mentions = defaultdict(list)
    for m in uow.session.scalars(select(Mention).where(Mention.company_id == uow.company_id,
                                                       Mention.eco_id == eco_id)):
        mentions[m.comment_id].append(m.user_id)
    names = _usernames(uow, [c.author_id for c in comments] + [u for ids in mentions.values() for u in ids])
    return [{"id": c.id, "body": c.body, "author_id": c.author_id, "author": names.get(c.author_id, "system"),
             "mentions": [{"user_id": u, "name": names.get(u)} for u in mentions[c.id]],
             "mentions_me": uow.actor.user_id in mentions[c.id],
             "created_at": c.created_at.isoformat() if c.created_at else None, "created": c.created_at}
            for c in comments]


def has_unread_mentions(uow: UnitOfWork, eco_id: int) -> bool:
    if uow.actor.user_id is None:
        return False
    return uow.session.scalar(select(Mention.id).where(
        Mention.company_id == uow.company_id, Mention.eco_id == eco_id, Mention.user_id == uow.actor.user_id,
        Mention.read_at.is_(None)).limit(1)) is not None


def mark_mentions_read(uow: UnitOfWork, eco_id: int) -> int:
    """The acting user has seen the ECO: their unread mentions in it are read. Returns how many."""
    if uow.actor.user_id is None:
        return 0
    rows = list(uow.session.scalars(select(Mention).where(
        Mention.company_id == uow.company_id, Mention.eco_id == eco_id, Mention.user_id == uow.actor.user_id,
        Mention.read_at.is_(None)).with_for_update(of=Mention)))
    now = utcnow()
    for m in rows:
        m.read_at = now
    uow.flush()
    return len(rows)


def my_mentions(uow: UnitOfWork, *, unread_only: bool = True, limit: int = 50,
                offset: int = 0) -> tuple[list[dict], int]:
    stmt = (select(Mention, EcoComment, Eco).join(EcoComment, EcoComment.id == Mention.comment_id)
            .join(Eco, Eco.id == Mention.eco_id)
            .where(Mention.company_id == uow.company_id, Mention.user_id == uow.actor.user_id))
    if unread_only:
        stmt = stmt.where(Mention.read_at.is_(None))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = uow.session.execute(stmt.order_by(Mention.id.desc()).limit(max(1, min(limit, 500)))
                               .offset(max(0, offset))).all()
    names = _usernames(uow, [c.author_id for _m, c, _e in rows])
    return [{"id": m.id, "eco_id": e.id, "eco_number": e.number, "eco_title": e.title, "comment_id": c.id,
             "body": c.body, "author": names.get(c.author_id, "system"),
             "read": m.read_at is not None, "created_at": c.created_at.isoformat() if c.created_at else None}
            for m, c, e in rows], total


def _awaiting_me(uow: UnitOfWork):
    """ECO ids waiting for a department the acting user approves for (not their own proposals)."""
    deps = [d for d in DEPARTMENTS if uow.actor.can(approve_permission(d))]
    stmt = (select(EcoApproval.eco_id).join(Eco, Eco.id == EcoApproval.eco_id)
            .where(Eco.company_id == uow.company_id, Eco.state == "in_review", EcoApproval.state == "pending",
                   EcoApproval.department.in_(deps or ["-"])))
    if not uow.actor.is_superuser and uow.actor.user_id is not None:
        stmt = stmt.where(or_(Eco.proposer_id.is_(None), Eco.proposer_id != uow.actor.user_id))
    return stmt


def list_ecos(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, product_id: int | None = None,
              mine: bool = False, limit: int = 50, offset: int = 0) -> tuple[list[Eco], int]:
    stmt = select(Eco).join(md.Product, md.Product.id == Eco.product_id).where(Eco.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Eco.number.ilike(like), Eco.title.ilike(like), md.Product.sku.ilike(like),
                              md.Product.name.ilike(like), cast(Eco.reason, String).ilike(like)))
    if state:
        if state not in ECO_STATES:
            raise ValidationFailed(_("状态无效：{value}", value=state), field="state")
        stmt = stmt.where(Eco.state == state)
    if product_id:
        stmt = stmt.where(Eco.product_id == product_id)
    if mine:
        unread = select(Mention.eco_id).where(Mention.company_id == uow.company_id,
                                              Mention.user_id == (uow.actor.user_id or -1),
                                              Mention.read_at.is_(None))
        stmt = stmt.where(or_(Eco.id.in_(_awaiting_me(uow)), Eco.id.in_(unread)))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(Eco.id.desc()).limit(max(1, min(limit, 1000)))
                                     .offset(max(0, offset))))
    return items, total


def inbox_counts(uow: UnitOfWork) -> dict[str, int]:
    awaiting = uow.session.scalar(select(func.count()).select_from(_awaiting_me(uow).distinct().subquery()))
    unread = uow.session.scalar(select(func.count()).select_from(Mention).where(
        Mention.company_id == uow.company_id, Mention.user_id == (uow.actor.user_id or -1),
        Mention.read_at.is_(None)))
    return {"awaiting_approval": awaiting or 0, "unread_mentions": unread or 0}


# ------------------------------------------------------------------ presentation
def _versions(uow: UnitOfWork, ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {i: (v, s) for i, v, s in uow.session.execute(select(md.Bom.id, md.Bom.version, md.Bom.state).where(
        md.Bom.company_id == uow.company_id, md.Bom.id.in_(ids)))}


def eco_to_dict(uow: UnitOfWork, eco: Eco, *, names: dict | None = None, versions: dict | None = None) -> dict:
    versions = versions if versions is not None else _versions(uow, [eco.base_bom_id, eco.replaced_bom_id,
                                                                      eco.new_bom_id])
    names = names if names is not None else _usernames(
        uow, [eco.proposer_id, eco.released_by_id] + [a.decided_by_id for a in eco.approvals])

    def ver(bom_id):
        return versions.get(bom_id, (None, None))[0] if bom_id else None

    return {
        "id": eco.id, "number": eco.number, "title": eco.title, "reason": eco.reason, "state": eco.state,
        "state_label": state_label(eco.state), "product_id": eco.product_id, "sku": eco.product.sku,
        "product_name": eco.product.name, "base_bom_id": eco.base_bom_id, "base_version": ver(eco.base_bom_id),
        "replaced_bom_id": eco.replaced_bom_id, "replaced_version": ver(eco.replaced_bom_id),
        "new_bom_id": eco.new_bom_id, "new_version": ver(eco.new_bom_id),
        "new_bom_state": versions.get(eco.new_bom_id, (None, None))[1],
        "departments": [{"code": d, "label": department_label(d)} for d in eco.departments or []],
        "approvals": [{"department": a.department, "department_label": department_label(a.department),
                       "state": a.state, "state_label": approval_label(a.state), "decided_by_id": a.decided_by_id,
                       "decided_by": names.get(a.decided_by_id), "comment": a.comment,
                       "decided_at": a.decided_at.isoformat() if a.decided_at else None}
                      for a in sorted(eco.approvals, key=lambda x: DEPARTMENTS.index(x.department))],
        "approved_count": sum(1 for a in eco.approvals if a.state == "approved"),
        "proposer_id": eco.proposer_id, "proposer": names.get(eco.proposer_id),
        "submitted_at": eco.submitted_at.isoformat() if eco.submitted_at else None,
        "approved_at": eco.approved_at.isoformat() if eco.approved_at else None,
        "released_at": eco.released_at.isoformat() if eco.released_at else None,
        "released_by": names.get(eco.released_by_id),
        "effective_date": eco.effective_date.isoformat() if eco.effective_date else None,
        "closed_reason": eco.closed_reason,
        "created_at": eco.created_at.isoformat() if eco.created_at else None,
    }


def ecos_to_dicts(uow: UnitOfWork, ecos: list[Eco]) -> list[dict]:
    versions = _versions(uow, [i for e in ecos for i in (e.base_bom_id, e.replaced_bom_id, e.new_bom_id)])
    names = _usernames(uow, [i for e in ecos for i in [e.proposer_id, e.released_by_id]
                             + [a.decided_by_id for a in e.approvals]])
    return [eco_to_dict(uow, e, names=names, versions=versions) for e in ecos]


__all__ = ["DEPARTMENTS", "DiffRow", "EcoDiff", "add_comment", "approve_eco", "approve_permission", "can_collaborate",
           "cancel_eco", "create_eco", "department_label", "diff_lines", "eco_diff", "eco_to_dict", "ecos_to_dicts",
           "get_eco", "has_unread_mentions", "inbox_counts", "list_comments", "list_ecos", "mark_mentions_read",
           "my_mentions", "open_work_orders", "parse_mentions", "reject_eco", "release_eco", "state_label",
           "submit_eco", "update_eco", "update_eco_lines", "withdraw_eco"]
