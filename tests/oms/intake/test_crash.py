"""Kill `opensupply import orders` with SIGKILL half-way through a 6,000-order export (twelve batches), run it
again: the database ends up exactly as after one clean run (same orders, lines, holds, numbers,
one audit row per order)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from opensupply.core.db import Database, set_database
from opensupply.core.migrate import upgrade
from opensupply.core.uow import Actor, UnitOfWork
from opensupply.masterdata.service import setup_company
from opensupply.oms.samples import write_sample

ORDERS = 6000


def _data_dir(path) -> dict:
    path.mkdir()
    db = Database(f"sqlite:///{path / 'opensupply.db'}")
    set_database(db)
    upgrade("head")
    with UnitOfWork(Actor.system(), db=db) as uow:
        setup_company(uow, code="ACME", name="示例公司")
    set_database(None)
    env = {**os.environ, "OPENSUPPLY_DATA_DIR": str(path), "PYTHONUNBUFFERED": "1"}
    env.pop("OPENSUPPLY_DATABASE_URL", None)
    return env


def _cmd(file) -> list[str]:
    code = "import sys; from opensupply.cli import app; sys.argv[0] = 'opensupply'; app()"
    return [sys.executable, "-c", code, "import", "orders", str(file), "--channel", "taobao", "--shop", "旗舰店",
            "--batch", "500"]


def _count(db_path) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM oms_order").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _state(db_path) -> dict:
    with sqlite3.connect(db_path) as conn:
        q = conn.execute
        return {
            "orders": q("SELECT number, channel_order_id, status, on_hold, phone, province, city, district, "
                        "address_detail, merge_key, paid_amount, content_hash, import_batch FROM oms_order "
                        "ORDER BY channel_order_id").fetchall(),
            "lines": q("SELECT o.channel_order_id, l.line_no, l.channel_sku, l.quantity, l.unit_price, l.product_id "
                       "FROM oms_order_line l JOIN oms_order o ON o.id = l.order_id "
                       "ORDER BY o.channel_order_id, l.line_no").fetchall(),
            "holds": q("SELECT o.channel_order_id, h.kind, h.note, h.released_at IS NULL FROM oms_hold h "
                       "JOIN oms_order o ON o.id = h.order_id ORDER BY o.channel_order_id, h.kind").fetchall(),
            "audit": q("SELECT action, count(*) FROM audit_log WHERE entity = 'oms_order' GROUP BY action").fetchall(),
            "events": q("SELECT kind, count(*) FROM oms_order_event GROUP BY kind").fetchall(),
            "sequence": q("SELECT code, next_value FROM sequence WHERE code = 'OMS'").fetchall(),
        }


def test_sigkill_half_way_then_rerun_equals_one_clean_run(tmp_path):
    export = write_sample("taobao", tmp_path / "orders.csv", orders=ORDERS, seed=7, messy=False)
    crashed_env = _data_dir(tmp_path / "crashed")
    clean_env = _data_dir(tmp_path / "clean")
    crashed_db = tmp_path / "crashed" / "opensupply.db"

    proc = subprocess.Popen(_cmd(export), env=crashed_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while _count(crashed_db) < ORDERS // 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    half = _count(crashed_db)
    assert 0 < half < ORDERS, half  # killed half-way, some batches committed

    rerun = subprocess.run(_cmd(export), env=crashed_env, capture_output=True, timeout=90)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    resumed = json.loads(rerun.stdout.decode().strip().splitlines()[-1])
    assert resumed["unchanged"] == half and resumed["created"] == ORDERS - half and resumed["updated"] == 0
    clean = subprocess.run(_cmd(export), env=clean_env, capture_output=True, timeout=90)
    assert clean.returncode == 0, clean.stderr[-2000:]

    after_crash, once = _state(crashed_db), _state(tmp_path / "clean" / "opensupply.db")
    assert len(once["orders"]) == ORDERS
    assert after_crash == once
