"""The demo warehouse gets a bin layout, its loose stock put away into bins, a replenish task and an
open blind count — and the ledger still agrees with itself."""

from sqlalchemy import func, select

from opensupply import demo
from opensupply.core import auth
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.inventory import service as inv
from opensupply.inventory.models import StockQuant
from opensupply.masterdata import models as md
from opensupply.masterdata.service import setup_company
from opensupply.wms import demo as wms_demo
from opensupply.wms.models import WmsBin, WmsCount, WmsTask


def test_demo_lays_out_the_warehouse_and_puts_the_stock_into_bins(db):
    assert "opensupply.wms.demo:seed" in demo.DEMO_SEEDERS
    with UnitOfWork(Actor.system(), db=db) as uow:
        company = setup_company(uow, code="WDEMO", name="杭州云杉家居用品有限公司", warehouse_code="WH",
                                warehouse_name="杭州主仓")
        uow.actor = Actor.system(company.id)
        auth.ensure_preset_roles(uow)
        for path in ("opensupply.masterdata.demo:seed", "opensupply.inventory.demo:seed",
                     "opensupply.erp.purchasing.demo:seed"):
            demo._load(path)(uow, company)
        wms_demo.seed(uow, company)
        wms_demo.seed(uow, company)  # idempotent
        cid = company.id
    with UnitOfWork(Actor.system(cid), db=db, readonly=True) as uow:
        s = uow.session
        wh = s.scalar(select(md.Warehouse).where(md.Warehouse.company_id == cid, md.Warehouse.code == "WH"))
        assert s.scalar(select(func.count()).select_from(WmsBin).where(WmsBin.warehouse_id == wh.id)) == 8 * 24 + 4
        bin_locs = select(WmsBin.location_id).where(WmsBin.warehouse_id == wh.id)
        loose = s.scalar(select(func.count()).select_from(StockQuant).join(
            md.Location, md.Location.id == StockQuant.location_id).where(
            StockQuant.company_id == cid, md.Location.warehouse_id == wh.id, StockQuant.quantity > 0,
            StockQuant.location_id.not_in(bin_locs), StockQuant.location_id.not_in(
                select(md.Location.id).where(md.Location.id == wh.stock_location_id))))
        done = s.scalar(select(func.count()).select_from(WmsTask).where(
            WmsTask.company_id == cid, WmsTask.kind == "putaway", WmsTask.state == "done"))
        assert done >= 3
        assert loose <= 3  # only reserved stock may stay where it was
        assert s.scalar(select(func.count()).select_from(WmsTask).where(
            WmsTask.company_id == cid, WmsTask.kind == "replenish", WmsTask.state == "open")) >= 1
        assert s.scalar(select(func.count()).select_from(WmsCount).where(WmsCount.company_id == cid)) == 1
        assert inv.check_ledger(uow) == []
