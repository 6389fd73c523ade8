"""What crosses HTTP for the stock ledger. Quantities and amounts travel as decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

Number = str | int | float


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiptLineIn(_In):
    product: int | str = Field(description="product id, SKU or barcode")
    quantity: Number
    lot: str | None = Field(None, max_length=80)
    unit_cost: Number | None = None
    uom: str | None = Field(None, description="unit code when not the product's unit, e.g. box")
    expiry_date: dt.date | None = None
    location: int | str | None = Field(None, description="overrides the receipt's location for this line")


class ReceiptIn(_In):
    location: int | str | None = Field(None, description="location id, full code or bin code such as A-01-01")
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=1000)
    reference: str | None = Field(None, max_length=80)


class DeliveryIn(ReceiptIn):
    pass


class ReserveLineIn(_In):
    product: int | str
    location: int | str
    quantity: Number
    lot: str | None = None


class ReserveIn(_In):
    lines: list[ReserveLineIn] = Field(min_length=1, max_length=1000)
    partial: bool = False
    reference: str | None = Field(None, max_length=80)
    ref_type: str | None = Field(None, max_length=40)
    ref_id: int | None = None


class AdjustmentLineIn(_In):
    product: int | str
    location: int | str
    counted_quantity: Number
    lot: str | None = None


class AdjustmentIn(_In):
    reason: str = Field(max_length=200)
    lines: list[AdjustmentLineIn] = Field(min_length=1, max_length=5000)


class LotIn(_In):
    product: int | str
    name: str = Field(min_length=1, max_length=80)
    expiry_date: dt.date | None = None
    notes: str | None = Field(None, max_length=1000)


def dec(value: Decimal | None) -> str | None:
    """A quantity as a plain decimal string without trailing zeros."""
    if value is None:
        return None
    text = format(Decimal(value), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: Decimal | None) -> str | None:
    """An amount in cents: 1234.5 → "1234.50" (unit costs keep their precision through `dec`)."""
    if value is None:
        return None
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def on_hand_out(row: dict) -> dict:
    return {"product_id": row["product_id"], "sku": row["sku"], "product_name": row["product_name"],
            "location_id": row["location_id"], "location": row["location"], "warehouse": row["warehouse"],
            "lot": row["lot"], "uom": row["uom"], "on_hand": dec(row["on_hand"]), "reserved": dec(row["reserved"]),
            "available": dec(row["available"])}


def move_out(row: dict) -> dict:
    out = dict(row)
    for k in ("quantity",):
        out[k] = dec(out[k])
    out["unit_cost"] = dec(out["unit_cost"])
    out["value"] = money(out["value"])
    for k in ("date_done", "created_at"):
        out[k] = iso(out[k])
    return out


def reservation_out(row: dict) -> dict:
    return {**row, "quantity": dec(row["quantity"])}


def lot_out(row: dict) -> dict:
    return {**row, "expiry_date": iso(row["expiry_date"]), "on_hand": dec(row["on_hand"])}


def adjustment_out(d: dict) -> dict:
    return {**d, "date_done": iso(d["date_done"]), "created_at": iso(d["created_at"]),
            "lines": [{**ln, "counted_quantity": dec(ln["counted_quantity"]),
                       "theoretical_quantity": dec(ln["theoretical_quantity"]),
                       "difference": dec(ln["difference"])} for ln in d["lines"]]}


def valuation_out(v: dict) -> dict:
    return {"total_value": money(v["total_value"]), "gl_inventory_balance": money(v["gl_inventory_balance"]),
            "lines": [{**ln, "quantity": dec(ln["quantity"]), "value": money(ln["value"]),
                       "unit_cost": dec(ln["unit_cost"])} for ln in v["lines"]]}
