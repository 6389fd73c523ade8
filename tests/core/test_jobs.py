"""Background jobs: progress a user can watch, failures with a message, cancel, one worker per job."""

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update

from opensupply.core import auth, jobs
from opensupply.core.errors import ValidationFailed
from opensupply.core.uow import UnitOfWork
from tests import factories as f

gate = threading.Event()  # a job waits here, half done, until the test lets it finish
ran: list[int] = []
ran_lock = threading.Lock()


@jobs.job("test.import_orders")
def import_orders(ctx: jobs.JobContext):
    ctx.progress(50, "已导入 500/1000 行")
    if not gate.wait(10):
        raise TimeoutError("test gate never opened")
    ctx.progress(90, "收尾")
    return {"created": 1000}


@jobs.job("test.broken_import")
def broken_import(ctx: jobs.JobContext):
    ctx.progress(10, "读取文件")
    if ctx.params.get("domain"):
        raise ValidationFailed("第 3 行：数量不是数字")
    raise ValueError("unexpected column 数量")


@jobs.job("test.count_runs")
def count_runs(ctx: jobs.JobContext):
    with ran_lock:
        ran.append(ctx.job_id)
    time.sleep(0.005)
    return {}


@pytest.fixture(autouse=True)
def _reset():
    gate.clear()
    ran.clear()
    yield
    gate.set()  # never leave a job thread waiting


def start(db, company_id: int, username: str, kind: str, **params) -> int:
    with UnitOfWork(f.actor(db, company_id, username), db=db) as uow:
        return jobs.enqueue(uow, kind, params).id


def wait_until(fn, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not fn():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_progress_is_visible_in_the_api_and_on_the_polling_page(db):
    c = f.company(db)
    user = f.user(db, c, "planner")
    job_id = start(db, c, user, "test.import_orders")
    api = f.api_client(db, user)
    wait_until(lambda: api.get(f"/api/v1/jobs/{job_id}").json()["progress"] == 50)
    body = api.get(f"/api/v1/jobs/{job_id}").json()
    assert (body["status"], body["message"]) == ("running", "已导入 500/1000 行")

    web = f.web_client(db, user)
    fragment = web.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text  # only the fragment htmx swaps in
    assert f'hx-get="/jobs/{job_id}"' in fragment.text and 'hx-trigger="every 1s"' in fragment.text
    assert "50% 已导入 500/1000 行" in fragment.text
    full = web.get(f"/jobs/{job_id}")
    assert "<html" in full.text and 'id="job-progress"' in full.text
    assert str(job_id) in web.get("/jobs").text

    gate.set()
    assert jobs.wait_for(db, job_id).status == jobs.DONE
    body = api.get(f"/api/v1/jobs/{job_id}").json()
    assert (body["status"], body["progress"], body["result"]) == ("done", 100, {"created": 1000})
    assert "hx-get" not in web.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).text  # polling stops


@pytest.mark.parametrize("domain, message", [(True, "第 3 行：数量不是数字"),
                                             (False, "ValueError: unexpected column 数量")])
def test_failure_is_recorded_with_its_message(db, domain, message):
    c = f.company(db)
    user = f.user(db, c)
    job_id = start(db, c, user, "test.broken_import", domain=domain)
    assert jobs.wait_for(db, job_id).status == jobs.FAILED
    body = f.api_client(db, user).get(f"/api/v1/jobs/{job_id}").json()
    assert body["status"] == "failed" and body["error"] == message
    assert body["finished_at"] is not None
    page = f.web_client(db, user).get(f"/jobs/{job_id}").text
    assert message in page and "Traceback" not in page


def test_cancel_stops_the_job_at_its_next_progress_report(db):
    c = f.company(db)
    user = f.user(db, c)
    job_id = start(db, c, user, "test.import_orders")
    api = f.api_client(db, user)
    wait_until(lambda: api.get(f"/api/v1/jobs/{job_id}").json()["progress"] == 50)
    r = api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    gate.set()
    j = jobs.wait_for(db, job_id)
    time.sleep(0.1)  # the job thread has finished; its final write must not revive the job
    with db.readonly_sessionmaker() as s:
        j = s.get(jobs.Job, job_id)
    assert (j.status, j.result, j.progress) == ("cancelled", None, 50)


def test_cancel_from_the_job_page_needs_csrf_and_works_with_it(db):
    c = f.company(db)
    user = f.user(db, c)
    job_id = start(db, c, user, "test.import_orders")
    wait_until(lambda: jobs.wait_for(db, job_id, timeout=0).progress == 50)
    web = f.web_client(db, user)
    page = web.get(f"/jobs/{job_id}").text
    assert f'action="/jobs/{job_id}/cancel"' in page
    assert web.post(f"/jobs/{job_id}/cancel").status_code == 403
    assert jobs.wait_for(db, job_id, timeout=0).status == jobs.RUNNING
    r = web.post(f"/jobs/{job_id}/cancel", data={"csrf_token": f.csrf(web)})
    assert r.status_code == 303
    assert jobs.wait_for(db, job_id, timeout=0).status == jobs.CANCELLED


def test_another_companys_job_is_not_found(db):
    a, b = f.company(db, "A"), f.company(db, "B")
    job_id = start(db, b, f.user(db, b), "test.count_runs")
    jobs.wait_for(db, job_id)
    api_a = f.api_client(db, f.user(db, a))
    assert api_a.get(f"/api/v1/jobs/{job_id}").status_code == 404
    assert api_a.post(f"/api/v1/jobs/{job_id}/cancel").status_code == 404
    assert api_a.get("/api/v1/jobs").json()["total"] == 0


def test_job_of_a_disabled_user_fails_instead_of_hanging(db, monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)
    c = f.company(db)
    user = f.user(db, c, "leaver")
    job_id = start(db, c, user, "test.count_runs")
    with UnitOfWork(f.system(c), db=db) as uow:
        uow.session.scalar(select(auth.User).where(auth.User.username == "leaver")).is_active = False
    jobs.run_job(db)
    j = jobs.wait_for(db, job_id, timeout=0)
    assert j.status == jobs.FAILED and j.error
    assert ran == []


def test_two_workers_never_run_the_same_job(db, monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)  # queued for `opensupply worker` processes
    c = f.company(db)
    user = f.user(db, c)
    ids = [start(db, c, user, "test.count_runs") for _ in range(30)]
    start_line = threading.Barrier(2)

    def worker(_):
        start_line.wait()
        while jobs.run_job(db) is not None:
            pass

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(worker, range(2)))
    assert sorted(ran) == ids  # every job ran, none twice
    with db.readonly_sessionmaker() as s:
        assert set(s.scalars(select(jobs.Job.status))) == {jobs.DONE}


def test_worker_skips_a_job_another_worker_has_locked_on_postgresql(db, monkeypatch):
    if db.dialect != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serializes claims with its write lock")
    monkeypatch.setattr(jobs, "in_process", False)
    c = f.company(db)
    user = f.user(db, c)
    first, second = start(db, c, user, "test.count_runs"), start(db, c, user, "test.count_runs")
    with db.engine.connect() as other_worker:
        other_worker.execute(select(jobs.Job).where(jobs.Job.id == first).with_for_update())  # mid-claim
        with ThreadPoolExecutor(1) as pool:
            claimed = pool.submit(jobs.run_job, db).result(timeout=5)  # does not wait for the lock
        assert claimed.id == second
        other_worker.execute(update(jobs.Job).where(jobs.Job.id == first).values(status=jobs.RUNNING))
        other_worker.commit()
    assert ran == [second]
    assert jobs.run_job(db) is None  # the first is the other worker's


@jobs.job("test.valuation")
def valuation(ctx: jobs.JobContext):
    from decimal import Decimal

    return {"as_of": ctx.params["as_of"], "total_value": Decimal("1234.50")}


def test_job_params_and_results_with_decimals_and_dates_are_stored(db):
    c = f.company(db)
    user = f.user(db, c)
    job_id = start(db, c, user, "test.valuation", as_of=dt.date(2026, 3, 31))
    j = jobs.wait_for(db, job_id)
    assert (j.status, j.result) == ("done", {"as_of": "2026-03-31", "total_value": "1234.50"})


def test_unknown_job_kind_is_refused_with_a_message(db):
    c = f.company(db)
    with pytest.raises(ValidationFailed) as err, UnitOfWork(f.system(c), db=db) as uow:
        jobs.enqueue(uow, "no.such.kind")
    assert "no.such.kind" in err.value.message


@jobs.job("test.import_categories")
def import_categories(ctx: jobs.JobContext):
    from opensupply.masterdata.models import ProductCategory

    with ctx.uow() as uow:  # one transaction for the whole file, reporting progress as it goes
        for i in range(3):
            uow.add(ProductCategory(code=f"CAT-{i}", name=f"分类{i}"))
            uow.flush()
            ctx.progress((i + 1) * 30, f"{i + 1}/3")
    return {"created": 3}


def test_progress_inside_the_jobs_own_transaction_does_not_stall_it(db):
    from opensupply.masterdata.models import ProductCategory

    c = f.company(db)
    started = time.monotonic()
    job_id = start(db, c, f.user(db, c), "test.import_categories")
    j = jobs.wait_for(db, job_id, timeout=15)
    assert (j.status, j.result, j.progress) == ("done", {"created": 3}, 100)
    assert time.monotonic() - started < 10  # not a 30 s wait for its own write lock
    with db.readonly_sessionmaker() as s:
        assert len(s.scalars(select(ProductCategory).where(ProductCategory.company_id == c)).all()) >= 3


def test_a_job_whose_process_died_is_failed_not_left_running(db, monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)
    c = f.company(db)
    user = f.user(db, c)
    dead, alive = start(db, c, user, "test.count_runs"), start(db, c, user, "test.count_runs")
    long_ago = jobs.utcnow() - dt.timedelta(minutes=jobs.STALE_MINUTES + 1)
    with db.engine.begin() as conn:  # both claimed; one worker then vanished without a word
        conn.execute(update(jobs.Job).values(status=jobs.RUNNING, started_at=long_ago, heartbeat_at=long_ago)
                     .where(jobs.Job.id == dead))
        conn.execute(update(jobs.Job).values(status=jobs.RUNNING, started_at=long_ago, heartbeat_at=jobs.utcnow())
                     .where(jobs.Job.id == alive))
    assert jobs.fail_stale_jobs(db) == 1
    body = f.api_client(db, user).get(f"/api/v1/jobs/{dead}").json()
    assert body["status"] == "failed" and "任务中断" in body["error"]
    assert jobs.wait_for(db, alive, timeout=0).status == jobs.RUNNING  # it reported progress recently


def test_the_worker_loop_runs_queued_jobs_and_sweeps_dead_ones(db, monkeypatch):
    monkeypatch.setattr(jobs, "in_process", False)
    c = f.company(db)
    user = f.user(db, c)
    dead, queued = start(db, c, user, "test.count_runs"), start(db, c, user, "test.count_runs")
    long_ago = jobs.utcnow() - dt.timedelta(minutes=jobs.STALE_MINUTES + 1)
    with db.engine.begin() as conn:
        conn.execute(update(jobs.Job).where(jobs.Job.id == dead)
                     .values(status=jobs.RUNNING, started_at=long_ago, heartbeat_at=long_ago))
    stop = threading.Event()
    worker = threading.Thread(target=jobs.work_forever, args=(db, 0.05, stop))
    worker.start()
    try:
        assert jobs.wait_for(db, queued, timeout=10).status == jobs.DONE
        assert jobs.wait_for(db, dead, timeout=10).status == jobs.FAILED
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive() and ran == [queued]
