"""Master-data test helpers: products with units, BOMs through the BOM services."""

from __future__ import annotations

from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from tests import factories as f


def products(db, company_id: int, *specs: str) -> dict[str, int]:
    """`products(db, c, "BIKE", "FRAME:kg")` → {"BIKE": id, "FRAME": id}; unit after a colon (default pcs)."""
    out = {}
    for spec in specs:
        sku, _, uom = spec.partition(":")
        out[sku] = f.product(db, company_id, sku, name=f"商品 {sku}", uom_id=uom or "pcs")
    return out


def bom(db, company_id: int, product: str, lines: list, *, version: str = "V1.0", quantity="1",
        release: bool = False) -> int:
    """`lines` as (component sku, qty[, uom[, scrap %]])."""
    rows = []
    for ln in lines:
        row = {"component": ln[0], "quantity": ln[1]}
        if len(ln) > 2 and ln[2]:
            row["uom"] = ln[2]
        if len(ln) > 3:
            row["scrap_pct"] = ln[3]
        rows.append(row)
    with UnitOfWork(f.system(company_id), db=db) as uow:
        b = boms.create_bom(uow, product=product, lines=rows, version=version, quantity=quantity)
        if release:
            boms.release_bom(uow, b.id)
        return b.id
