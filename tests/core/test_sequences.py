"""Document numbers: formatted per company, type and year; never a duplicate, even under load."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from opensupply.core.sequences import next_number, next_numbers, register_sequence
from opensupply.core.uow import UnitOfWork
from tests import factories as f

register_sequence("T-PO", "PO{year}-")
register_sequence("T-VOUCHER", "记{year}-", padding=5, gap_free=True)
register_sequence("T-SKU", "SKU", padding=4, yearly=False)

MAR_2026 = dt.date(2026, 3, 1)


def _take(db, company_id: int, code: str, on=MAR_2026) -> str:
    with UnitOfWork(f.system(company_id), db=db) as uow:
        return next_number(uow, code, on=on)


def test_numbers_are_formatted_per_company_type_and_year(db):
    a, b = f.company(db), f.company(db)
    assert [_take(db, a, "T-PO") for _ in range(3)] == ["PO2026-000001", "PO2026-000002", "PO2026-000003"]
    assert _take(db, b, "T-PO") == "PO2026-000001"  # each company counts on its own
    assert _take(db, a, "T-VOUCHER") == "记2026-00001"  # and each document type
    assert _take(db, a, "T-PO", on=dt.date(2027, 1, 2)) == "PO2027-000001"  # a new year starts again
    assert _take(db, a, "T-PO") == "PO2026-000004"  # late 2026 documents go on with 2026's series
    assert [_take(db, a, "T-SKU", on=d) for d in (MAR_2026, dt.date(2027, 1, 1))] == ["SKU0001", "SKU0002"]
    assert _take(db, a, "RCV") == "RCV2026-000001"  # an unregistered type still gets a sensible number


def test_a_block_of_numbers_is_consecutive(db):
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        assert next_numbers(uow, "T-PO", 3, on=MAR_2026) == ["PO2026-000001", "PO2026-000002", "PO2026-000003"]
    assert _take(db, c, "T-PO") == "PO2026-000004"


@pytest.mark.parametrize("code", ["T-PO", "T-VOUCHER"])
def test_no_duplicate_under_concurrent_use(db, code):
    c = f.company(db)
    threads, per_thread = 8, 100
    start = threading.Barrier(threads)

    def worker(_):
        start.wait()
        return [_take(db, c, code) for _ in range(per_thread)]

    with ThreadPoolExecutor(threads) as pool:
        numbers = [n for batch in pool.map(worker, range(threads)) for n in batch]
    assert len(numbers) == len(set(numbers)) == threads * per_thread
    # nothing was rolled back, so neither kind leaves a gap
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, threads * per_thread + 1))


def test_gap_free_number_of_a_rolled_back_document_is_given_to_the_next_one(db):
    c = f.company(db)
    assert _take(db, c, "T-VOUCHER") == "记2026-00001"
    with pytest.raises(RuntimeError), UnitOfWork(f.system(c), db=db) as uow:
        assert next_number(uow, "T-VOUCHER", on=MAR_2026) == "记2026-00002"
        raise RuntimeError("posting failed")
    assert _take(db, c, "T-VOUCHER") == "记2026-00002"


def test_ordinary_number_is_taken_outside_the_open_business_transaction(db):
    if db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: numbers are taken inside the business transaction")
    c = f.company(db)
    with UnitOfWork(f.system(c), db=db) as uow:
        first = next_number(uow, "T-PO", on=MAR_2026)
        # the first document is still open; another user's document does not wait for it
        with ThreadPoolExecutor(1) as pool:
            second = pool.submit(_take, db, c, "T-PO").result(timeout=5)
    assert (first, second) == ("PO2026-000001", "PO2026-000002")


def test_ordinary_number_of_a_rolled_back_document_is_not_reused_on_postgresql(db):
    if db.dialect != "postgresql":
        pytest.skip("on SQLite the number goes back with the rollback")
    c = f.company(db)
    with pytest.raises(RuntimeError), UnitOfWork(f.system(c), db=db) as uow:
        next_number(uow, "T-PO", on=MAR_2026)
        raise RuntimeError("order failed")
    assert _take(db, c, "T-PO") == "PO2026-000002"  # a gap is allowed here; a duplicate never


def test_gap_free_number_waits_for_the_open_document_on_postgresql(db):
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL row locking")
    c = f.company(db)
    _take(db, c, "T-VOUCHER")  # the counter row exists
    with ThreadPoolExecutor(1) as pool:
        with UnitOfWork(f.system(c), db=db) as uow:
            assert next_number(uow, "T-VOUCHER", on=MAR_2026) == "记2026-00002"
            other = pool.submit(_take, db, c, "T-VOUCHER")
            with pytest.raises(TimeoutError):
                other.result(timeout=0.5)  # blocked until the first voucher commits or rolls back
            uow.session.rollback()  # the first voucher is abandoned: its number goes to the waiting one
        assert other.result(timeout=5) == "记2026-00002"


def test_asking_for_no_numbers_is_a_programming_error(db):
    c = f.company(db)
    with pytest.raises(ValueError), UnitOfWork(f.system(c), db=db) as uow:
        next_numbers(uow, "T-PO", 0)
    with pytest.raises(ValueError), UnitOfWork(f.system(c), db=db) as uow:
        next_numbers(uow, "T-PO", -3)
    assert _take(db, c, "T-PO") == "PO2026-000001"


def test_the_year_turns_at_midnight_where_the_company_is(db, monkeypatch):
    from opensupply.core import sequences

    c = f.company(db)  # Asia/Shanghai by default
    new_year_morning = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)  # 07:30 on 1 January in Shanghai
    monkeypatch.setattr(sequences, "utcnow", lambda: new_year_morning)
    with UnitOfWork(f.system(c), db=db) as uow:
        assert next_number(uow, "T-PO") == "PO2027-000001"


def test_ordinary_numbers_do_not_need_a_second_connection_from_the_busy_pool(db):
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL connection pool")
    from opensupply.core.db import Database, make_engine

    c = f.company(db)
    tight = Database(db.url)  # every connection of the main pool is held by a request
    tight.__dict__["engine"] = make_engine(db.url, pool_size=1, max_overflow=0, pool_timeout=2)
    try:
        with UnitOfWork(f.system(c), db=tight) as uow:
            uow.session.execute(select(1))  # this request holds the only connection
            assert next_number(uow, "T-PO", on=MAR_2026) == "PO2026-000001"
    finally:
        tight.dispose()
