"""Locust users of `opensupply bench web` — run as its own process (`python -m opensupply.bench.web_locust CONFIG`).

Kept out of the `opensupply` process on purpose: importing locust monkey-patches the standard library for
gevent, which must not happen to the process holding the database setup and the server.

Each user logs in once through the login form (session cookie; the page's CSRF token for later posts), then,
with 1–3 s of think time between tasks, picks one task by weight:

| weight | group | request |
|---:|---|---|
| 3 | `oms orders search` | `GET /oms/orders?q=…&status=pending[&channel=…]` (buyer / receiver search plus filters) |
| 3 | `oms order detail` | `GET /oms/orders/{id}` |
| 2 | `products search` | `GET /products?q=…` |
| 2 | `product detail` | `GET /products/{id}` |
| 1 | `erp sales orders` | `GET /erp/sales-orders` |
| 1 | `erp order entry form`, `erp order entry post` | `GET /erp/sales-orders/new`, then `POST` it with 1–3 lines |

Order entry creates a real draft sales order (303 to the new order expected).

Login (`login`, `POST /login` answered 303, then `home` for the token) is reported as its own groups.
A request fails when its status is not 2xx/3xx (or a POST does not answer 303).
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path

from locust import HttpUser, between, task

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CONFIG: dict = {}
LOGGED_IN = [0]  # users past on_start (logged in, or given up)


class WebUser(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        try:
            self._login()
        finally:
            LOGGED_IN[0] += 1

    def _login(self) -> None:
        users = CONFIG["users"]
        username, password = users[random.randrange(len(users))]
        self.csrf = ""
        with self.client.post("/login", data={"username": username, "password": password, "next": "/"},
                              name="login", allow_redirects=False, catch_response=True) as r:
            if r.status_code != 303:
                r.failure(f"login answered {r.status_code}")
                return
        with self.client.get("/", name="home", catch_response=True) as r:
            m = CSRF.search(r.text or "")
            if r.ok and m:
                self.csrf = m.group(1)
            elif r.ok:
                r.failure("no csrf_token on the home page")

    @task(3)
    def oms_orders(self) -> None:
        params = {"q": random.choice(CONFIG["oms_terms"]), "status": "pending"}
        if random.random() < 0.5:
            params["channel"] = random.choice(CONFIG["channels"])
        self.client.get("/oms/orders", params=params, name="oms orders search")

    @task(3)
    def oms_order(self) -> None:
        self.client.get(f"/oms/orders/{random.choice(CONFIG['oms_order_ids'])}", name="oms order detail")

    @task(2)
    def products(self) -> None:
        self.client.get("/products", params={"q": random.choice(CONFIG["product_terms"])}, name="products search")

    @task(2)
    def product(self) -> None:
        self.client.get(f"/products/{random.choice(CONFIG['product_ids'])}", name="product detail")

    @task(1)
    def sales_orders(self) -> None:
        self.client.get("/erp/sales-orders", name="erp sales orders")

    @task(1)
    def enter_order(self) -> None:
        with self.client.get("/erp/sales-orders/new", name="erp order entry form", catch_response=True) as r:
            m = CSRF.search(r.text or "")
            if m:
                self.csrf = m.group(1)
            elif r.ok:
                r.failure("no csrf_token in the order form")
                return
        form = {"csrf_token": self.csrf, "customer": str(random.choice(CONFIG["customer_ids"])),
                "channel": "direct", "price_mode": "incl", "notes": "bench web"}
        for i, pid in enumerate(random.sample(CONFIG["product_ids"], k=min(len(CONFIG["product_ids"]),
                                                                          random.randint(1, 3)))):
            form[f"lines-{i}-product"] = str(pid)
            form[f"lines-{i}-quantity"] = str(random.randint(1, 20))
            form[f"lines-{i}-unit_price"] = f"{random.randint(1000, 50000) / 100:.2f}"
        with self.client.post("/erp/sales-orders/new", data=form, name="erp order entry post",
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != 303 or "/erp/sales-orders/" not in r.headers.get("location", ""):
                r.failure(f"order entry answered {r.status_code}: {(r.text or '')[:200]}")


def _entry(e, seconds: float) -> dict:
    def pct(q: float):
        return round(float(e.get_response_time_percentile(q)), 1) if e.num_requests else None

    return {"name": e.name, "requests": e.num_requests, "failures": e.num_failures, "p50_ms": pct(0.50),
            "p95_ms": pct(0.95), "p99_ms": pct(0.99), "avg_ms": round(e.avg_response_time, 1) if e.num_requests
            else None, "max_ms": round(e.max_response_time, 1) if e.num_requests else None,
            "rps": round(e.num_requests / seconds, 2) if seconds else None}


def main(config_path: str) -> int:
    import gevent
    from locust.env import Environment
    from locust.stats import StatsEntry

    CONFIG.update(json.loads(Path(config_path).read_text(encoding="utf-8")))
    env = Environment(user_classes=[WebUser], host=CONFIG["host"])
    runner = env.create_local_runner()
    # warm-up: every user logs in (argon2 hashing, CPU-bound) and starts browsing; the measured window opens
    # when the last one is in, so the figures are the steady state, not the login storm
    t0 = time.monotonic()
    runner.start(CONFIG["users_count"], spawn_rate=CONFIG["spawn_rate"])
    deadline = t0 + CONFIG["login_timeout"]
    while LOGGED_IN[0] < CONFIG["users_count"] and time.monotonic() < deadline:
        gevent.sleep(0.1)
    warmup_s = time.monotonic() - t0
    logins = [_entry(e, warmup_s) for e in sorted(env.stats.entries.values(), key=lambda e: e.name)
              if e.name in ("login", "home")]
    warmup = {"seconds": round(warmup_s, 2), "logged_in": LOGGED_IN[0], "requests": env.stats.total.num_requests,
              "failures": env.stats.total.num_failures}
    warm_errors = list(env.stats.errors.values())
    env.stats.reset_all()
    t0 = time.monotonic()
    gevent.sleep(CONFIG["duration"])
    runner.quit()
    seconds = time.monotonic() - t0
    entries = sorted((e for e in env.stats.entries.values() if e.num_requests), key=lambda e: e.name)
    pages = StatsEntry(env.stats, "pages", None, use_response_times_cache=False)
    for e in entries:
        if e.name not in ("login", "home"):
            pages.extend(e)
    errors = [{"name": e.name, "method": e.method, "error": str(e.error)[:300], "occurrences": e.occurrences}
              for e in [*warm_errors, *env.stats.errors.values()]]
    out = {"seconds": round(seconds, 2), "warmup": warmup, "logins": logins,
           "groups": [_entry(e, seconds) for e in entries if e.name not in ("login", "home")],
           "pages": _entry(pages, seconds), "total": _entry(env.stats.total, seconds), "errors": errors[:20]}
    Path(CONFIG["result"]).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
