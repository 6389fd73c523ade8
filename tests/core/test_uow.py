"""The unit of work: one transaction per use case, scoped to one company, retried when the database says so."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from opensupply.core.errors import NotFound, RetryLater
from opensupply.core.uow import UnitOfWork, atomic
from opensupply.masterdata.models import ProductCategory
from tests import factories as f


class _PgError(Exception):
    def __init__(self, sqlstate):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _db_error(sqlstate=None, text="could not serialize access"):
    return OperationalError("UPDATE …", {}, _PgError(sqlstate) if sqlstate else Exception(text))


def add_category(code: str, failures: list):
    def use_case(uow):
        uow.add(ProductCategory(code=code, name=code))
        uow.flush()
        if failures:
            raise failures.pop(0)
        return code

    return use_case


def categories(db, company_id: int) -> list[str]:
    with UnitOfWork(f.system(company_id), db=db, readonly=True) as uow:
        return list(uow.session.scalars(select(ProductCategory.code).where(ProductCategory.company_id == company_id)))


@pytest.mark.parametrize("error", [_db_error("40001"), _db_error("40P01"), _db_error(text="database is locked")])
def test_serialization_failures_and_deadlocks_are_retried(db, error):
    c = f.company(db)
    assert atomic(f.system(c), add_category("RETRY", [error, error]), db=db) == "RETRY"
    assert categories(db, c) == ["RETRY"]  # the failed attempts left nothing behind


def test_retrying_stops_after_a_bounded_number_of_attempts_with_a_clear_error(db):
    c = f.company(db)
    with pytest.raises(RetryLater) as err:
        atomic(f.system(c), add_category("BUSY", [_db_error("40001")] * 10), db=db, retries=2)
    assert err.value.status == 503 and err.value.message == "系统繁忙，请稍后重试"
    assert categories(db, c) == []


def test_other_errors_are_not_retried(db):
    c = f.company(db)
    failures = [ValueError("bad input"), ValueError("never reached")]
    with pytest.raises(ValueError, match="bad input"):
        atomic(f.system(c), add_category("ONCE", failures), db=db)
    assert len(failures) == 1 and categories(db, c) == []


def test_after_commit_hooks_run_only_when_the_transaction_commits(db):
    c = f.company(db)
    ran = []
    with UnitOfWork(f.system(c), db=db) as uow:
        uow.after_commit(lambda: ran.append("committed"))
    with pytest.raises(RuntimeError), UnitOfWork(f.system(c), db=db) as uow:
        uow.after_commit(lambda: ran.append("rolled back"))
        raise RuntimeError
    assert ran == ["committed"]


def test_rows_read_in_a_read_only_unit_of_work_stay_usable_after_it(db):
    c = f.company(db)
    atomic(f.system(c), add_category("READ", []), db=db)
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        cat = uow.session.scalar(select(ProductCategory).where(ProductCategory.code == "READ"))
    assert (cat.code, cat.name) == ("READ", "READ")


def test_another_companys_row_is_simply_not_found(db):
    a, b = f.company(db), f.company(db)
    with UnitOfWork(f.system(b), db=db) as uow:
        cat_b = uow.add(ProductCategory(code="B", name="B"))
        uow.flush()
    with pytest.raises(NotFound), UnitOfWork(f.system(a), db=db, readonly=True) as uow:
        uow.get(ProductCategory, cat_b.id)
