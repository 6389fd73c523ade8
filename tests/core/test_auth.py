"""Logging in and staying logged in: passwords, lockout, sessions, tokens."""

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from opensupply.core import auth
from opensupply.core.audit import AuditLog
from opensupply.core.auth import AuthSession, LoginAttempt, User
from opensupply.core.config import get_settings
from opensupply.core.http import SESSION_COOKIE
from opensupply.core.types import utcnow
from opensupply.core.uow import UnitOfWork
from tests import factories as f


def form_login(client, username: str, password: str = f.PASSWORD, next_url: str = "/"):
    return client.post("/login", data={"username": username, "password": password, "next": next_url})


def token_login(client, username: str, password: str = f.PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def set_user_active(db, username: str, active: bool) -> None:
    with UnitOfWork(f.system(None), db=db) as uow:
        uow.session.scalar(select(User).where(User.username == username)).is_active = active


def shift_sessions(db, **values) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(AuthSession).values(**values))


def test_passwords_are_stored_as_argon2id_hashes(db):
    c = f.company(db)
    f.user(db, c, "alice")
    with db.readonly_sessionmaker() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "alice"))
    assert stored.startswith("$argon2id$") and f.PASSWORD not in stored
    assert auth.verify_password(stored, f.PASSWORD)
    assert not auth.verify_password(stored, f.PASSWORD.upper())
    assert not auth.verify_password("not a hash", f.PASSWORD)


def test_login_page_is_in_chinese_by_default(db):
    r = f.anonymous(db).get("/login")
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in r.text
    assert "用户名" in r.text and "密码" in r.text and "登录" in r.text


def test_login_page_switches_to_english_with_lang(db):
    r = f.anonymous(db).get("/login", params={"lang": "en"})
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "Password" in r.text and "用户名" not in r.text
    assert r.cookies.get("os_locale") == "en"  # and stays English on the next visit


def test_wrong_password_is_401_on_form_and_api_and_audited(db):
    c = f.company(db)
    f.user(db, c, "alice")
    client = f.anonymous(db, follow_redirects=False)
    page = form_login(client, "alice", "wrong-password")
    assert page.status_code == 401
    assert "用户名或密码错误" in page.text and SESSION_COOKIE not in page.cookies
    api = token_login(client, "alice", "wrong-password")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "bad_credentials"

    admin = f.api_client(db, f.user(db, c, "boss"))
    failed = admin.get("/api/v1/audit", params={"entity": "auth_user"}).json()["items"]
    assert [(i["action"], i["after"]["username"]) for i in failed if i["action"] == "login_failed"] == [
        ("login_failed", "alice"), ("login_failed", "alice")]
    form_login(client, "nobody", "whatever-1")  # unknown names are recorded too
    with db.readonly_sessionmaker() as s:
        rows = s.scalars(select(AuditLog).where(AuditLog.action == "login_failed"))
        assert "nobody" in {r.after["username"] for r in rows}


@pytest.mark.parametrize("fail_with", ["form", "api"])
def test_lockout_after_too_many_failures_applies_to_form_and_token_login(db, fail_with):
    c = f.company(db)
    f.user(db, c, "alice")
    client = f.anonymous(db, follow_redirects=False)
    for i in range(get_settings().login_max_failures):
        wrong = form_login if fail_with == "form" else token_login
        # capitalisation does not buy an attacker more tries
        assert wrong(client, "alice" if i % 2 else "ALICE", "wrong-password").status_code == 401

    api = token_login(client, "alice")  # even the right password is refused for now
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "locked"
    assert "登录失败次数过多" in api.json()["error"]["message"]
    page = form_login(client, "alice")
    assert page.status_code == 401 and "登录失败次数过多" in page.text

    with db.engine.begin() as conn:  # the window passes
        window = dt.timedelta(minutes=get_settings().login_lock_minutes + 1)
        conn.execute(update(LoginAttempt).values(at=utcnow() - window))
    assert token_login(client, "alice").status_code == 200
    assert form_login(client, "alice").status_code == 303


def test_a_successful_login_resets_the_failure_count(db):
    c = f.company(db)
    f.user(db, c, "alice")
    client = f.anonymous(db)
    for _ in range(get_settings().login_max_failures - 1):
        token_login(client, "alice", "typo-typo")
    assert token_login(client, "alice").status_code == 200
    token_login(client, "alice", "typo-again")
    assert token_login(client, "alice").status_code == 200


def test_login_rotates_the_session_cookie_and_kills_the_old_one(db):
    c = f.company(db)
    f.user(db, c, "alice")
    client = f.anonymous(db, follow_redirects=False)
    assert form_login(client, "alice").status_code == 303
    before = client.cookies.get(SESSION_COOKIE)
    assert form_login(client, "alice").status_code == 303
    after = client.cookies.get(SESSION_COOKIE)
    assert before and after and before != after
    stale = f.anonymous(db, follow_redirects=False, cookies={SESSION_COOKIE: before})
    assert stale.get("/").status_code == 303  # back to the login page
    fresh = f.anonymous(db, follow_redirects=False, cookies={SESSION_COOKIE: after})
    assert fresh.get("/").status_code == 200


def test_session_cookie_is_httponly_and_samesite(db):
    c = f.company(db)
    f.user(db, c, "alice")
    r = form_login(f.anonymous(db, follow_redirects=False), "alice")
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_logout_kills_the_session(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    cookie = web.cookies.get(SESSION_COOKIE)
    r = web.post("/logout", data={"csrf_token": f.csrf(web)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    replay = f.anonymous(db, follow_redirects=False, cookies={SESSION_COOKIE: cookie})
    assert replay.get("/").status_code == 303
    assert replay.get("/api/v1/me").status_code == 401


def test_idle_session_expires(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    assert web.get("/").status_code == 200
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes + 1)
    shift_sessions(db, last_seen_at=utcnow() - idle)
    r = web.get("/jobs")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/jobs")


def test_session_expires_after_its_absolute_lifetime_even_when_active(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    shift_sessions(db, expires_at=utcnow() - dt.timedelta(seconds=1), last_seen_at=utcnow())
    assert web.get("/").status_code == 303


def test_api_token_expires(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c))
    assert api.get("/api/v1/me").status_code == 200
    shift_sessions(db, expires_at=utcnow() - dt.timedelta(seconds=1))
    assert api.get("/api/v1/me").status_code == 401


def test_disabled_user_is_shut_out_at_once(db):
    c = f.company(db)
    user = f.user(db, c, "leaver")
    api, web = f.api_client(db, user), f.web_client(db, user)
    assert api.get("/api/v1/me").json()["username"] == "leaver"
    set_user_active(db, "leaver", False)
    assert api.get("/api/v1/me").status_code == 401
    assert web.get("/").status_code == 303
    assert token_login(f.anonymous(db), "leaver").status_code == 401


def test_changing_the_password_ends_existing_sessions(db):
    c = f.company(db)
    user = f.user(db, c, "alice")
    api = f.api_client(db, user)
    with UnitOfWork(f.system(c), db=db) as uow:
        auth.set_password(uow, uow.session.scalar(select(User).where(User.username == "alice")), "New-pass-2026!")
    assert api.get("/api/v1/me").status_code == 401
    assert token_login(f.anonymous(db), "alice", "New-pass-2026!").status_code == 200


def test_an_active_session_stays_alive(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c))
    idle = dt.timedelta(minutes=get_settings().session_idle_minutes)
    shift_sessions(db, last_seen_at=utcnow() - idle + dt.timedelta(minutes=1))  # about to time out
    assert web.get("/").status_code == 200  # ... but the user clicks
    with db.readonly_sessionmaker() as s:
        assert utcnow() - s.scalar(select(AuthSession.last_seen_at)) < dt.timedelta(minutes=1)


def test_a_page_session_is_no_api_token_and_vice_versa(db):
    c = f.company(db)
    user = f.user(db, c)
    cookie = f.web_client(db, user).cookies.get(SESSION_COOKIE)
    token = f.api_client(db, user).headers["Authorization"].removeprefix("Bearer ")
    as_bearer = f.anonymous(db, headers={"Authorization": f"Bearer {cookie}"})
    assert as_bearer.get("/api/v1/me").status_code == 401
    as_cookie = f.anonymous(db, follow_redirects=False, cookies={SESSION_COOKIE: token})
    assert as_cookie.get("/").status_code == 303
    assert as_cookie.get("/api/v1/me").status_code == 401


def test_housekeeping_drops_expired_sessions_and_old_attempts_only(db):
    c = f.company(db)
    user = f.user(db, c, "alice")
    live = f.api_client(db, user)
    token_login(f.anonymous(db), "alice", "typo-typo")
    f.api_client(db, user)
    with db.engine.begin() as conn:  # the second token has expired; the failed try is old
        last = conn.execute(select(AuthSession.id).order_by(AuthSession.id.desc())).first()[0]
        conn.execute(update(AuthSession).where(AuthSession.id == last).values(expires_at=utcnow()))
        conn.execute(update(LoginAttempt).where(LoginAttempt.success.is_(False))
                     .values(at=utcnow() - dt.timedelta(days=auth.LOGIN_ATTEMPTS_KEEP_DAYS + 1)))
    assert auth.purge_expired(db) == 2
    assert live.get("/api/v1/me").status_code == 200
    with db.readonly_sessionmaker() as s:
        assert s.scalar(select(func.count()).select_from(LoginAttempt)) == 2  # the two good logins
