"""Administration pages: users (/admin/users), roles (/admin/roles) and the audit viewer (/admin/audit)."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from opensupply.core import admin_audit, audit, users
from opensupply.core.errors import DomainError, ValidationFailed
from opensupply.core.http import Page, page_permission
from opensupply.core.i18n import SUPPORTED, _
from opensupply.core.tabular import write_csv, write_xlsx
from opensupply.core.uow import UnitOfWork
from opensupply.web import redirect, render

router = APIRouter(prefix="/admin", include_in_schema=False)
ADMIN = Depends(page_permission(users.PERMISSION))
AUDITOR = Depends(page_permission(admin_audit.PERMISSION))
PAGE_SIZE = 50
BOOL_ON = {"1", "on", "true", "yes"}


def _pager(total: int, offset: int, params: dict) -> dict:
    keep = urllib.parse.urlencode({k: v for k, v in params.items() if v not in (None, "") and k != "offset"})
    return {"total": total, "offset": offset, "limit": PAGE_SIZE, "query": keep}


# ------------------------------------------------------------------ users
@router.get("/users")
def users_page(q: str | None = None, active: str | None = None, offset: int = Query(0, ge=0), p: Page = ADMIN):
    flag = {"1": True, "0": False}.get(active or "")
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = users.list_users(uow, q=q, active=flag, limit=PAGE_SIZE, offset=offset)
        items = [{**users.user_dict(uow, u), "last_login": u.last_login_at,
                  "role_names": sorted(r.name for r in u.roles)} for u in rows]
    return render(p, "admin/users.html", items=items, q=q or "", active=active or "",
                  pager=_pager(total, offset, {"q": q, "active": active}))


def _user_form(p: Page, values: dict, user_id: int | None = None, error: DomainError | None = None):
    with UnitOfWork(p.actor, readonly=True) as uow:
        roles, _n = users.list_roles(uow, limit=1000)
        role_options = [{"code": r.code, "name": r.name, "grantable": all(p.actor.can(x) for x in r.permission_codes)}
                        for r in roles]
    return render(p, "admin/user_form.html", status_code=error.status if error else 200, values=values,
                  user_id=user_id, role_options=role_options, locales=SUPPORTED,
                  error=error.message if error else None, error_field=error.field if error else None)


def _form_input(form) -> users.UserInput:
    return users.UserInput(
        username=form.get("username"), display_name=form.get("display_name", ""), email=form.get("email", ""),
        locale=form.get("locale") or "zh_CN", is_active=form.get("is_active", "") in BOOL_ON,
        is_superuser=form.get("is_superuser", "") in BOOL_ON, roles=form.getlist("roles"),
        company_ids=[int(c) for c in form.getlist("company_ids") if str(c).isdigit()])


@router.get("/users/new")
def new_user_page(p: Page = ADMIN):
    return _user_form(p, {"locale": "zh_CN", "is_active": True, "roles": [], "company_ids": [p.actor.company_id]})


@router.post("/users/new")
async def create_user(request: Request, p: Page = ADMIN):
    form = await request.form()
    data = _form_input(form)
    try:
        with UnitOfWork(p.actor) as uow:
            user = users.create_user(uow, data, form.get("password", ""))
            user_id = user.id
    except DomainError as exc:
        return _user_form(p, {**data.__dict__, "username": data.username}, error=exc)
    return redirect(f"/admin/users/{user_id}", _("用户已创建"))


@router.get("/users/{user_id}")
def user_page(user_id: int, p: Page = ADMIN):
    with UnitOfWork(p.actor, readonly=True) as uow:
        user = users.get_user(uow, user_id)
        item = users.user_dict(uow, user)
        item["last_login"] = user.last_login_at
        role_names = {r.code: r.name for r in user.roles}
        trail = audit.history(uow.session, "auth_user", user.id, uow.company_id)
        # rendered inside the unit of work: the audit rows are ORM objects of its session
        return render(p, "admin/user_detail.html", user=item, role_names=role_names, audit_rows=trail,
                      audit_dumps=audit.dumps)


@router.get("/users/{user_id}/edit")
def edit_user_page(user_id: int, p: Page = ADMIN):
    with UnitOfWork(p.actor, readonly=True) as uow:
        values = users.user_dict(uow, users.get_user(uow, user_id))
    return _user_form(p, values, user_id=user_id)


@router.post("/users/{user_id}/edit")
async def update_user(user_id: int, request: Request, p: Page = ADMIN):
    form = await request.form()
    data = _form_input(form)
    data.username = None
    try:
        with UnitOfWork(p.actor) as uow:
            users.update_user(uow, user_id, data)
    except DomainError as exc:
        if exc.status == 404:
            raise
        with UnitOfWork(p.actor, readonly=True) as uow:
            username = users.get_user(uow, user_id).username
        return _user_form(p, {**data.__dict__, "username": username}, user_id=user_id, error=exc)
    return redirect(f"/admin/users/{user_id}", _("已保存"))


@router.post("/users/{user_id}/password")
async def reset_password(user_id: int, request: Request, p: Page = ADMIN):
    form = await request.form()
    password, confirm = form.get("password", ""), form.get("password_confirm", "")
    try:
        if password != confirm:
            raise ValidationFailed(_("两次输入的密码不一致"), field="password_confirm")
        with UnitOfWork(p.actor) as uow:
            users.reset_password(uow, user_id, password)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/admin/users/{user_id}", exc.message, kind="error")
    return redirect(f"/admin/users/{user_id}", _("密码已重置，该用户需重新登录"))


@router.post("/users/{user_id}/deactivate")
def deactivate_user(user_id: int, p: Page = ADMIN):
    try:
        with UnitOfWork(p.actor) as uow:
            users.deactivate_user(uow, user_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return redirect(f"/admin/users/{user_id}", exc.message, kind="error")
    return redirect(f"/admin/users/{user_id}", _("用户已停用"))


# ------------------------------------------------------------------ roles
@router.get("/roles")
def roles_page(q: str | None = None, offset: int = Query(0, ge=0), p: Page = ADMIN):
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = users.list_roles(uow, q=q, limit=PAGE_SIZE, offset=offset)
        counts = users.role_user_counts(uow, [r.id for r in rows])
        items = [users.role_dict(r, counts.get(r.id, 0)) for r in rows]
    return render(p, "admin/roles.html", items=items, q=q or "", pager=_pager(total, offset, {"q": q}))


def _role_form(p: Page, values: dict, role_id: int | None = None, error: DomainError | None = None):
    groups = users.permission_groups()
    listed = {perm for g in groups for perm in g["permissions"]} | {"*"}
    other = sorted(set(values.get("permissions") or []) - listed)
    return render(p, "admin/role_form.html", status_code=error.status if error else 200, values=values,
                  role_id=role_id, groups=groups, other_permissions=other,
                  error=error.message if error else None, error_field=error.field if error else None)


@router.get("/roles/new")
def new_role_page(p: Page = ADMIN):
    return _role_form(p, {"code": "", "name": "", "description": "", "permissions": []})


@router.post("/roles/new")
async def create_role(request: Request, p: Page = ADMIN):
    form = await request.form()
    values = {"code": form.get("code", ""), "name": form.get("name", ""),
              "description": form.get("description", ""), "permissions": form.getlist("permissions")}
    try:
        with UnitOfWork(p.actor) as uow:
            role_id = users.create_role(uow, **values).id
    except DomainError as exc:
        return _role_form(p, values, error=exc)
    return redirect(f"/admin/roles/{role_id}", _("角色已创建"))


@router.get("/roles/{role_id}")
def role_page(role_id: int, p: Page = ADMIN):
    with UnitOfWork(p.actor, readonly=True) as uow:
        values = users.role_dict(users.get_role(uow, role_id))
    return _role_form(p, values, role_id=role_id)


@router.post("/roles/{role_id}")
async def update_role(role_id: int, request: Request, p: Page = ADMIN):
    form = await request.form()
    values = {"name": form.get("name", ""), "description": form.get("description", ""),
              "permissions": form.getlist("permissions")}
    try:
        with UnitOfWork(p.actor) as uow:
            users.update_role(uow, role_id, **values)
    except DomainError as exc:
        if exc.status == 404:
            raise
        with UnitOfWork(p.actor, readonly=True) as uow:
            code = users.get_role(uow, role_id).code
        return _role_form(p, {**values, "code": code}, role_id=role_id, error=exc)
    return redirect(f"/admin/roles/{role_id}", _("已保存"))


# ------------------------------------------------------------------ audit
def _record_pages() -> dict[str, str]:
    """Table name → page of its records, so an audit row links to what it changed."""
    from opensupply.core import resource as rs

    pages = {res.model.__tablename__: res.page_path for res in rs.resources()}
    pages.update({"auth_user": "/admin/users", "auth_role": "/admin/roles"})
    return pages


def _audit_filter(request: Request) -> admin_audit.AuditFilter:
    qp = request.query_params
    return admin_audit.AuditFilter.parse(**{k: qp.get(k) for k in (
        "entity", "entity_id", "username", "action", "date_from", "date_to")})


@router.get("/audit")
def audit_page(request: Request, offset: int = Query(0, ge=0), p: Page = AUDITOR):
    try:
        flt = _audit_filter(request)
        error = None
    except DomainError as exc:
        flt, error = admin_audit.AuditFilter(), exc.message
    with UnitOfWork(p.actor, readonly=True) as uow:
        rows, total = admin_audit.search(uow, flt, limit=PAGE_SIZE, offset=offset)
        options = admin_audit.choices(uow)
        params = flt.as_params()
        return render(p, "admin/audit.html", rows=rows, filters=params, options=options, error=error,
                      audit_dumps=audit.dumps, export_query=urllib.parse.urlencode(params),
                      record_pages=_record_pages(), pager=_pager(total, offset, params))


@router.get("/audit/export")
def audit_export(request: Request, format: str = Query("xlsx", pattern="^(csv|xlsx)$"), p: Page = AUDITOR):
    flt = _audit_filter(request)
    with UnitOfWork(p.actor, readonly=True) as uow:
        header, rows = admin_audit.export_table(uow, flt)
    if format == "csv":
        return Response(write_csv(header, rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
    return Response(write_xlsx(header, rows, "audit"),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="audit.xlsx"'})
