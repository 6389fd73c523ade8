"""Lifecycle stage changes with approval (生命周期变更申请), and new R&D items.

A product's stage is master data (`masterdata.lifecycle`: what each stage allows purchasing, sales and
production to do). PLM owns the process that moves it: someone asks (`request_stage_change`, checked with
`masterdata.lifecycle.check_transition`), someone else with `plm.approve` decides, and only an approval
writes the stage — through `masterdata.lifecycle.set_lifecycle_stage`, which audits the product row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.exc import IntegrityError

from opensupply.core import resource as rs
from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.i18n import lazy_gettext as _l
from opensupply.core.sequences import next_number, register_sequence
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms, lifecycle, resources
from opensupply.masterdata import models as md

from .models import CHANGE_STATES, LifecycleChange

register_sequence("PLM_LC", "LC{year}-", 6)

READ = "plm.read"
WRITE = "plm.write"
APPROVE = "plm.approve"
STATE_LABELS = {"pending": _l("待审批"), "approved": _l("已批准"), "rejected": _l("已驳回"), "cancelled": _l("已撤销")}
MAX_REASON = 2000
# the stage names masterdata.lifecycle shows through `_()`: marked here so that their English sits in the PLM
# catalog, the module whose pages show them most
STAGE_NAMES = (_l("研发"), _l("试产"), _l("量产"), _l("退市"))


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def _text(raw: Any, field: str, label: str, *, required: bool = True, max_length: int = MAX_REASON) -> str | None:
    value = (str(raw) if raw is not None else "").strip()
    if not value:
        if required:
            raise ValidationFailed(_("请填写{label}", label=label), field=field)
        return None
    if len(value) > max_length:
        raise ValidationFailed(_("{label}最多 {n} 个字符", label=label, n=max_length), field=field)
    return value


def get_change(uow: UnitOfWork, change_id: int, *, for_update: bool = False) -> LifecycleChange:
    return uow.get(LifecycleChange, change_id, for_update=for_update)


def pending_change(uow: UnitOfWork, product_id: int) -> LifecycleChange | None:
    return uow.session.scalar(select(LifecycleChange).where(
        LifecycleChange.company_id == uow.company_id, LifecycleChange.product_id == product_id,
        LifecycleChange.state == "pending"))


# ------------------------------------------------------------------ use cases
def request_stage_change(uow: UnitOfWork, product: int | str, to_stage: str, reason: str) -> LifecycleChange:
    """Ask to move a product (id or SKU) to another stage; pending until approved or rejected."""
    uow.actor.require(WRITE)
    prod = boms._product(uow, product, "product")
    prod = uow.get(md.Product, prod.id, for_update=True)  # two requests for one product queue here
    lifecycle.check_transition(prod.lifecycle_stage, (to_stage or "").strip())
    reason = _text(reason, "reason", _("变更原因"))
    existing = pending_change(uow, prod.id)
    if existing is not None:
        raise Conflict(_("商品 {sku} 已有待审批的阶段变更申请 {number}", sku=prod.sku, number=existing.number),
                       field="product")
    change = LifecycleChange(company_id=uow.company_id, number=next_number(uow, "PLM_LC"), product_id=prod.id,
                             from_stage=prod.lifecycle_stage, to_stage=to_stage.strip(), reason=reason,
                             state="pending", requested_by_id=uow.actor.user_id)
    uow.session.add(change)
    try:
        with uow.session.begin_nested():
            uow.session.flush()
    except IntegrityError as exc:  # the partial unique index: a concurrent request won
        raise Conflict(_("商品 {sku} 已有待审批的阶段变更申请", sku=prod.sku), field="product") from exc
    uow.emit("plm.stage_change_requested", change_id=change.id, product_id=prod.id, to_stage=change.to_stage)
    return change


def _decidable(uow: UnitOfWork, change_id: int) -> LifecycleChange:
    change = get_change(uow, change_id, for_update=True)
    if change.state != "pending":
        raise Conflict(_("申请 {number} 已{state}", number=change.number, state=state_label(change.state)),
                       field="state", code="illegal_transition")
    return change


def approve_stage_change(uow: UnitOfWork, change_id: int, comment: str | None = None) -> LifecycleChange:
    """Approve a pending request and put the product in its new stage (not by the requester, four eyes)."""
    uow.actor.require(APPROVE)
    change = _decidable(uow, change_id)
    if change.requested_by_id is not None and change.requested_by_id == uow.actor.user_id \
            and not uow.actor.is_superuser:
        raise PermissionDenied(_("不能审批自己提交的申请"), code="own_request")
    product = uow.get(md.Product, change.product_id, for_update=True)
    if product.lifecycle_stage != change.from_stage:
        raise Conflict(_("商品 {sku} 的阶段已变为{stage}，该申请已过时，请驳回后重新申请", sku=product.sku,
                         stage=lifecycle.stage_label(product.lifecycle_stage)), field="state")
    lifecycle.set_lifecycle_stage(uow, change.product_id, change.to_stage)
    change.state = "approved"
    change.decided_by_id = uow.actor.user_id
    change.decided_at = utcnow()
    change.decision_note = _text(comment, "comment", _("审批意见"), required=False)
    uow.flush()
    uow.emit("plm.stage_change_approved", change_id=change.id, product_id=change.product_id,
             stage=change.to_stage)
    return change


def reject_stage_change(uow: UnitOfWork, change_id: int, reason: str) -> LifecycleChange:
    """Turn a pending request down; the product keeps its stage."""
    uow.actor.require(APPROVE)
    change = _decidable(uow, change_id)
    change.decision_note = _text(reason, "reason", _("驳回原因"))
    change.state = "rejected"
    change.decided_by_id = uow.actor.user_id
    change.decided_at = utcnow()
    uow.flush()
    uow.emit("plm.stage_change_rejected", change_id=change.id, product_id=change.product_id)
    return change


def cancel_stage_change(uow: UnitOfWork, change_id: int) -> LifecycleChange:
    """The requester (or an approver) withdraws a pending request."""
    uow.actor.require(WRITE)
    change = _decidable(uow, change_id)
    if change.requested_by_id != uow.actor.user_id and not uow.actor.can(APPROVE):
        raise PermissionDenied(_("只能撤销自己提交的申请"))
    change.state = "cancelled"
    change.decided_by_id = uow.actor.user_id
    change.decided_at = utcnow()
    uow.flush()
    return change


def create_rd_item(uow: UnitOfWork, data: Mapping) -> md.Product:
    """A new item in development (研发): created through master data's product record (its validation,
    unique SKU, audit) and put in stage `rd` there — not a stage change, so no approval."""
    uow.actor.require(WRITE)
    data = {k: v for k, v in dict(data).items() if k != "lifecycle_stage"}
    product = rs.create_record(uow, resources.products, data)
    lifecycle.set_initial_stage(uow, product.id, "rd")
    uow.emit("plm.rd_item_created", product_id=product.id, sku=product.sku)
    return product


# ------------------------------------------------------------------ queries
def list_changes(uow: UnitOfWork, *, q: str | None = None, state: str | None = None, product_id: int | None = None,
                 limit: int = 50, offset: int = 0) -> tuple[list[LifecycleChange], int]:
    stmt = select(LifecycleChange).join(md.Product, md.Product.id == LifecycleChange.product_id).where(
        LifecycleChange.company_id == uow.company_id)
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(LifecycleChange.number.ilike(like), md.Product.sku.ilike(like),
                              md.Product.name.ilike(like), cast(LifecycleChange.reason, String).ilike(like)))
    if state:
        if state not in CHANGE_STATES:
            raise ValidationFailed(_("状态无效：{value}", value=state), field="state")
        stmt = stmt.where(LifecycleChange.state == state)
    if product_id:
        stmt = stmt.where(LifecycleChange.product_id == product_id)
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(uow.session.scalars(stmt.order_by(LifecycleChange.id.desc()).limit(max(1, min(limit, 1000)))
                                     .offset(max(0, offset))))
    return items, total


def list_products(uow: UnitOfWork, *, q: str | None = None, stage: str | None = None, pending: bool = False,
                  limit: int = 50, offset: int = 0) -> tuple[list[tuple[md.Product, LifecycleChange | None]], int]:
    """Active products with their stage and pending request (if any)."""
    stmt = (select(md.Product, LifecycleChange)
            .outerjoin(LifecycleChange, (LifecycleChange.product_id == md.Product.id)
                       & (LifecycleChange.state == "pending"))
            .where(md.Product.company_id == uow.company_id, md.Product.active.is_(True)))
    if q and q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(md.Product.sku.ilike(like), md.Product.name.ilike(like),
                              md.Product.spec.ilike(like)))
    if stage:
        if stage not in md.LIFECYCLE_STAGES:
            raise ValidationFailed(_("生命周期阶段无效：{value}", value=stage), field="stage")
        stmt = stmt.where(md.Product.lifecycle_stage == stage)
    if pending:
        stmt = stmt.where(LifecycleChange.id.is_not(None))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = uow.session.execute(stmt.order_by(md.Product.sku).limit(max(1, min(limit, 1000)))
                               .offset(max(0, offset))).all()
    return [(p, c) for p, c in rows], total


def stage_counts(uow: UnitOfWork) -> dict[str, int]:
    """Active products per stage (every stage present, zero when empty), plus pending requests."""
    counts = dict.fromkeys(md.LIFECYCLE_STAGES, 0)
    for stage, n in uow.session.execute(select(md.Product.lifecycle_stage, func.count()).where(
            md.Product.company_id == uow.company_id, md.Product.active.is_(True))
            .group_by(md.Product.lifecycle_stage)):
        counts[stage] = n
    counts["pending"] = uow.session.scalar(select(func.count()).select_from(LifecycleChange).where(
        LifecycleChange.company_id == uow.company_id, LifecycleChange.state == "pending"))
    return counts


def allowed_targets(stage: str) -> list[tuple[str, str]]:
    return [(s, lifecycle.stage_label(s)) for s in lifecycle.TRANSITIONS.get(stage, ())]


def _usernames(uow: UnitOfWork, ids) -> dict[int, str]:
    from opensupply.core.auth import User

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {i: (dn or u) for i, u, dn in uow.session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(ids)))}


def change_to_dict(uow: UnitOfWork, change: LifecycleChange, names: dict[int, str] | None = None) -> dict:
    names = names if names is not None else _usernames(uow, [change.requested_by_id, change.decided_by_id])
    return {
        "id": change.id, "number": change.number, "product_id": change.product_id, "sku": change.product.sku,
        "product_name": change.product.name, "from_stage": change.from_stage,
        "from_stage_label": lifecycle.stage_label(change.from_stage), "to_stage": change.to_stage,
        "to_stage_label": lifecycle.stage_label(change.to_stage), "reason": change.reason, "state": change.state,
        "state_label": state_label(change.state), "requested_by_id": change.requested_by_id,
        "requested_by": names.get(change.requested_by_id), "decided_by_id": change.decided_by_id,
        "decided_by": names.get(change.decided_by_id), "decision_note": change.decision_note,
        "decided_at": change.decided_at.isoformat() if change.decided_at else None,
        "created_at": change.created_at.isoformat() if change.created_at else None,
    }


def changes_to_dicts(uow: UnitOfWork, changes: list[LifecycleChange]) -> list[dict]:
    names = _usernames(uow, [i for c in changes for i in (c.requested_by_id, c.decided_by_id)])
    return [change_to_dict(uow, c, names) for c in changes]


def product_row(product: md.Product, pending: LifecycleChange | None) -> dict:
    return {"id": product.id, "sku": product.sku, "name": product.name, "spec": product.spec,
            "stage": product.lifecycle_stage, "stage_label": lifecycle.stage_label(product.lifecycle_stage),
            "targets": [{"stage": s, "label": label} for s, label in allowed_targets(product.lifecycle_stage)],
            "pending": None if pending is None else {"id": pending.id, "number": pending.number,
                                                     "to_stage": pending.to_stage,
                                                     "to_stage_label": lifecycle.stage_label(pending.to_stage),
                                                     "reason": pending.reason,
                                                     "requested_by_id": pending.requested_by_id}}


__all__ = ["allowed_targets", "approve_stage_change", "cancel_stage_change", "change_to_dict", "changes_to_dicts",
           "create_rd_item", "get_change", "list_changes", "list_products", "pending_change", "product_row",
           "reject_stage_change", "request_stage_change", "stage_counts", "state_label"]
