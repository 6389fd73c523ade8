"""Both languages: every message of core and web has its English text, and a user who switches
to English reads English labels with English date and number formats."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from opensupply.core import auth, i18n
from opensupply.core.audit import AuditLog
from opensupply.core.uow import Actor, UnitOfWork
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "src" / "opensupply"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _extract(paths) -> dict[str, str]:
    """msgid → where it is used, extracted exactly as scripts/i18n.sh does (babel.cfg)."""
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {}
    for path in paths:
        if path.is_dir():
            for filename, _lineno, message, _comments, _ctx in extract_from_dir(
                    path, method_map, options_map, keywords=KEYWORDS):
                msgid = message if isinstance(message, str) else message[0]
                found.setdefault(msgid, f"{path.name}/{filename}")
        else:
            for _lineno, message, _comments, _ctx in extract_from_file("python", path, keywords=KEYWORDS):
                msgid = message if isinstance(message, str) else message[0]
                found.setdefault(msgid, path.name)
    return found


def _english() -> dict[str, str]:
    out = {}
    for po in sorted((PKG / "locale" / "en" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for msg in read_po(fh, locale="en"):
                if msg.id and msg.string and not msg.fuzzy:
                    out[msg.id if isinstance(msg.id, str) else msg.id[0]] = msg.string
    return out


def test_every_message_of_core_and_web_has_an_english_translation():
    used = _extract([PKG / "core", PKG / "web", *sorted(PKG.glob("*.py"))])
    assert len(used) > 150  # the extraction really ran over code and templates
    assert "欢迎，{name}" in used and "审计日志" in used and "请先登录" in used
    english = _english()
    missing = sorted(f"{where}: {msgid}" for msgid, where in used.items() if msgid not in english)
    assert not missing, "untranslated (run scripts/i18n.sh core web, then translate):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    for msgid, text in _english().items():
        assert set(re.findall(r"\{(\w*)\}", msgid)) == set(re.findall(r"\{(\w*)\}", text)), msgid


def test_locale_formats_of_numbers_money_and_dates():
    at = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC)
    i18n.set_timezone("Asia/Shanghai")
    try:
        i18n.set_locale("en")
        assert i18n.format_decimal(Decimal("1234567.5")) == "1,234,567.5"
        assert i18n.format_money(Decimal("1234.5")) == "CN¥1,234.50"
        assert i18n.format_date(dt.date(2026, 3, 1)) == "Mar 1, 2026"
        assert re.match(r"3/1/26, 11:30\s?PM", i18n.format_datetime(at))
        i18n.set_locale("zh_CN")
        assert i18n.format_money(Decimal("1234.5")) == "¥1,234.50"
        assert i18n.format_datetime(at) == "2026/3/1 23:30"
    finally:
        i18n.set_locale(None)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_user_switches_to_english_and_reads_english_pages(db):
    c = f.company(db)
    boss = f.user(db, c, "boss")
    with db.sessionmaker.begin() as s:  # 23:30 on 1 March in the company's time zone (Shanghai)
        s.add(AuditLog(at=dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC), company_id=c, username="boss",
                       action="update", entity="product", entity_id="1", before={"cost": "1"},
                       after={"cost": "2"}))
    web = f.web_client(db, boss)
    home = web.get("/")
    assert "首页" in home.text and "审计日志" in home.text
    chinese = web.get("/admin/audit").text
    assert "2026/3/1 23:30" in chinese
    r = web.post("/settings/locale", data={"csrf_token": _csrf(home.text), "locale": "en", "next": "/admin/audit"})
    assert r.status_code == 303 and r.headers["location"] == "/admin/audit"
    page = web.get("/admin/audit").text
    assert '<html lang="en">' in page
    for label in ("Audit log", "Home", "Log out", "Export Excel", "Before", "After", "Users", "Roles"):
        assert label in page, label
    assert re.search(r"3/1/26, 11:30\s?PM", page)  # English date format, company time zone
    assert "审计日志" not in page and "退出" not in page
    users = web.get("/admin/users").text
    assert "New user" in users and "Username" in users and "Last login" in users
    # the choice is remembered on the user: a new session is English too
    assert "Log out" in f.web_client(db, boss).get("/").text


def test_english_error_messages_from_forms(db):
    c = f.company(db)
    with UnitOfWork(Actor.system(c), db=db) as uow:
        auth.ensure_preset_roles(uow)
        auth.create_user(uow, username="eve", password=f.PASSWORD, roles=["admin"], company_ids=[c], locale="en")
    web = f.web_client(db, "eve")
    token = _csrf(web.get("/admin/users/new").text)
    r = web.post("/admin/users/new", data={"csrf_token": token, "username": "newbie", "password": "123",
                                           "company_ids": [str(c)]})
    assert r.status_code == 422
    assert "The password must have at least 8 characters" in r.text


def test_login_page_in_both_languages(db):
    client = f.anonymous(db)
    assert "用户名" in client.get("/login").text
    english = client.get("/login", params={"lang": "en"}).text
    assert "Username" in english and "Log in" in english


def test_api_errors_speak_the_users_language(db):
    c = f.company(db)
    with UnitOfWork(Actor.system(c), db=db) as uow:
        auth.ensure_preset_roles(uow)
        auth.create_user(uow, username="eve", password=f.PASSWORD, roles=["admin"], company_ids=[c], locale="en")
        auth.create_user(uow, username="wang", password=f.PASSWORD, roles=["warehouse"], company_ids=[c])
    r = f.api_client(db, "eve").post("/api/v1/users", json={"username": "x", "password": "1"})
    assert r.json()["error"]["message"] == "The password must have at least 8 characters"
    r = f.api_client(db, "wang").get("/api/v1/users")
    assert r.status_code == 403 and r.json()["error"]["message"] == "没有权限：admin.users"


def test_extraction_script_reports_core_and_web_complete():
    import subprocess

    out = subprocess.run(["bash", str(ROOT / "scripts" / "i18n.sh"), "--check", "core", "web"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"core: (\d+)/\1 translated", out.stderr) and re.search(r"web: (\d+)/\1 translated", out.stderr)
