"""What crosses HTTP for bills of materials (the declarative records build their own schemas)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

Number = Decimal | int | str


class BomLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    component: int | str  # product id or SKU
    quantity: Number
    uom: int | str | None = None  # unit code or id; default: the component's unit
    scrap_pct: Number | None = None
    sequence: int | None = None
    is_byproduct: bool = False


class BomCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: int | str  # product id or SKU
    version: str = "V1.0"
    quantity: Number = 1
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    notes: str | None = None
    lines: list[BomLineIn]


class BomUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str | None = None
    quantity: Number | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    notes: str | None = None
    lines: list[BomLineIn] | None = None


class BomCopy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str | None = None


class BomListOut(BaseModel):
    items: list[dict]
    total: int
