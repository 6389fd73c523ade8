"""Lifecycle stages of items (研发 → 试产 → 量产 → 退市) and what each stage allows, for the whole suite.

The stage is master data (a column of the product) so every module can check it without depending on
PLM: purchasing and sales call `require_orderable`, production calls `require_producible`. PLM owns the
process that changes it (requests with approval) and writes it only through `set_lifecycle_stage`.

| stage | purchase | sell | produce |
|---|---|---|---|
| rd 研发 | yes (samples, prototype parts) | no | pilot work orders only |
| pilot 试产 | yes | yes | yes |
| mass 量产 | yes | yes | yes |
| eol 退市 | no | no | no |
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from opensupply.core.errors import Conflict, ValidationFailed
from opensupply.core.i18n import _
from opensupply.core.uow import UnitOfWork

from .models import LIFECYCLE_STAGES, Product

STAGE_LABELS = {"rd": "研发", "pilot": "试产", "mass": "量产", "eol": "退市"}
# the moves PLM may request (anything else is refused): forward through the stages, back one step from
# pilot (a failed pilot run), and out of the market from any stage
TRANSITIONS = {
    "rd": ("pilot", "eol"),
    "pilot": ("mass", "rd", "eol"),
    "mass": ("eol",),
    "eol": ("mass",),  # 恢复量产: a product brought back
}


class LifecycleBlocked(Conflict):
    code = "lifecycle_blocked"


def stage_label(stage: str) -> str:
    return _(STAGE_LABELS.get(stage, stage))


def _stages(uow: UnitOfWork, product_ids: Iterable[int]) -> list[tuple[int, str, str]]:
    ids = {int(i) for i in product_ids if i is not None}
    if not ids:
        return []
    return list(uow.session.execute(select(Product.id, Product.sku, Product.lifecycle_stage).where(
        Product.company_id == uow.company_id, Product.id.in_(ids))).all())


def require_orderable(uow: UnitOfWork, product_ids: Iterable[int], purpose: str) -> None:
    """Refuse a purchase (`purpose="purchase"`) of 退市 items, or a sale (`"sale"`) of 退市 or 研发 items."""
    blocked = {"purchase": ("eol",), "sale": ("eol", "rd")}[purpose]
    for _id, sku, stage in sorted(_stages(uow, product_ids), key=lambda r: r[1]):
        if stage in blocked:
            if purpose == "purchase":
                raise LifecycleBlocked(_("商品 {sku} 已{stage}，不能采购", sku=sku, stage=stage_label(stage)),
                                       field="lines")
            raise LifecycleBlocked(_("商品 {sku} 处于{stage}阶段，不能销售", sku=sku, stage=stage_label(stage)),
                                   field="lines")


def require_producible(uow: UnitOfWork, product_id: int, kind: str) -> None:
    """Refuse production of 退市 items, and of 研发 items other than as a pilot (试产) work order."""
    for _id, sku, stage in _stages(uow, [product_id]):
        if stage == "eol":
            raise LifecycleBlocked(_("商品 {sku} 已退市，不能生产", sku=sku), field="product")
        if stage == "rd" and kind not in ("pilot",):
            raise LifecycleBlocked(_("商品 {sku} 处于研发阶段，只能下试产工单", sku=sku), field="kind")


def check_transition(current: str, target: str) -> None:
    if target not in LIFECYCLE_STAGES:
        raise ValidationFailed(_("生命周期阶段无效：{value}", value=target), field="to_stage")
    if target == current:
        raise ValidationFailed(_("商品已处于{stage}阶段", stage=stage_label(target)), field="to_stage")
    if target not in TRANSITIONS.get(current, ()):
        raise ValidationFailed(_("不能从{a}变更为{b}", a=stage_label(current), b=stage_label(target)),
                               field="to_stage")


def set_lifecycle_stage(uow: UnitOfWork, product_id: int, stage: str) -> Product:
    """Put a product in a stage (PLM calls this once a stage change is approved; the audit trail of the
    product row records before/after)."""
    product = uow.get(Product, product_id, for_update=True)
    check_transition(product.lifecycle_stage, stage)
    product.lifecycle_stage = stage
    uow.flush()
    uow.emit("masterdata.lifecycle_changed", product_id=product.id, stage=stage)
    return product


def set_initial_stage(uow: UnitOfWork, product_id: int, stage: str) -> Product:
    """The stage of a product just created (a new R&D item starts in 研发): not a change, so no approval;
    refused once the product has any stock history or documents would see it move."""
    if stage not in LIFECYCLE_STAGES:
        raise ValidationFailed(_("生命周期阶段无效：{value}", value=stage), field="lifecycle_stage")
    product = uow.get(Product, product_id, for_update=True)
    from opensupply.inventory.models import StockMove

    if uow.session.scalar(select(StockMove.id).where(StockMove.company_id == uow.company_id,
                                                     StockMove.product_id == product.id).limit(1)):
        raise Conflict(_("商品 {sku} 已有库存记录，阶段变更需走审批", sku=product.sku), field="lifecycle_stage")
    product.lifecycle_stage = stage
    uow.flush()
    return product
