"""The demo company's stock is believable and the ledger behind it is sound."""

from opensupply.core.uow import Actor, UnitOfWork
from opensupply.demo import seed_demo
from opensupply.inventory import service as inv
from opensupply.masterdata.models import Company


def test_demo_stock_is_consistent_and_fills_every_page(sqlite_db, monkeypatch):
    # SQLite only: the demo is the embedded setup (`serve --demo`); its flows run on PostgreSQL in their own tests
    db = sqlite_db
    monkeypatch.setenv("OPENSUPPLY_DEMO_PASSWORD", "Demo-pass-2026")
    from opensupply.core.config import get_settings

    get_settings.cache_clear()
    try:
        assert seed_demo()["created"]
    finally:
        get_settings.cache_clear()
    with UnitOfWork(Actor.system(), db=db, readonly=True) as uow:
        company_id = uow.session.query(Company.id).filter(Company.code == "DEMO").scalar()
    with UnitOfWork(Actor.system(company_id), db=db, readonly=True) as uow:
        assert inv.check_ledger(uow) == []
        rows, total = inv.on_hand_rows(uow, limit=500)
        assert total >= 15
        bins = {r["location"].rsplit("/", 1)[1] for r in rows}
        assert len(bins) >= 5  # the WMS demo puts the goods away across its layout
        assert all(r["on_hand"] >= 0 and 0 <= r["reserved"] <= r["on_hand"] for r in rows)
        assert any(r["reserved"] > 0 for r in rows)
        assert any(r["lot"] and r["lot"].startswith("SN-") for r in rows)  # serial-numbered kettles
        _moves, n_moves = inv.move_rows(uow, limit=1)
        assert n_moves > 100
        assert inv.move_rows(uow, q="DN")[1] > 20  # deliveries of the demo's sales orders
        adjustments, n_adj = inv.adjustment_rows(uow)
        assert n_adj == 1 and adjustments[0].state == "done"
        v = inv.valuation(uow)
        assert v["total_value"] > 10000
        assert all(line["quantity"] > 0 and line["value"] > 0 for line in v["lines"])
