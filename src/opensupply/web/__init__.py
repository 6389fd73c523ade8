"""Page rendering shared by every module: the Jinja2 environment, layout context, flash messages."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from opensupply import registry
from opensupply.core import i18n
from opensupply.core.http import Page

PKG = Path(__file__).resolve().parent.parent
FLASH_COOKIE = "os_flash"


def _loader() -> ChoiceLoader:
    dirs = [PKG / "web" / "templates"]
    dirs += [p for p in sorted(PKG.glob("*/templates")) if p != PKG / "web" / "templates"]
    dirs += sorted(PKG.glob("*/*/templates"))  # areas of a module (erp/sales/templates, erp/purchasing/…)
    return ChoiceLoader([FileSystemLoader(str(d)) for d in dirs])


env = Environment(loader=_loader(), autoescape=select_autoescape(["html", "xml"]), trim_blocks=True,
                  lstrip_blocks=True)
env.globals.update(
    _=i18n.gettext,
    format_decimal=i18n.format_decimal,
    format_money=i18n.format_money,
    format_datetime=i18n.format_datetime,
    format_date=i18n.format_date,
    get_locale=i18n.get_locale,
    SUPPORTED_LOCALES=i18n.SUPPORTED,
)
env.filters["money"] = i18n.format_money
env.filters["num"] = i18n.format_decimal
env.filters["dt"] = i18n.format_datetime
env.filters["date"] = i18n.format_date
# services hand dates to JSON as ISO strings; pages show them in the company's zone and the user's locale
env.filters["isodt"] = lambda v: i18n.format_datetime(dt.datetime.fromisoformat(v)) if v else ""
env.filters["isodate"] = lambda v: i18n.format_date(dt.date.fromisoformat(v[:10])) if v else ""


def script_json(value) -> str:
    """JSON to place inside `<script type="application/json">…</script>` with `|safe`: <, > and & as \\u escapes,
    so a product, supplier or customer name holding `</script><script>…` cannot end the element and run as code
    (JSON.parse reads the escapes back as the characters)."""
    import json

    return (json.dumps(value, ensure_ascii=False, default=str)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def nav_for(actor) -> list[dict]:
    from opensupply.core.db import get_database
    from opensupply.core.modules import disabled_for

    with get_database().readonly_sessionmaker() as s:
        off = disabled_for(s, actor.company_id)
    items = []
    for m in registry.modules():
        if m.name in off:
            continue
        entries = [e for e in m.menu if e.visible_to(actor)]
        if entries:
            items.append({"name": m.name, "label": str(m.label),
                          "entries": [{"label": str(e.label), "path": e.path} for e in entries]})
    # administration (users, roles, jobs, audit) goes last, after the business modules
    return sorted(items, key=lambda g: g["name"] == "core")


def landing_for(actor) -> str | None:
    """Where a user without any menu starts: the landing page of an enabled module they may use (a supplier's
    login → the supplier portal). None for everyone who has a menu: they start on the home page."""
    from opensupply.core.db import get_database
    from opensupply.core.modules import disabled_for

    if nav_for(actor):
        return None
    with get_database().readonly_sessionmaker() as s:
        off = disabled_for(s, actor.company_id)
    for m in registry.modules():
        if m.landing and m.name not in off and actor.can(m.landing.permission):
            return m.landing.path
    return None


def render(page: Page | None, template: str, status_code: int = 200, request: Request | None = None,
           **context) -> HTMLResponse:
    request = request or page.request
    ctx = {
        "request": request,
        "page": page,
        "actor": page.actor if page else None,
        "csrf_token": page.csrf_token if page else "",
        "nav": nav_for(page.actor) if page else [],
        "flashes": read_flashes(request),
        "locale": i18n.get_locale(),
        "companies": _companies(page.actor) if page else [],
    }
    ctx.update(context)
    html = env.get_template(template).render(**ctx)
    response = HTMLResponse(html, status_code=status_code)
    if ctx["flashes"]:
        response.delete_cookie(FLASH_COOKIE)
    return response


def _companies(actor) -> list:
    from sqlalchemy import select

    from opensupply.core.db import get_database
    from opensupply.masterdata.models import Company

    with get_database().readonly_sessionmaker() as s:
        return [{"id": c.id, "code": c.code, "name": c.name}
                for c in s.scalars(select(Company).where(Company.id.in_(actor.company_ids)).order_by(Company.id))]


def read_flashes(request: Request) -> list[dict]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        data = json.loads(urllib.parse.unquote(raw))
        return [d for d in data if isinstance(d, dict)][:5]
    except (ValueError, TypeError):
        return []


def redirect(url: str, message: str | None = None, kind: str = "success") -> RedirectResponse:
    """303 to `url`, optionally carrying a flash message to the next page."""
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(FLASH_COOKIE, urllib.parse.quote(json.dumps([{"kind": kind, "text": message}])),
                            max_age=60, httponly=True, samesite="lax")
    return response
