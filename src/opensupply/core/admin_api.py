"""REST endpoints for administration: /api/v1/users, /api/v1/roles, /api/v1/permissions.

Lists take ?q=&limit=&offset= and answer {"items", "total"}; password hashes never leave."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from . import users
from .http import require
from .uow import Actor, UnitOfWork

router = APIRouter(tags=["admin"])
ADMIN = Depends(require(users.PERMISSION))


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=80)
    password: str = Field(max_length=200)
    display_name: str = Field("", max_length=120)
    email: str | None = Field(None, max_length=200)
    locale: str = "zh_CN"
    is_active: bool = True
    is_superuser: bool = False
    roles: list[str] = []
    company_ids: list[int] = []


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, max_length=120)
    email: str | None = Field(None, max_length=200)
    locale: str | None = None
    is_active: bool | None = None
    is_superuser: bool | None = None
    roles: list[str] | None = None
    company_ids: list[int] | None = None


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=200)


class RoleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=40)
    name: str = Field(max_length=120)
    description: str = Field("", max_length=500)
    permissions: list[str] = []


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=500)
    permissions: list[str] | None = None


# ------------------------------------------------------------------ users
@router.get("/users", summary="List users of the current company")
def list_users(q: str | None = None, active: bool | None = None, limit: int = Query(50, ge=1, le=1000),
               offset: int = Query(0, ge=0), actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = users.list_users(uow, q=q, active=active, limit=limit, offset=offset)
        return {"items": [users.user_dict(uow, u) for u in rows], "total": total}


@router.get("/users/{user_id}", summary="Read one user")
def get_user(user_id: int, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return users.user_dict(uow, users.get_user(uow, user_id))


@router.post("/users", status_code=201, summary="Create a user")
def create_user(body: UserCreate, actor: Actor = ADMIN) -> dict:
    data = body.model_dump(exclude={"password"})
    with UnitOfWork(actor) as uow:
        user = users.create_user(uow, users.UserInput(**data), body.password)
        return users.user_dict(uow, user)


@router.patch("/users/{user_id}", summary="Change a user (roles, companies, active, …)")
def update_user(user_id: int, body: UserUpdate, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        user = users.update_user(uow, user_id, users.UserInput(**body.model_dump(exclude_unset=True)))
        return users.user_dict(uow, user)


@router.post("/users/{user_id}/password", summary="Reset a user's password (ends their sessions)")
def reset_password(user_id: int, body: PasswordIn, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return users.user_dict(uow, users.reset_password(uow, user_id, body.password))


@router.post("/users/{user_id}/deactivate", summary="Deactivate a user (ends their sessions)")
def deactivate_user(user_id: int, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return users.user_dict(uow, users.deactivate_user(uow, user_id))


# ------------------------------------------------------------------ roles
@router.get("/roles", summary="List roles")
def list_roles(q: str | None = None, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
               actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        rows, total = users.list_roles(uow, q=q, limit=limit, offset=offset)
        counts = users.role_user_counts(uow, [r.id for r in rows])
        return {"items": [users.role_dict(r, counts.get(r.id, 0)) for r in rows], "total": total}


@router.get("/roles/{role_id}", summary="Read one role")
def get_role(role_id: int, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor, readonly=True) as uow:
        return users.role_dict(users.get_role(uow, role_id))


@router.post("/roles", status_code=201, summary="Create a role")
def create_role(body: RoleCreate, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return users.role_dict(users.create_role(uow, **body.model_dump()))


@router.patch("/roles/{role_id}", summary="Change a role's name or permissions")
def update_role(role_id: int, body: RoleUpdate, actor: Actor = ADMIN) -> dict:
    with UnitOfWork(actor) as uow:
        return users.role_dict(users.update_role(uow, role_id, **body.model_dump(exclude_unset=True)))


@router.get("/permissions", summary="Permissions a role can hold, grouped per module")
def permissions(actor: Actor = ADMIN) -> dict:
    groups = users.permission_groups()
    return {"items": groups, "total": len(groups)}
