"""User and role administration (permission `admin.users`): list, create, edit, reset
password, deactivate; roles with their permission sets.

Users are shared by all companies; an administrator sees the users of the company they
work in and may only hand out companies they can access themselves, permissions they
hold themselves, and superuser rights only when they are a superuser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, String, cast, delete, exists, func, or_, select

from . import auth
from .audit import record
from .auth import Role, RolePermission, User, UserCompany
from .errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from .i18n import SUPPORTED, _
from .i18n import lazy_gettext as _l
from .uow import UnitOfWork

PERMISSION = "admin.users"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ROLE_CODE_RE = re.compile(r"^[a-z][a-z0-9_\-]{0,39}$")
USERNAME_RE = re.compile(r"^[\w.@\-]{1,80}$")
PERMISSION_RE = re.compile(r"^(\*|[a-z][a-z0-9_]*\.(\*|[a-z][a-z0-9_]*))$")

# What a permission lets its holder do, as the role form shows it (the code is shown too).
PERMISSION_LABELS = {
    "*": _l("全部权限"),
    "admin.users": _l("管理用户和角色"),
    "admin.audit": _l("查看审计日志"),
    "admin.modules": _l("启用或停用模块"),
    "admin.companies": _l("管理公司"),
    "core.jobs": _l("查看后台任务"),
    "masterdata.read": _l("查看基础资料"),
    "masterdata.write": _l("维护商品、仓库等基础资料"),
    "masterdata.partners": _l("维护往来单位"),
    "masterdata.boms": _l("维护物料清单"),
    "masterdata.cost": _l("查看和修改成本价"),
    "inventory.read": _l("查看库存"),
    "inventory.write": _l("入库、出库和移库"),
    "inventory.adjust": _l("盘点调整"),
}


def permission_label(code: str) -> str:
    if code in PERMISSION_LABELS:
        return str(PERMISSION_LABELS[code])
    if code.endswith(".*"):
        return _("本模块全部")
    return ""


# ------------------------------------------------------------------ reading users
def _visible_users(uow: UnitOfWork) -> Select:
    """Users of the current company, plus superusers bound to no company (they reach all)."""
    in_company = select(UserCompany.user_id).where(UserCompany.company_id == uow.company_id)
    unbound = ~exists().where(UserCompany.user_id == User.id)
    return select(User).where(or_(User.id.in_(in_company), User.is_superuser.is_(True) & unbound))


def list_users(uow: UnitOfWork, *, q: str | None = None, active: bool | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[User], int]:
    uow.actor.require(PERMISSION)
    stmt = _visible_users(uow)
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.display_name).like(like),
                              func.lower(cast(User.email, String)).like(like)))
    if active is not None:
        stmt = stmt.where(User.is_active.is_(active))
    total = uow.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = uow.session.scalars(stmt.order_by(User.username, User.id).limit(max(1, min(limit, 1000)))
                               .offset(max(0, offset)))
    return list(rows), total


def get_user(uow: UnitOfWork, user_id: int, *, for_update: bool = False) -> User:
    uow.actor.require(PERMISSION)
    stmt = _visible_users(uow).where(User.id == user_id)
    if for_update:
        stmt = stmt.with_for_update(of=User)
    user = uow.session.scalars(stmt).first()
    if user is None:
        raise NotFound(_("用户不存在：#{id}", id=user_id))
    return user


def user_dict(uow: UnitOfWork, user: User) -> dict:
    """What the API shows of a user: never the password hash; only companies the caller may see."""
    return {
        "id": user.id, "username": user.username, "display_name": user.display_name, "email": user.email,
        "locale": user.locale, "is_active": user.is_active, "is_superuser": user.is_superuser,
        "roles": sorted(r.code for r in user.roles),
        "company_ids": sorted(c.company_id for c in user.companies if c.company_id in uow.actor.company_ids),
        "default_company_id": user.default_company_id,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
    }


# ------------------------------------------------------------------ writing users
@dataclass
class UserInput:
    """Fields of the user form / API body; None means "leave as it is"."""

    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    locale: str | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    roles: list[str] | None = None
    company_ids: list[int] | None = None


def _check_fields(data: UserInput) -> None:
    if data.email:
        data.email = data.email.strip()
        if not EMAIL_RE.match(data.email) or len(data.email) > 200:
            raise ValidationFailed(_("邮箱格式不正确：{v}", v=data.email), field="email")
    if data.locale is not None and data.locale not in SUPPORTED:
        raise ValidationFailed(_("不支持的语言：{v}", v=data.locale), field="locale")
    if data.display_name is not None and len(data.display_name.strip()) > 120:
        raise ValidationFailed(_("显示名称最多 {n} 个字符", n=120), field="display_name")


def _check_superuser_change(uow: UnitOfWork, target: User | None, data: UserInput) -> None:
    if uow.actor.is_superuser:
        return
    if data.is_superuser or (target is not None and target.is_superuser):
        raise PermissionDenied(_("只有超级管理员可以设置或修改超级管理员"), field="is_superuser")


def _roles(uow: UnitOfWork, codes: list[str]) -> list[Role]:
    roles = []
    for code in dict.fromkeys(c.strip() for c in codes if c and c.strip()):
        role = uow.session.scalar(select(Role).where(Role.code == code))
        if role is None:
            raise ValidationFailed(_("角色不存在：{code}", code=code), field="roles")
        for perm in role.permission_codes:
            if not uow.actor.can(perm):
                raise PermissionDenied(_("不能分配超出自己权限的角色：{code}", code=code), field="roles")
        roles.append(role)
    return roles


def _companies(uow: UnitOfWork, requested: list[int], current: set[int]) -> list[int]:
    """The user's new company set: the caller decides only about the companies they may access;
    the others the user already has stay as they are."""
    mine = uow.actor.company_ids
    requested = list(dict.fromkeys(int(c) for c in requested))
    for cid in requested:
        if cid not in mine:
            raise ValidationFailed(_("不能分配您无权访问的公司：#{id}", id=cid), field="company_ids")
    return requested + sorted(c for c in current if c not in mine)


def _audit_links(uow: UnitOfWork, user: User, before: dict) -> None:
    after = {"roles": sorted(r.code for r in user.roles), "company_ids": sorted(c.company_id for c in user.companies)}
    changed_before = {k: v for k, v in before.items() if after[k] != v}
    if changed_before:
        record(uow.session, "update", "auth_user", user.id, before=changed_before,
               after={k: after[k] for k in changed_before})


def create_user(uow: UnitOfWork, data: UserInput, password: str) -> User:
    uow.actor.require(PERMISSION)
    username = (data.username or "").strip()
    if not username:
        raise ValidationFailed(_("请输入用户名"), field="username")
    if not USERNAME_RE.match(username):
        raise ValidationFailed(_("用户名只能包含字母、数字、汉字和 . _ - @"), field="username")
    _check_fields(data)
    _check_superuser_change(uow, None, data)
    roles = _roles(uow, data.roles or [])
    companies = _companies(uow, data.company_ids if data.company_ids else [uow.company_id], set())
    user = auth.create_user(uow, username=username, password=password,
                            display_name=(data.display_name or "").strip(), email=data.email or None,
                            roles=[], company_ids=companies, is_superuser=bool(data.is_superuser),
                            locale=data.locale or "zh_CN")
    user.roles = roles
    if data.is_active is False:
        user.is_active = False
    uow.session.flush()
    if roles:
        record(uow.session, "update", "auth_user", user.id, before={"roles": []},
               after={"roles": sorted(r.code for r in roles)})
    return user


def update_user(uow: UnitOfWork, user_id: int, data: UserInput) -> User:
    user = get_user(uow, user_id, for_update=True)
    _check_fields(data)
    _check_superuser_change(uow, user, data)
    if data.username is not None and data.username.strip() != user.username:
        raise ValidationFailed(_("用户名不能修改"), field="username")
    if user.id == uow.actor.user_id and (data.is_active is False or (data.is_superuser is False
                                         and user.is_superuser)):
        raise ValidationFailed(_("不能停用或降级自己的账号"), field="is_active")
    before = {"roles": sorted(r.code for r in user.roles),
              "company_ids": sorted(c.company_id for c in user.companies)}
    if data.display_name is not None:
        user.display_name = data.display_name.strip() or user.username
    if data.email is not None:
        user.email = data.email or None
    if data.locale is not None:
        user.locale = data.locale
    if data.is_superuser is not None:
        user.is_superuser = data.is_superuser
    if data.roles is not None:
        keep = [r for r in user.roles if not all(uow.actor.can(p) for p in r.permission_codes)]
        user.roles = keep + [r for r in _roles(uow, data.roles) if r not in keep]
    if data.company_ids is not None:
        companies = _companies(uow, data.company_ids, set(before["company_ids"]))
        if not companies and not user.is_superuser:
            raise ValidationFailed(_("请至少选择一个公司"), field="company_ids")
        have = {c.company_id: c for c in user.companies}
        user.companies = [have.get(cid) or UserCompany(company_id=cid) for cid in companies]
        if user.default_company_id not in companies:
            user.default_company_id = companies[0] if companies else None
    if data.is_active is not None and data.is_active != user.is_active:
        user.is_active = data.is_active
        if not data.is_active:
            _end_sessions(uow, user)
    uow.session.flush()
    _audit_links(uow, user, before)
    return user


def reset_password(uow: UnitOfWork, user_id: int, password: str) -> User:
    """Set a new password (policy enforced); the user's open sessions and tokens end."""
    user = get_user(uow, user_id, for_update=True)
    _check_superuser_change(uow, user, UserInput())
    auth.set_password(uow, user, password)
    user.failed_logins = 0
    user.locked_until = None
    record(uow.session, "password_reset", "auth_user", user.id, after={"username": user.username})
    return user


def deactivate_user(uow: UnitOfWork, user_id: int) -> User:
    return update_user(uow, user_id, UserInput(is_active=False))


def _end_sessions(uow: UnitOfWork, user: User) -> None:
    uow.session.execute(delete(auth.AuthSession).where(auth.AuthSession.user_id == user.id))


# ------------------------------------------------------------------ roles
def list_roles(uow: UnitOfWork, *, q: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[Role], int]:
    uow.actor.require(PERMISSION)
    stmt = select(Role)
    if q and q.strip():
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(Role.code).like(like), func.lower(Role.name).like(like)))
    total = uow.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = uow.session.scalars(stmt.order_by(Role.code).limit(max(1, min(limit, 1000))).offset(max(0, offset)))
    return list(rows), total


def get_role(uow: UnitOfWork, role_id: int) -> Role:
    uow.actor.require(PERMISSION)
    role = uow.session.get(Role, role_id)
    if role is None:
        raise NotFound(_("角色不存在：#{id}", id=role_id))
    return role


def role_dict(role: Role, user_count: int | None = None) -> dict:
    out = {"id": role.id, "code": role.code, "name": role.name, "description": role.description,
           "permissions": role.permission_codes}
    if user_count is not None:
        out["user_count"] = user_count
    return out


def role_user_counts(uow: UnitOfWork, role_ids: list[int]) -> dict[int, int]:
    """Users of the current company holding each role."""
    if not role_ids:
        return {}
    visible = _visible_users(uow).with_only_columns(User.id).scalar_subquery()
    rows = uow.session.execute(select(auth.UserRole.role_id, func.count()).where(
        auth.UserRole.role_id.in_(role_ids), auth.UserRole.user_id.in_(visible)).group_by(auth.UserRole.role_id))
    return dict(rows.all())


def known_permissions() -> set[str]:
    from opensupply import registry

    known = {"*"}
    for m in registry.modules():
        known.update(m.permissions)
        if m.name != "core":
            known.add(f"{m.name}.*")
    return known


def permission_groups() -> list[dict]:
    """Permissions as the role form shows them: one group per module (label, codes)."""
    from opensupply import registry

    groups = []
    for m in registry.modules():
        perms = list(m.permissions)
        if m.name != "core":
            perms.insert(0, f"{m.name}.*")
        groups.append({"module": m.name, "label": str(m.label), "permissions": perms,
                       "labels": {p: permission_label(p) for p in perms}})
    return groups


def _clean_permissions(uow: UnitOfWork, permissions: list[str], existing: set[str]) -> list[str]:
    known = known_permissions() | existing
    out = []
    for perm in dict.fromkeys(p.strip() for p in permissions if p and p.strip()):
        if not PERMISSION_RE.match(perm) or perm not in known:
            raise ValidationFailed(_("未知权限：{p}", p=perm), field="permissions")
        if perm not in existing and not uow.actor.can(perm):
            raise PermissionDenied(_("不能授予自己没有的权限：{p}", p=perm), field="permissions")
        out.append(perm)
    return sorted(out)


def _set_permissions(uow: UnitOfWork, role: Role, permissions: list[str]) -> None:
    before = role.permission_codes
    if permissions == before:
        return
    have = {p.permission: p for p in role.permissions}
    role.permissions = [have.get(p) or RolePermission(permission=p) for p in permissions]
    uow.session.flush()
    record(uow.session, "update", "auth_role", role.id, before={"permissions": before},
           after={"permissions": permissions})


def create_role(uow: UnitOfWork, *, code: str, name: str, description: str = "",
                permissions: list[str] = ()) -> Role:
    uow.actor.require(PERMISSION)
    code = (code or "").strip().lower()
    if not ROLE_CODE_RE.match(code):
        raise ValidationFailed(_("角色编码只能包含小写字母、数字、- 和 _，且以字母开头"), field="code")
    if not (name or "").strip():
        raise ValidationFailed(_("请输入角色名称"), field="name")
    if uow.session.scalar(select(Role.id).where(Role.code == code)):
        raise Conflict(_("角色编码已存在：{code}", code=code), field="code")
    perms = _clean_permissions(uow, list(permissions), set())
    role = Role(code=code, name=name.strip()[:120], description=(description or "").strip()[:500])
    uow.session.add(role)
    uow.session.flush()
    _set_permissions(uow, role, perms)
    return role


def update_role(uow: UnitOfWork, role_id: int, *, name: str | None = None, description: str | None = None,
                permissions: list[str] | None = None) -> Role:
    role = get_role(uow, role_id)
    current = set(role.permission_codes)
    if not all(uow.actor.can(p) for p in current):
        raise PermissionDenied(_("不能修改权限超出自己的角色：{code}", code=role.code))
    if name is not None:
        if not name.strip():
            raise ValidationFailed(_("请输入角色名称"), field="name")
        role.name = name.strip()[:120]
    if description is not None:
        role.description = description.strip()[:500]
    uow.session.flush()
    if permissions is not None:
        _set_permissions(uow, role, _clean_permissions(uow, permissions, current))
    return role
