"""BOM pages as a production planner uses them: list, create with lines, fix errors, release, copy."""

import re

from sqlalchemy import select

from opensupply.core.uow import UnitOfWork
from opensupply.masterdata.models import Bom
from tests import factories as f
from tests.masterdata import factories as mf


def _setup(db, roles=("production",)):
    c = f.company(db)
    mf.products(db, c, "LAMP", "SHADE", "BULB", "CABLE:m")
    web = f.web_client(db, f.user(db, c, roles=roles))
    return c, web, f.csrf(web)


def _form(token, product="LAMP", lines=(), **header):
    data = {"csrf_token": token, "product": product, "version": "V1.0", "quantity": "1", **header}
    data["component"] = [ln[0] for ln in lines] + [""]
    data["line_quantity"] = [ln[1] for ln in lines] + [""]
    data["line_uom"] = [ln[2] if len(ln) > 2 else "" for ln in lines] + [""]
    data["line_scrap_pct"] = [ln[3] if len(ln) > 3 else "" for ln in lines] + [""]
    return data


def _bom_ids(db, c):
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        return [b.id for b in uow.session.scalars(select(Bom).order_by(Bom.id))]


def test_create_bom_with_several_lines_then_release_and_copy(db):
    _c, web, token = _setup(db)
    assert web.get("/boms/new").status_code == 200
    r = web.post("/boms/new", data=_form(token, lines=[("SHADE", "1"), ("BULB", "2", "", "5"),
                                                       ("CABLE", "150", "cm")]))
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    page = web.get(url).text
    assert "V1.0" in page and "草稿" in page
    for sku in ("SHADE", "BULB", "CABLE"):
        assert sku in page
    assert "变更记录" in page  # audit trail

    r = web.post(f"{url}/release", data={"csrf_token": token})
    assert r.status_code == 303
    page = web.get(url, params={"quantity": "10"}).text
    assert "已发布" in page
    totals = re.search(r'class="list explosion-totals">(.*?)</table>', page, re.S).group(1)
    assert re.search(r"BULB</td><td>[^<]*</td><td class=\"num\">21</td>", totals)  # 10 × 2 × 1.05
    assert re.search(r"CABLE</td><td>[^<]*</td><td class=\"num\">15</td>", totals)  # 10 × 150 cm = 15 m

    r = web.post(f"{url}/copy", data={"csrf_token": token})
    assert r.status_code == 303
    copy_url = r.headers["location"]
    assert copy_url != url
    assert "V1.1" in web.get(copy_url).text
    web.post(f"{copy_url}/release", data={"csrf_token": token})
    assert "已作废" in web.get(url).text


def test_form_errors_are_shown_with_values_kept(db):
    c, web, token = _setup(db)
    r = web.post("/boms/new", data=_form(token, lines=[("SHADE", "1"), ("BULB", "-3")]))
    assert r.status_code == 422
    assert "第 2 行：数量必须大于 0" in r.text
    assert 'value="-3"' in r.text and 'value="SHADE"' in r.text
    bad_row = r.text.split('class="bom-line has-error"')[1].split("</tr>")[0]
    assert 'value="-3"' in bad_row and 'aria-invalid="true"' in bad_row  # the second line is marked
    r = web.post("/boms/new", data=_form(token, lines=[("LAMP", "1")]))
    assert r.status_code == 422 and "组件不能是商品本身" in r.text
    r = web.post("/boms/new", data=_form(token, lines=[("CABLE", "1", "pcs")]))
    assert r.status_code == 422 and "不属于同一类别" in r.text
    r = web.post("/boms/new", data=_form(token, product="NOPE", lines=[("SHADE", "1")]))
    assert r.status_code == 422 and "商品不存在：NOPE" in r.text
    assert _bom_ids(db, c) == []


def test_edit_draft_and_released_is_frozen(db):
    c, web, token = _setup(db)
    bom_id = mf.bom(db, c, "LAMP", [("SHADE", "1")])
    page = web.get(f"/boms/{bom_id}/edit")
    assert page.status_code == 200 and 'value="SHADE"' in page.text
    r = web.post(f"/boms/{bom_id}/edit", data=_form(token, lines=[("SHADE", "1"), ("BULB", "4")], notes="加灯泡"))
    assert r.status_code == 303
    assert "BULB" in web.get(f"/boms/{bom_id}").text
    web.post(f"/boms/{bom_id}/release", data={"csrf_token": token})
    r = web.get(f"/boms/{bom_id}/edit")
    assert r.status_code == 303  # back to the detail with a message
    r = web.post(f"/boms/{bom_id}/delete", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == f"/boms/{bom_id}"
    assert _bom_ids(db, c) == [bom_id]


def test_list_search_filter_and_where_used(db):
    c, web, _token = _setup(db)
    mf.products(db, c, "DESK")
    mf.bom(db, c, "LAMP", [("BULB", "1")], release=True)
    mf.bom(db, c, "DESK", [("BULB", "2")])
    page = web.get("/boms").text
    assert "LAMP" in page and "DESK" in page
    body = web.get("/boms", params={"q": "DESK"}).text.split('id="list-body"')[1]
    assert "DESK" in body and "LAMP" not in body
    assert "共 1 条" in web.get("/boms", params={"q": "DESK"}).text
    assert "共 1 条" in web.get("/boms", params={"state": "released"}).text
    assert "共 1 条" in web.get("/boms", params={"product": "LAMP"}).text
    assert "共 0 条" in web.get("/boms", params={"product": "NOPE"}).text
    # a lamp BOM that uses the desk shows up on the desk's BOM page as where-used
    mf.bom(db, c, "LAMP", [("DESK", "1")], version="V2.0")
    desk_bom = _bom_ids(db, c)[1]
    page = web.get(f"/boms/{desk_bom}").text
    used = page.split('class="list where-used"')[1].split("</table>")[0]
    assert "LAMP" in used and "V2.0" in used


def test_add_line_fragment_and_permissions(db):
    _, web, _token = _setup(db)
    r = web.get("/boms/line-row", headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'name="component"' in r.text and "<html" not in r.text
    _c, viewer, vtoken = _setup(db, roles=("warehouse",))
    assert viewer.get("/boms").status_code == 200
    assert viewer.get("/boms/new").status_code == 403
    assert viewer.post("/boms/new", data=_form(vtoken, lines=[("SHADE", "1")])).status_code == 403
