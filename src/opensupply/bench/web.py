"""`opensupply bench web`: page latency under a locust load of logged-in users.

1. fill (not timed) — a fresh database (SQLite file, or a fresh `opensupply_bench_*` database on a PostgreSQL
   server), migrated with Alembic like any installation; a company (`setup_company`), its shops, `--skus`
   products and 200 customers bulk-inserted; `--orders` platform orders with their lines, the rows of
   `bench import`'s raw phase (`imports._raw_rows`: the sample generator's real-shaped orders), inserted with
   `executemany` on SQLite and `COPY` on PostgreSQL; 20 ERP sales orders through the service; bench users
   with the preset `sales` role. `--keep DIR` keeps the database (and a `web-bench.json` describing it);
   `--reuse` with the same `--keep DIR` skips the fill when the scale and kind match.
2. serve — `opensupply serve --workers N` as a subprocess (own process group) on 127.0.0.1 and a free port,
   waited for on `/health`; always stopped at the end (SIGTERM to the group, SIGKILL after 10 s).
3. load — `python -m opensupply.bench.web_locust` (locust's Environment/LocalRunner, headless) for
   `--duration` seconds with `--users` users spawned at `--spawn-rate`; see that module for the tasks.

Output: one object per request group, then `{"summary": {users, p50_ms, p95_ms, p99_ms, rps, failures, …}}`
(the summary's latency and rate figures are over the page groups, logins excluded).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from opensupply.bench.common import BenchError

BENCH_USERS = 10
CUSTOMERS = 200
SALES_ORDERS = 20
SAMPLE = 2000  # ids and search terms handed to the users
META = "web-bench.json"
LOGIN_TIMEOUT = 180  # s for every user to log in before the measured window opens
NOUNS = ("收纳盒", "保温杯", "毛巾", "台灯", "抱枕", "拖鞋", "衣架", "餐盘", "水杯", "雨伞", "背包", "围巾")
SPECS = ("小号", "中号", "大号", "白色", "灰色", "蓝色", "两件装", "加厚", "便携", "家用")


@dataclass
class Filled:
    url: str
    orders: int
    skus: int
    kind: str
    users: list[tuple[str, str]]
    seconds: float = 0.0
    drop: Callable[[], None] | None = None


def _columns(sql: str) -> list[str]:
    return [c.strip() for c in sql[sql.index("(") + 1:sql.index(")")].split(",")]


def _migrate(url: str) -> None:
    """`opensupply db upgrade` on `url`; the process's own database (if any) is left as it was."""
    from opensupply.core import db as core_db
    from opensupply.core.migrate import upgrade

    previous = core_db._database
    core_db._database = core_db.Database(url)
    try:
        upgrade("head")
    finally:
        core_db._database.dispose()
        core_db._database = previous


def fill(url: str, kind: str, orders: int, skus: int, seed: int = 1,
         log: Callable[[str], None] = print) -> list[tuple[str, str]]:
    """Migrate and fill the (empty) database at `url`; returns the bench users (username, password)."""
    from sqlalchemy import insert, select

    from opensupply import registry
    from opensupply.bench.imports import RAW_LINE, RAW_ORDER, _raw_rows, split
    from opensupply.core import auth
    from opensupply.core.db import Database
    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.erp.sales import service as sales
    from opensupply.masterdata import models as md
    from opensupply.masterdata.service import setup_company
    from opensupply.oms import shops

    registry.import_all_models()
    log("migrating …")
    _migrate(url)
    db = Database(url)
    rng = random.Random(seed)
    users = []
    try:
        with UnitOfWork(Actor.system(), db=db) as uow:
            company_id = setup_company(uow, code="BENCH", name="页面压测公司").id
            auth.ensure_preset_roles(uow)
            for i in range(1, BENCH_USERS + 1):
                username, password = f"bench{i:02d}", secrets.token_urlsafe(12)
                auth.create_user(uow, username=username, password=password, roles=["sales"],
                                 company_ids=[company_id], check_policy=False)
                users.append((username, password))
        log(f"products ({skus}) …")
        with UnitOfWork(Actor.system(company_id), db=db) as uow:
            uom = uow.session.scalar(select(md.Uom.id).where(md.Uom.code == "pcs"))
            now = dt.datetime.now(dt.UTC)
            for start in range(0, skus, 5000):
                rows = []
                for i in range(start, min(skus, start + 5000)):
                    cost = rng.randint(100, 20_000) / 100
                    rows.append({"company_id": company_id, "sku": f"SKU-{i:04d}",
                                 "name": f"{rng.choice(NOUNS)} {rng.choice(SPECS)} {i}", "uom_id": uom,
                                 "tracking": "none", "product_type": "stock", "cost": cost,
                                 "list_price": round(cost * 1.6, 2), "active": True, "created_at": now,
                                 "updated_at": now})
                uow.session.execute(insert(md.Product), rows)
            uow.session.add_all([md.Partner(company_id=company_id, code=f"C{i:05d}", name=f"客户 {i}",
                                            is_customer=True) for i in range(1, CUSTOMERS + 1)])
            shop_ids = {ch: shops.get_or_create_shop(uow, channel=ch).id for ch, _n in split(max(orders, 100))}
        log(f"orders ({orders}) …")
        numbers = iter(range(1, 10**9))
        next_id = 0
        if kind == "sqlite":
            db.dispose()
            conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for ch, n in split(orders):
                rows = _raw_rows(ch, n, seed, next_id, shop_ids[ch], company_id, numbers)
                while chunk := [r for _i, r in zip(range(5000), rows, strict=False)]:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(RAW_ORDER, [r for r, _l in chunk])
                    conn.executemany(RAW_LINE, [ln for _r, ls in chunk for ln in ls])
                    conn.execute("COMMIT")
                    next_id = chunk[-1][0][0]
            conn.execute("ANALYZE")
            conn.close()
        else:
            import psycopg

            order_cols = _columns(RAW_ORDER)
            line_cols = _columns(RAW_LINE)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1)) as conn:
                conn.execute("SET TIME ZONE 'UTC'")  # the generator's timestamps are UTC
                cur = conn.cursor()
                # text COPY: the SQLite rows as they are (0/1 read as booleans, timestamps as text)
                copy_orders = f"COPY oms_order ({', '.join(order_cols)}) FROM STDIN"
                copy_lines = f"COPY oms_order_line ({', '.join(line_cols)}) FROM STDIN"
                for ch, n in split(orders):
                    rows = _raw_rows(ch, n, seed, next_id, shop_ids[ch], company_id, numbers)
                    while chunk := [r for _i, r in zip(range(5000), rows, strict=False)]:
                        with cur.copy(copy_orders) as cp:
                            for r, _l in chunk:
                                cp.write_row((*r, stamp, stamp))
                        with cur.copy(copy_lines) as cp:
                            for _r, ls in chunk:
                                for ln in ls:
                                    cp.write_row((*ln, stamp, stamp))
                        next_id = chunk[-1][0][0]
                    conn.commit()
                conn.execute("SELECT setval(pg_get_serial_sequence('oms_order', 'id'), "
                             "(SELECT max(id) FROM oms_order))")
                conn.commit()
                conn.autocommit = True
                conn.execute("ANALYZE")
        log("sales orders …")
        with UnitOfWork(Actor.system(company_id), db=db) as uow:
            customer_ids = list(uow.session.scalars(select(md.Partner.id).where(md.Partner.code.like("C%"))))
            product_ids = list(uow.session.scalars(select(md.Product.id).limit(500)))
            for _i in range(SALES_ORDERS):
                sales.create_sales_order(uow, customer_id=rng.choice(customer_ids), lines=[
                    sales.SalesLineIn(product_id=pid, quantity=str(rng.randint(1, 20)))
                    for pid in rng.sample(product_ids, k=min(len(product_ids), 3))])
    finally:
        db.dispose()
    return users


def sample(url: str, seed: int = 1) -> dict:
    """Ids and search terms for the users, drawn from what is in the database."""
    from sqlalchemy import create_engine, func, select

    from opensupply.masterdata import models as md
    from opensupply.oms.models import OmsOrder

    rng = random.Random(seed)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            def ids(col) -> list[int]:
                hi = conn.execute(select(func.max(col))).scalar() or 0
                picks = sorted({rng.randint(1, hi) for _i in range(SAMPLE)}) if hi else []
                return list(conn.execute(select(col).where(col.in_(picks))).scalars()) if picks else []

            oms_ids = ids(OmsOrder.id)
            product_ids = ids(md.Product.id)
            terms = conn.execute(select(OmsOrder.buyer_nick, OmsOrder.receiver_name)
                                 .where(OmsOrder.id.in_(oms_ids[:200]))).all()
            customers = list(conn.execute(select(md.Partner.id).where(md.Partner.is_customer.is_(True),
                                                                      md.Partner.code.like("C%"))).scalars())
    finally:
        engine.dispose()
    # a buyer nick as typed, or a receiver's family name (the common searches on the order list)
    oms_terms = sorted({t for nick, name in terms for t in (nick, (name or "")[:1]) if t}) or ["张"]
    return {"oms_order_ids": oms_ids, "product_ids": product_ids, "customer_ids": customers,
            "oms_terms": oms_terms, "product_terms": [*NOUNS, *SPECS, "SKU-1"],
            "channels": ["taobao", "tmall", "jd", "pdd"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`opensupply serve` in its own process group; `stop()` ends the whole group (uvicorn's workers too)."""

    def __init__(self, url: str, workers: int, data_dir: Path, log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "OPENSUPPLY_DATABASE_URL": url, "OPENSUPPLY_DATA_DIR": str(data_dir)}
        self.log = log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 — our own interpreter and CLI
            [sys.executable, "-c", "import sys; from opensupply.cli import app; sys.argv[0] = 'opensupply'; app()",
             "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.log_path = log_path

    def wait(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"the server exited with {self.proc.returncode}: {self._tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=2) as r:  # noqa: S310 — loopback
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise BenchError(f"the server did not answer /health within {timeout:.0f} s: {self._tail()}")

    def _tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-1500:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:  # workers left in the group after the parent went (should not happen)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()


def load(base: str, users: list[tuple[str, str]], data: dict, n_users: int, spawn_rate: float, duration: float,
         folder: Path) -> dict:
    config = folder / "locust.json"
    result = folder / "locust-result.json"
    config.write_text(json.dumps({**data, "host": base, "users": users, "users_count": n_users,
                                  "spawn_rate": spawn_rate, "duration": duration, "login_timeout": LOGIN_TIMEOUT,
                                  "result": str(result)}),
                      encoding="utf-8")
    log = folder / "locust.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "opensupply.bench.web_locust", str(config)],  # noqa: S603
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(LOGIN_TIMEOUT + duration + 60)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if rc != 0 or not result.is_file():
        raise BenchError(f"locust run failed ({rc}): {log.read_text(encoding='utf-8', errors='replace')[-1500:]}")
    return json.loads(result.read_text(encoding="utf-8"))


def run(*, kind: str, server_url: str | None, orders: int, skus: int, n_users: int, spawn_rate: float,
        duration: float, workers: int, keep: Path | None, reuse: bool, seed: int = 1,
        log: Callable[[str], None] = print) -> Iterator[dict]:
    from opensupply.bench.orders_cmd import _fresh_pg

    folder = Path(tempfile.mkdtemp(prefix="os-bench-web-"))
    meta_path = keep / META if keep else None
    filled: Filled | None = None
    server: Server | None = None
    try:
        if reuse and meta_path and meta_path.is_file():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if (meta["kind"], meta["orders"], meta["skus"]) == (kind, orders, skus):
                filled = Filled(meta["url"], orders, skus, kind, [tuple(u) for u in meta["users"]])
                log(f"reusing the database of {meta_path}")
            else:
                log(f"{meta_path} holds another scale ({meta['kind']}, {meta['orders']} orders, {meta['skus']} "
                    "SKUs): filling a new database")
        if filled is None:
            if kind == "sqlite":
                home = keep or folder
                home.mkdir(parents=True, exist_ok=True)
                path = home / "web-bench.db"
                for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    p.unlink(missing_ok=True)
                url, drop = f"sqlite:///{path}", None
            else:
                url, drop = _fresh_pg(server_url)
            filled = Filled(url, orders, skus, kind, [], drop=None if keep else drop)  # --keep: kept for --reuse
            t0 = time.perf_counter()
            filled.users = fill(url, kind, orders, skus, seed, log)
            filled.seconds = round(time.perf_counter() - t0, 1)
            log(f"filled in {filled.seconds} s")
            if meta_path:
                meta_path.parent.mkdir(parents=True, exist_ok=True)
                meta_path.write_text(json.dumps({"kind": kind, "orders": orders, "skus": skus, "url": url,
                                                 "users": filled.users}), encoding="utf-8")
        data = sample(filled.url, seed)
        if not data["oms_order_ids"] or not data["product_ids"]:
            raise BenchError("the database holds no orders or products")
        log(f"starting the server ({workers} workers) …")
        server = Server(filled.url, workers, folder, folder / "server.log")
        server.wait()
        log(f"{n_users} users for {duration:.0f} s against {server.base} …")
        stats = load(server.base, filled.users, data, n_users, spawn_rate, duration, folder)
    finally:
        if server is not None:
            server.stop()
        if filled is not None and filled.drop is not None:
            filled.drop()
        shutil.rmtree(folder, ignore_errors=True)
    for row in stats["logins"]:  # the warm-up's logins, timed over the warm-up
        yield {**row, "phase": "warm-up"}
    yield from stats["groups"]
    pages = stats["pages"]
    warm = stats["warmup"]
    yield {"summary": {"benchmark": "web", "users": n_users, "p50_ms": pages["p50_ms"], "p95_ms": pages["p95_ms"],
                       "p99_ms": pages["p99_ms"], "rps": pages["rps"],
                       "requests": stats["total"]["requests"],
                       "failures": stats["total"]["failures"] + warm["failures"],
                       "page_requests": pages["requests"], "page_failures": pages["failures"],
                       "orders": orders, "skus": skus, "db": kind, "workers": workers, "duration_s": duration,
                       "measured_s": stats["seconds"], "spawn_rate": spawn_rate, "think_time_s": [1, 3],
                       "warmup_s": warm["seconds"], "warmup_requests": warm["requests"],
                       "warmup_failures": warm["failures"], "logged_in": warm["logged_in"],
                       "fill_seconds": filled.seconds if filled else None, "errors": stats["errors"]}}
