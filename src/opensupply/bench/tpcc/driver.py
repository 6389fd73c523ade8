"""Runs one implementation with N worker processes for a fixed time and counts transactions."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import Counter

from opensupply.core.db import Database

from .load import Setup
from .workload import MIX, Workload


def _worker(kind: str, url: str, setup: Setup, index: int, seed: int, duration: float, ready, queue) -> None:
    from opensupply import registry

    registry.import_all_models()
    db = Database(url)
    if kind == "services":
        from .services import ServiceTransactions

        impl = ServiceTransactions(db, setup)
    else:
        from .raw import RawTransactions

        impl = RawTransactions(db, setup)
    wl = Workload(setup, index % len(setup.warehouse_ids), seed * 1000 + index)
    done, rolled_back, failed, errors = Counter(), Counter(), Counter(), []
    latency: dict[str, float] = Counter()
    ready.wait()  # every worker has imported and connected: the clock starts for all at once
    deadline = time.time() + duration
    while time.time() < deadline:
        name = wl.pick()
        t = getattr(wl, name)()
        t0 = time.perf_counter()
        try:
            ok = getattr(impl, name)(t)
        except Exception as exc:  # counted and reported, never silently
            failed[name] += 1
            if len(errors) < 5:
                errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        latency[name] += time.perf_counter() - t0
        (done if ok else rolled_back)[name] += 1
    db.dispose()
    queue.put({"done": dict(done), "rolled_back": dict(rolled_back), "failed": dict(failed), "errors": errors,
               "seconds": dict(latency)})


def run(kind: str, url: str, setup: Setup, *, workers: int, duration: float, seed: int) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    ready = ctx.Barrier(workers)
    procs = [ctx.Process(target=_worker, args=(kind, url, setup, i, seed, duration, ready, queue))
             for i in range(workers)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    done, rolled_back, failed, seconds = Counter(), Counter(), Counter(), Counter()
    errors: list[str] = []
    for r in results:
        done.update(r["done"])
        rolled_back.update(r["rolled_back"])
        failed.update(r["failed"])
        seconds.update(r["seconds"])
        errors += r["errors"]
    # TPC-C counts a rolled-back New-Order as completed business: it is part of the mix
    total = sum(done.values()) + sum(rolled_back.values())
    new_orders = done["new_order"] + rolled_back["new_order"]
    return {"implementation": kind, "workers": workers, "seconds": duration, "transactions": total,
            "tpm": round(total * 60 / duration, 1), "tpmC": round(new_orders * 60 / duration, 1),
            "mix": {name: done[name] + rolled_back[name] for name, _w in MIX},
            "rolled_back": dict(rolled_back), "failed": dict(failed), "errors": errors[:5],
            "avg_ms": {name: round(seconds[name] * 1000 / max(1, done[name] + rolled_back[name]), 2)
                       for name, _w in MIX}}
