"""The shell every page shares: navigation by permission, flash messages, company and language
switch, and no third-party resources."""

import re
from pathlib import Path

from tests import factories as f

STATIC = Path(__file__).resolve().parents[2] / "src" / "opensupply" / "web" / "static"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _nav(html: str) -> str:
    return html.split('<nav class="sidebar"')[1].split("</nav>")[0]


def test_navigation_shows_only_what_the_user_may_open(db):
    c = f.company(db)
    f.user(db, c, "boss")
    f.user(db, c, "wh", roles=("warehouse",))
    boss_nav = _nav(f.web_client(db, "boss").get("/").text)
    assert "/admin/users" in boss_nav and "/admin/audit" in boss_nav and "/products" in boss_nav
    wh_nav = _nav(f.web_client(db, "wh").get("/").text)
    assert "/products" in wh_nav and "/inventory/on-hand" in wh_nav
    assert "/admin/users" not in wh_nav and "/admin/audit" not in wh_nav
    # administration comes after the business modules
    assert boss_nav.index("/products") < boss_nav.index("/admin/users")


def test_current_page_is_marked_in_the_navigation(db):
    c = f.company(db)
    f.user(db, c, "boss")
    nav = _nav(f.web_client(db, "boss").get("/admin/roles").text)
    assert re.search(r'<a href="/admin/roles" class="active" aria-current="page">', nav)


def test_flash_message_shows_once_after_a_redirect(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "boss"))
    token = _csrf(web.get("/admin/roles/new").text)
    r = web.post("/admin/roles/new", data={"csrf_token": token, "code": "qc", "name": "质检"})
    page = web.get(r.headers["location"])
    assert re.search(r'class="flash flash-success" role="status">角色已创建', page.text)
    assert "角色已创建" not in web.get(r.headers["location"]).text


def test_company_switch_changes_what_the_pages_show(db):
    a, b = f.company(db, "A", "甲公司"), f.company(db, "B", "乙公司")
    f.user(db, a, "boss", company_ids=[a, b])
    f.user(db, b, "only_b")
    web = f.web_client(db, "boss")
    home = web.get("/").text
    assert re.search(rf'<option value="{a}" selected>甲公司</option>', home)
    assert f'<option value="{b}" >乙公司</option>' in home or f'<option value="{b}">乙公司</option>' in home
    assert "only_b" not in web.get("/admin/users").text.split("<tbody>")[1]
    r = web.post("/settings/company", data={"csrf_token": _csrf(home), "company_id": str(b)})
    assert r.status_code == 303
    after = web.get("/admin/users").text
    assert re.search(rf'<option value="{b}" selected>乙公司</option>', after)
    assert "only_b" in after.split("<tbody>")[1]
    # a company the user may not access is refused
    c = f.company(db, "C", "丙公司")
    r = web.post("/settings/company", data={"csrf_token": _csrf(after), "company_id": str(c)})
    assert r.status_code in (403, 422)


def test_single_company_is_shown_without_a_switch(db):
    c = f.company(db, "S", "单一公司")
    html = f.web_client(db, f.user(db, c, "boss")).get("/").text
    assert "单一公司" in html and 'name="company_id"' not in html


def test_language_switch_returns_to_the_same_page_with_its_query(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "boss"))
    page = web.get("/admin/users", params={"q": "bo"}).text
    assert 'name="next" value="/admin/users?q=bo"' in page
    r = web.post("/settings/locale", data={"csrf_token": _csrf(page), "locale": "en", "next": "/admin/users?q=bo"})
    assert r.headers["location"] == "/admin/users?q=bo"
    r = web.post("/settings/locale", data={"csrf_token": _csrf(page), "locale": "en", "next": "//evil.example/"})
    assert r.headers["location"] == "/"


def test_pages_load_nothing_from_other_sites(db):
    c = f.company(db)
    web = f.web_client(db, f.user(db, c, "boss"))
    for path in ("/", "/admin/users", "/admin/roles", "/admin/audit", "/admin/users/new", "/products"):
        html = web.get(path).text
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"^(https?:)?//", url), f"{path} loads {url}"
    assert (STATIC / "vendor" / "htmx" / "LICENSE").exists()
    assert (STATIC / "vendor" / "echarts" / "LICENSE").exists()
    assert web.get("/static/app.css").status_code == 200
    assert web.get("/static/vendor/htmx/htmx.min.js").status_code == 200


def test_phone_viewport_and_menu_button_are_present(db):
    c = f.company(db)
    html = f.web_client(db, f.user(db, c, "boss")).get("/").text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'class="nav-toggle"' in html and 'aria-controls="sidebar"' in html
