"""`opensupply bench import`: channel-order intake throughput against a plain bulk insert.

1. generate — per channel one platform export file (CSV as the platform writes it: GB18030 for
   淘宝/天猫/京东/拼多多, UTF-8 for the others; messy phones and addresses), plus a re-export holding
   5 % of the orders again (duplicates: the import must recognise them as unchanged). About 10 %
   of the orders reuse the previous order's recipient (mergeable). Not timed.
2. import — every file through `oms.intake.import_file` (streamed parsing, phone and address
   normalisation, SKU matching, dedupe, holds, audit rows, timeline, events, one transaction per
   batch) into a fresh SQLite database. Timed, wall clock.
3. raw — the same orders and lines (as the generator makes them, no duplicates) inserted into the
   same two tables of another fresh database with the driver's executemany: no parsing, no
   normalisation, no audit. Timed the same way.

Output: one JSON object per phase, then `{"summary": {orders, orders_per_s, raw_orders_per_s, ratio,
…}}`. Memory stays flat: files are streamed, batches are imported and dropped.
"""

from __future__ import annotations

import datetime as dt
import resource
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SHARES = (("taobao", 0.30), ("tmall", 0.15), ("jd", 0.20), ("pdd", 0.25), ("miniapp", 0.05), ("generic", 0.05))
ENCODING = {"taobao": "gb18030", "tmall": "gb18030", "jd": "gb18030", "pdd": "gb18030", "miniapp": "utf-8",
            "generic": "utf-8-sig"}
DUPLICATES = 0.05
N_SKUS = 400
SEED = 11


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def split(orders: int) -> list[tuple[str, int]]:
    counts = [(ch, int(orders * share)) for ch, share in SHARES]
    counts[0] = (counts[0][0], counts[0][1] + orders - sum(n for _c, n in counts))
    return [(ch, n) for ch, n in counts if n > 0]


def skus() -> list[str]:
    return [f"SKU-{i:04d}" for i in range(N_SKUS)]


def _fresh_db(folder: Path, name: str):
    from opensupply.core.db import Database

    path = folder / f"{name}.db"
    db = Database(f"sqlite:///{path}")
    db.create_all()
    return db, path


def _company(db) -> tuple[int, dict[str, int]]:
    """A company with the benchmark's products; returns (company id, shop id per channel)."""
    from sqlalchemy import insert, select

    from opensupply.core.uow import Actor, UnitOfWork
    from opensupply.masterdata import models as md
    from opensupply.masterdata.service import setup_company
    from opensupply.oms import shops

    with UnitOfWork(Actor.system(), db=db) as uow:
        company_id = setup_company(uow, code="BENCH", name="基准测试公司").id
    with UnitOfWork(Actor.system(company_id), db=db) as uow:
        uom = uow.session.scalar(select(md.Uom.id).where(md.Uom.code == "pcs"))
        now = dt.datetime.now(dt.UTC)
        uow.session.execute(insert(md.Product), [
            {"company_id": company_id, "sku": s, "name": f"商品 {s}", "uom_id": uom, "tracking": "none",
             "product_type": "stock", "cost": 10, "list_price": 20, "active": True, "created_at": now,
             "updated_at": now} for s in skus()])
        shop_ids = {ch: shops.get_or_create_shop(uow, channel=ch).id for ch, _share in SHARES}
    return company_id, shop_ids


def generate(folder: Path, orders: int, seed: int = SEED) -> list[tuple[str, Path, int]]:
    """Export files per channel (+ re-exports with the duplicates) → [(channel, path, orders in file)]."""
    from opensupply.oms.samples import write_sample

    files = []
    for ch, n in split(orders):
        dups = int(n * DUPLICATES)
        main = write_sample(ch, folder / f"{ch}.csv", orders=n - dups, seed=seed, encoding=ENCODING[ch],
                            skus=skus(), messy=True)
        files.append((ch, main, n - dups))
        if dups:
            again = write_sample(ch, folder / f"{ch}-again.csv", orders=dups, seed=seed, encoding=ENCODING[ch],
                                 skus=skus(), messy=True, start_index=(n - dups) // 2)
            files.append((ch, again, dups))
    return files


def run_import(folder: Path, files, batch: int, on_progress: Callable[[int], None] | None = None) -> dict:
    from opensupply.core.uow import Actor
    from opensupply.oms import connectors, intake, normalize

    for ch, _file, _n in files:  # import every connector before timing
        connectors.get_connector(ch)

    db, path = _fresh_db(folder, "import")
    company_id, shop_ids = _company(db)
    actor = Actor.system(company_id)
    normalize.parse_address("浙江省杭州市余杭区文一西路969号")  # loads the division data once, before timing
    totals = intake.ImportResult()
    done = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    for ch, file, n in files:
        res = intake.import_file(db, actor, shop_ids[ch], file, ch, batch_size=batch)
        totals.add(res)
        done += n
        if on_progress:
            on_progress(done)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT count(*) FROM oms_order").fetchone()[0]
        lines = conn.execute("SELECT count(*) FROM oms_order_line").fetchone()[0]
        audit = conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'oms_order'").fetchone()[0]
        held = conn.execute("SELECT count(*) FROM oms_order WHERE on_hold").fetchone()[0]
        merge_groups = conn.execute("SELECT count(*) FROM (SELECT merge_key FROM oms_order GROUP BY shop_id, "
                                    "merge_key HAVING count(*) > 1)").fetchone()[0]
    db.dispose()
    fed = sum(n for _c, _f, n in files)
    return {"phase": "import", "orders": fed, "stored_orders": stored, "lines": lines, "created": totals.created,
            "updated": totals.updated, "unchanged": totals.unchanged, "rejected_rows": len(totals.rejected),
            "held": held, "mergeable_groups": merge_groups, "audit_rows": audit, "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2), "orders_per_s": round(fed / seconds, 1), "peak_rss_mb": _rss_mb()}


def _raw_rows(channel: str, n: int, seed: int, start_id: int, shop_id: int, company_id: int, numbers: Iterator[int]):
    from opensupply.oms.samples import sample_orders

    def ts(v):
        return v.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if v else None

    order_id = start_id
    for o in sample_orders(channel, orders=n, seed=seed, skus=skus(), messy=True):
        order_id += 1
        row = (order_id, company_id, f"SO{next(numbers):09d}", shop_id, channel, o.channel_order_id,
               o.platform_status, "pending", o.refund_status, 0, o.buyer_nick, o.receiver_name, o.receiver_phone,
               o.address, o.province, o.city, o.district, o.address_detail, float(o.goods_amount), float(o.freight),
               float(o.discount), float(o.paid_amount), ts(o.ordered_at), ts(o.paid_at), o.buyer_message,
               o.seller_memo, 0, 0, 0, 1)
        lines = [(order_id, i, ln.channel_line_id, ln.channel_sku, ln.title, ln.spec, float(ln.quantity),
                  float(ln.unit_price), float(ln.paid_amount), ln.refund_status, 0)
                 for i, ln in enumerate(o.lines, start=1)]
        yield row, lines


RAW_ORDER = ("INSERT INTO oms_order (id, company_id, number, shop_id, channel, channel_order_id, platform_status, "
             "status, refund_status, on_hold, buyer_nick, receiver_name, receiver_phone, address, province, city, "
             "district, address_detail, goods_amount, freight, discount, paid_amount, ordered_at, paid_at, "
             "buyer_message, seller_memo, priority, is_presale, manual_edits, address_complete, created_at, "
             "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
             "?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
RAW_LINE = ("INSERT INTO oms_order_line (order_id, line_no, channel_line_id, channel_sku, title, spec, quantity, "
            "unit_price, paid_amount, refund_status, is_presale, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")


def run_raw(folder: Path, orders: int, batch: int, seed: int = SEED) -> dict:
    """The same orders and lines, plain executemany into the same tables, one transaction per batch."""
    db, path = _fresh_db(folder, "raw")
    company_id, shop_ids = _company(db)
    db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    numbers = iter(range(1, 10**9))
    total = n_lines = 0
    seconds = cpu = 0.0
    next_id = 0
    for ch, n in split(orders):
        n_unique = n - int(n * DUPLICATES)
        rows = _raw_rows(ch, n_unique, seed, next_id, shop_ids[ch], company_id, numbers)
        while True:
            chunk = [r for _i, r in zip(range(batch), rows, strict=False)]  # generation is not timed
            if not chunk:
                break
            t0, c0 = time.perf_counter(), time.process_time()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(RAW_ORDER, [r for r, _l in chunk])
            lines = [ln for _r, ls in chunk for ln in ls]
            conn.executemany(RAW_LINE, lines)
            conn.execute("COMMIT")
            seconds += time.perf_counter() - t0
            cpu += time.process_time() - c0
            total += len(chunk)
            n_lines += len(lines)
            next_id = chunk[-1][0][0]
    conn.close()
    return {"phase": "raw", "orders": total, "lines": n_lines, "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2), "orders_per_s": round(total / seconds, 1) if seconds else None,
            "peak_rss_mb": _rss_mb()}


def run(orders: int, batch: int, *, keep: Path | None = None, log: Callable[[str], None] = print,
        on_progress: Callable[[int], None] | None = None) -> Iterator[dict]:
    folder = Path(tempfile.mkdtemp(prefix="os-bench-import-")) if keep is None else keep
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        files = generate(folder, orders)
        size = sum(f.stat().st_size for _c, f, _n in files)
        yield {"phase": "generate", "orders": orders, "files": len(files), "megabytes": round(size / 2**20, 1),
               "duplicates": sum(n for _c, f, n in files if f.stem.endswith("-again")),
               "seconds": round(time.perf_counter() - t0, 2)}
        log("import …")
        imported = run_import(folder, files, batch, on_progress)
        yield imported
        log("raw bulk insert …")
        raw = run_raw(folder, orders, batch)
        yield raw
        ratio = imported["orders_per_s"] / raw["orders_per_s"] if raw["orders_per_s"] else None
        yield {"summary": {"benchmark": "import", "orders": imported["orders"],
                           "orders_per_s": imported["orders_per_s"], "raw_orders_per_s": raw["orders_per_s"],
                           "ratio": round(ratio, 3) if ratio else None,
                           "stored_orders": imported["stored_orders"], "lines": imported["lines"],
                           "duplicates": imported["unchanged"], "mergeable_groups": imported["mergeable_groups"],
                           "rejected_rows": imported["rejected_rows"], "batch": batch, "db": "sqlite",
                           "import_seconds": imported["seconds"], "raw_seconds": raw["seconds"],
                           # CPU time of this process: what the ratio is on a machine shared with others
                           "import_cpu_seconds": imported["cpu_seconds"], "raw_cpu_seconds": raw["cpu_seconds"],
                           "ratio_cpu": round(raw["cpu_seconds"] / imported["cpu_seconds"] * imported["orders"]
                                              / raw["orders"], 3) if raw["cpu_seconds"] and imported["cpu_seconds"]
                           else None,
                           "peak_rss_mb": _rss_mb()}}
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
