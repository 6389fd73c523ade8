"""Browser journeys: the real application served by uvicorn on 127.0.0.1 (a free port, in a
background thread) against a fresh SQLite database in a temporary data directory, driven by
headless Chromium through Playwright. Never downloads a browser: uses OPENSUPPLY_CHROMIUM or
the system's `chromium`, and skips with a clear reason when there is none.

Screenshots of every step go to test-artifacts/e2e/<test-name>/NN-step.png.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ADMIN_PASSWORD = "E2e-admin-2026"


def chromium_path() -> str | None:
    return os.environ.get("OPENSUPPLY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    company_id: int
    admin: str
    password: str


def create_admin(db, company: int, username: str = "admin") -> str:
    """A superuser of `company` with the preset roles in place, made through the services."""
    from opensupply.core import auth
    from opensupply.core.uow import Actor, UnitOfWork

    with UnitOfWork(Actor.system(company), db=db) as uow:
        auth.ensure_preset_roles(uow)
        auth.create_user(uow, username=username, password=ADMIN_PASSWORD, display_name="管理员", roles=["admin"],
                         company_ids=[company], is_superuser=True)
    return username


@contextlib.contextmanager
def serve(db, company: int, admin: str = "admin") -> Iterator[LiveServer]:
    """The real app over `db` on a free port in a background thread, for as long as the block runs."""
    import uvicorn

    from opensupply.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", company, admin, ADMIN_PASSWORD)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def live_server(sqlite_db) -> Iterator[LiveServer]:
    """The real app on a free port, with one company (warehouse WH, bin A-01-01) and an admin user
    created through the services."""
    company = f.company(sqlite_db, "YS", "杭州云杉家居用品有限公司")
    create_admin(sqlite_db, company)
    f.bin_location(sqlite_db, company, "A-01-01")
    with serve(sqlite_db, company) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path or not Path(path).exists():
        pytest.skip("no Chromium binary: install Debian's `chromium` or set OPENSUPPLY_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Shots:
    """Numbered screenshots of a journey: shots("login") → test-artifacts/e2e/<test>/01-login.png."""

    def __init__(self, page, folder: Path):
        self.page, self.folder, self.n = page, folder, 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _test_folder(request) -> Path:
    return ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def shots(page, request) -> Shots:
    return Shots(page, _test_folder(request))


@pytest.fixture
def phone_shots(phone, request) -> Shots:
    return Shots(phone, _test_folder(request))
