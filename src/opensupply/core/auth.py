"""Users, roles and permissions; password login with lockout; server-side sessions and API tokens.

Permissions are strings `<module>.<action>` (`masterdata.read`, `inventory.write`,
`admin.users`); `<module>.*` and `*` grant everything below them. Sessions and tokens
are rows (only a hash of the secret is stored), so any number of web processes
share them and logging out or locking a user takes effect at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .audit import record
from .config import get_settings
from .db import Base, write_briefly
from .errors import Conflict, NotAuthenticated, ValidationFailed
from .i18n import _
from .models import BigId, Entity
from .types import UTCDateTime, utcnow
from .uow import Actor, UnitOfWork

log = logging.getLogger(__name__)
_hasher = PasswordHasher()
TOUCH_WAIT_MS = 200
MIN_PASSWORD_LENGTH = 8


class User(Entity, Base):
    __tablename__ = "auth_user"
    __label__ = "用户"

    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    default_company_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("company.id"))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    roles: Mapped[list[Role]] = relationship(secondary="auth_user_role", lazy="selectin")
    companies: Mapped[list[UserCompany]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class Role(Entity, Base):
    __tablename__ = "auth_role"
    __label__ = "角色"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500), default="")
    permissions: Mapped[list[RolePermission]] = relationship(lazy="selectin", cascade="all, delete-orphan")

    @property
    def permission_codes(self) -> list[str]:
        return sorted(p.permission for p in self.permissions)


class RolePermission(Base):
    __tablename__ = "auth_role_permission"
    __audit__ = False

    role_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_role.id", ondelete="CASCADE"), primary_key=True)
    permission: Mapped[str] = mapped_column(String(80), primary_key=True)


class UserRole(Base):
    __tablename__ = "auth_user_role"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_role.id", ondelete="CASCADE"), primary_key=True)


class UserCompany(Base):
    """Companies a user may work in; every query is scoped to one of them."""

    __tablename__ = "auth_user_company"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_user.id", ondelete="CASCADE"), primary_key=True)
    company_id: Mapped[int] = mapped_column(BigId, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True)


class AuthSession(Base):
    __tablename__ = "auth_session"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("auth_user.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # web | api
    csrf_token: Mapped[str] = mapped_column(String(64), default="")
    company_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginAttempt(Base):
    __tablename__ = "auth_login_attempt"
    __audit__ = False

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean)


# ---------------------------------------------------------------- passwords
def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_hex(16))


def check_password_policy(password: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_("密码至少 {n} 位", n=MIN_PASSWORD_LENGTH), field="password")
    if username and password.lower() == username.lower():
        raise ValidationFailed(_("密码不能与用户名相同"), field="password")
    if password.lower() in COMMON_PASSWORDS:
        raise ValidationFailed(_("密码过于常见，请换一个"), field="password")


COMMON_PASSWORDS = {
    "12345678", "123456789", "1234567890", "password", "password1", "qwertyui", "11111111",
    "88888888", "66666666", "abc12345", "iloveyou", "1qaz2wsx", "qwe12345", "a1234567", "admin123",
    "admin1234", "woaini1314", "00000000", "aa123456", "zxcvbnm1", "123123123", "87654321",
}


# ------------------------------------------------------------------ users
def create_user(uow: UnitOfWork, *, username: str, password: str, display_name: str = "",
                email: str | None = None, roles: list[str] = (), company_ids: list[int] = (),
                is_superuser: bool = False, locale: str = "zh_CN", check_policy: bool = True) -> User:
    username = username.strip()
    if not username:
        raise ValidationFailed(_("请输入用户名"), field="username")
    if uow.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())):
        raise Conflict(_("用户名已存在：{username}", username=username), field="username")
    if check_policy:
        check_password_policy(password, username)
    user = User(username=username, display_name=display_name or username, email=email,
                password_hash=hash_password(password), is_superuser=is_superuser, locale=locale,
                default_company_id=company_ids[0] if company_ids else None)
    user.roles = [_role(uow.session, code) for code in roles]
    user.companies = [UserCompany(company_id=c) for c in company_ids]
    uow.session.add(user)
    uow.session.flush()
    return user


def set_password(uow: UnitOfWork, user: User, password: str) -> None:
    check_password_policy(password, user.username)
    user.password_hash = hash_password(password)
    uow.session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))


def _role(session: Session, code: str) -> Role:
    role = session.scalar(select(Role).where(Role.code == code))
    if role is None:
        raise ValidationFailed(_("角色不存在：{code}", code=code), field="roles")
    return role


def ensure_role(uow: UnitOfWork, code: str, name: str, permissions: list[str], description: str = "") -> Role:
    role = uow.session.scalar(select(Role).where(Role.code == code))
    if role is None:
        role = Role(code=code, name=name, description=description)
        uow.session.add(role)
    have = {p.permission for p in role.permissions}
    for perm in permissions:
        if perm not in have:
            role.permissions.append(RolePermission(permission=perm))
    uow.session.flush()
    return role


def permissions_of(user: User) -> frozenset[str]:
    return frozenset(p.permission for role in user.roles for p in role.permissions)


def actor_for_user(session: Session, user_id: int, company_id: int | None = None, ip: str | None = None) -> Actor:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated(_("用户不存在或已停用"))
    company_ids = frozenset(c.company_id for c in user.companies)
    if user.is_superuser and not company_ids:
        from opensupply.masterdata.models import Company

        company_ids = frozenset(session.scalars(select(Company.id)))
    if company_id not in company_ids:
        company_id = user.default_company_id if user.default_company_id in company_ids else (
            min(company_ids) if company_ids else None)
    return Actor(user.id, user.username, company_id, company_ids, permissions_of(user),
                 user.is_superuser, user.locale, ip)


# ------------------------------------------------------------------ login
@dataclass
class LoginResult:
    user: User
    token: str
    session: AuthSession


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(uow: UnitOfWork, username: str, password: str, *, kind: str = "web",
          ip: str | None = None) -> LoginResult | None:
    """Check a password; on success open a session (web) or token (api).

    A wrong password returns None *and records the attempt* — the caller lets the unit
    of work commit and then answers 401, so the failure counts. Too many failures for a
    username, or from one address, lock further tries for a while (raises)."""
    settings = get_settings()
    s = uow.session
    now = utcnow()
    username = (username or "").strip()[:80]
    key = username.lower()  # attempts count per account, however the name is capitalised
    window = now - dt.timedelta(minutes=settings.login_lock_minutes)
    failures = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= window,
                                                                    LoginAttempt.success.is_(False))
    # a successful login wipes the slate for the account (not for the address)
    last_ok = s.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == key, LoginAttempt.success.is_(True), LoginAttempt.at >= window))
    by_user = s.scalar(failures.where(LoginAttempt.username == key,
                                      *([LoginAttempt.at > last_ok] if last_ok else [])))
    by_ip = s.scalar(failures.where(LoginAttempt.ip == ip)) if ip else 0
    if by_user >= settings.login_max_failures or by_ip >= settings.login_max_failures * 4:
        raise NotAuthenticated(_("登录失败次数过多，请 {m} 分钟后再试", m=settings.login_lock_minutes),
                               code="locked")
    user = s.scalar(select(User).where(func.lower(User.username) == key))
    if user is None:
        verify_password(_dummy_hash(), password or "")  # same time as a real check: no probing for names
    ok = bool(user and user.is_active and verify_password(user.password_hash, password or ""))
    s.add(LoginAttempt(username=key, ip=ip, at=now, success=ok))
    if not ok:
        record(s, "login_failed", "auth_user", user.id if user else None, after={"username": username, "ip": ip},
               company_id=user.default_company_id if user else None)
        return None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    hours = settings.api_token_hours if kind == "api" else settings.session_absolute_hours
    sess = AuthSession(token_hash=_digest(token), user_id=user.id, kind=kind, csrf_token=secrets.token_urlsafe(24),
                       created_at=now, last_seen_at=now, expires_at=now + dt.timedelta(hours=hours), ip=ip,
                       company_id=user.default_company_id)
    s.add(sess)
    s.flush()
    return LoginResult(user, token, sess)


def resolve_token(session: Session, token: str, kind: str) -> AuthSession | None:
    """The live session behind a cookie or bearer token, or None. Touches last_seen_at
    (at most once a minute, to keep reads cheap) and enforces the idle timeout for pages.
    `session` may be read-only: the touch is written on a connection of its own."""
    if not token:
        return None
    row = session.scalar(select(AuthSession).where(AuthSession.token_hash == _digest(token),
                                                   AuthSession.kind == kind))
    now = utcnow()
    if row is None or row.expires_at <= now:
        return None
    if kind == "web":
        idle = dt.timedelta(minutes=get_settings().session_idle_minutes)
        if now - row.last_seen_at > idle:
            return None
    if now - row.last_seen_at > dt.timedelta(minutes=1):
        _touch(session, row.id, now)
    return row


def _touch(session: Session, session_id: int, now: dt.datetime) -> None:
    """Best effort: a request must not queue behind a long write (an import holding SQLite's
    lock) just to note that it was here; skipping a touch only shortens an idle session by a minute."""
    stamp = update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now)
    if not write_briefly(session.get_bind(), stamp, TOUCH_WAIT_MS):
        log.info("session %s: last-seen touch skipped, database busy", session_id)


LOGIN_ATTEMPTS_KEEP_DAYS = 30  # failures are in the audit trail as well


def purge_expired(db) -> int:
    """Housekeeping for the worker: drop sessions and tokens past their expiry and old login
    attempts, so the tables every request reads do not grow without end. Returns rows removed."""
    now = utcnow()
    with db.sessionmaker.begin() as s:
        gone = s.execute(delete(AuthSession).where(AuthSession.expires_at < now)).rowcount
        old = now - dt.timedelta(days=LOGIN_ATTEMPTS_KEEP_DAYS)
        return gone + s.execute(delete(LoginAttempt).where(LoginAttempt.at < old)).rowcount


def logout(uow: UnitOfWork, token: str) -> None:
    uow.session.execute(delete(AuthSession).where(AuthSession.token_hash == _digest(token)))


def switch_company(uow: UnitOfWork, sess: AuthSession, company_id: int) -> None:
    if company_id not in uow.actor.company_ids:
        raise ValidationFailed(_("无权访问该公司"), field="company_id")
    s = uow.session.merge(sess)
    s.company_id = company_id


# --------------------------------------------------------------- roles
# Preset roles a new company starts with; admins can edit them.
PRESET_ROLES: dict[str, tuple[str, list[str]]] = {
    "admin": ("管理员", ["*"]),
    "sales": ("销售", ["masterdata.read", "masterdata.partners", "inventory.read", "crm.*", "erp.read", "erp.sales",
                     "oms.*"]),
    # in a small company the buyer is also the material planner (PMC): runs MRP, firms planned purchases, RFQs
    "buyer": ("采购", ["masterdata.read", "masterdata.write", "inventory.read", "erp.read", "erp.purchase",
                     "erp.reports", "erp.planning", "erp.planning_run", "srm.*", "scm.*", "plm.read",
                     "plm.approve.purchasing"]),
    "warehouse": ("仓管", ["masterdata.read", "inventory.read", "inventory.write", "wms.*", "tms.read", "mes.read",
                         "mes.feed"]),
    "production": ("生产", ["masterdata.read", "masterdata.boms", "inventory.read", "inventory.write", "mes.*",
                          "plm.*", "erp.planning"]),  # sees planned work orders and the capacity check
    "finance": ("财务", ["masterdata.read", "inventory.read", "accounting.*", "erp.read", "erp.invoicing",
                    "erp.payments", "erp.reports", "oms.read", "oms.settle", "tms.read", "tms.settle"]),
}


def ensure_preset_roles(uow: UnitOfWork) -> dict[str, Role]:
    return {code: ensure_role(uow, code, name, perms) for code, (name, perms) in PRESET_ROLES.items()}
