"""What crosses HTTP for PLM (requests; responses are the services' *_to_dict shapes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

Num = Decimal | int | float | str


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StageChangeIn(_In):
    product: int | str = Field(description="product id or SKU")
    to_stage: str = Field(description="rd | pilot | mass | eol")
    reason: str = Field(max_length=2000)


class DecisionIn(_In):
    comment: str | None = Field(None, max_length=2000)


class RejectIn(_In):
    reason: str = Field(max_length=2000)


class RdItemIn(_In):
    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    uom_id: int | str = Field("pcs", description="unit code or id")
    spec: str | None = Field(None, max_length=200)
    barcode: str | None = Field(None, max_length=64)
    category_id: int | str | None = None
    product_type: str | None = None
    tracking: str | None = None
    cost: Num | None = None
    list_price: Num | None = None
    description: str | None = None


class BomLineIn(_In):
    component: int | str = Field(description="component id or SKU")
    quantity: Num
    uom: int | str | None = Field(None, description="unit code or id (default: the component's unit)")
    scrap_pct: Num | None = None
    sequence: int | None = None
    is_byproduct: bool = False


class EcoIn(_In):
    product: int | str = Field(description="product id or SKU")
    title: str = Field(max_length=200)
    reason: str = Field(max_length=2000)
    base_bom_id: int | None = Field(None, description="version to start from (default: the released one)")
    version: str | None = Field(None, max_length=20, description="new version number (default: the next one)")
    lines: list[BomLineIn] | None = Field(None, max_length=2000, description="new lines (default: base's lines)")
    departments: list[str] | None = Field(None, description="required approvals: rd, purchasing, production, "
                                                            "quality (default: all four)")


class EcoPatch(_In):
    title: str | None = Field(None, max_length=200)
    reason: str | None = Field(None, max_length=2000)
    departments: list[str] | None = None


class EcoLinesIn(_In):
    lines: list[BomLineIn] = Field(max_length=2000)
    quantity: Num | None = Field(None, description="output quantity of the new version")


class ApprovalIn(_In):
    department: str = Field(description="rd | purchasing | production | quality")
    comment: str | None = Field(None, max_length=2000)


class ApprovalRejectIn(_In):
    department: str
    reason: str = Field(max_length=2000)


class CancelIn(_In):
    reason: str | None = Field(None, max_length=2000)


class ReleaseIn(_In):
    effective_date: dt.date | None = None


class CommentIn(_In):
    body: str = Field(max_length=4000)


def line_dicts(lines: list[BomLineIn] | None) -> list[dict] | None:
    if lines is None:
        return None
    return [ln.model_dump(exclude_none=True) for ln in lines]
