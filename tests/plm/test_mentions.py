"""Discussion on an ECO: @mentions reach the mentioned users only, must name real users of the company who can
read ECOs, and show up in 我的待办 until the ECO is opened."""

from __future__ import annotations

from sqlalchemy import func, select

from opensupply.plm import eco
from opensupply.plm.models import EcoComment, Mention
from tests import factories as f

from . import factories as pf


def _eco(w: pf.World) -> int:
    with w.uow("engineer") as uow:
        return eco.create_eco(uow, "YS-DESK-120", "螺丝加长", "客诉", lines=[
            {"component": "YS-TOP-120", "quantity": "1"}, {"component": "RM-LEG-72", "quantity": "4"},
            {"component": "RM-SCREW-M6", "quantity": "20"}]).id


def test_parse_mentions():
    assert eco.parse_mentions("@buyer 请确认，@QA.lead. 抄送 ops@example.com @buyer") == ["buyer", "QA.lead"]
    assert eco.parse_mentions("没有提到任何人") == []


def test_mentions_reach_the_mentioned_user_only(db):
    w = pf.world(db)
    eco_id = _eco(w)
    u = w.users
    r = w.api("engineer").post(f"/api/v1/plm/ecos/{eco_id}/comments",
                               json={"body": f"@{u['viewer']} 请确认新螺丝的库存，@{u['buyer']} 询价；联系 a@b.com"})
    assert r.status_code == 201, r.text
    assert sorted(m["name"] for m in r.json()["mentions"]) == sorted([u["viewer"], u["buyer"]])
    for who, n in (("viewer", 1), ("buyer", 1), ("viewer2", 0), ("qa", 0), ("engineer", 0)):
        got = w.api(who).get("/api/v1/plm/mentions").json()
        assert got["total"] == n, who
        mine = w.api(who).get("/api/v1/plm/ecos", params={"mine": "true"}).json()
        assert mine["total"] == n, who  # a draft awaits no approval: only the mention brings it
    assert "请确认新螺丝" in w.api("viewer").get("/api/v1/plm/mentions").json()["items"][0]["body"]
    # opening the ECO page reads the mentions
    web = w.web("viewer")
    html = web.get("/plm/ecos", params={"mine": "1"}).text
    assert "螺丝加长" in html
    html = web.get(f"/plm/ecos/{eco_id}").text
    assert 'class="mention"' in html and "mine-mention" in html
    assert w.api("viewer").get("/api/v1/plm/mentions").json()["total"] == 0
    assert w.api("viewer").get("/api/v1/plm/ecos", params={"mine": "true"}).json()["total"] == 0
    assert w.api("viewer").get("/api/v1/plm/mentions", params={"unread": "false"}).json()["total"] == 1
    assert w.api("buyer").get("/api/v1/plm/mentions").json()["total"] == 1  # buyer has not looked yet
    r = w.api("buyer").post(f"/api/v1/plm/ecos/{eco_id}/mentions/read")
    assert r.json() == {"marked": 1}


def test_a_mention_must_name_a_user_of_this_company_who_can_read_ecos(db):
    w = pf.world(db)
    other = pf.world(db, suffix="-b")  # another company's people
    eco_id = _eco(w)
    api = w.api("engineer")

    def stored():
        with w.uow(readonly=True) as uow:
            return (uow.session.scalar(select(func.count()).select_from(EcoComment)),
                    uow.session.scalar(select(func.count()).select_from(Mention)))

    for body, needle in (("@nobody 看一下", "@nobody"), (f"@{other.users['viewer']} 看一下", other.users["viewer"])):
        r = api.post(f"/api/v1/plm/ecos/{eco_id}/comments", json={"body": body})
        assert r.status_code == 422 and needle in r.json()["error"]["message"], r.text
    no_plm = f.user(db, w.company, "sales-ann", roles=("sales",))
    r = api.post(f"/api/v1/plm/ecos/{eco_id}/comments", json={"body": f"@{no_plm} 看看"})
    assert r.status_code == 422 and "没有查看工程变更的权限" in r.json()["error"]["message"]
    assert stored() == (0, 0)
    # a plain reader may not comment; approvers of any department may
    assert w.api("viewer").post(f"/api/v1/plm/ecos/{eco_id}/comments", json={"body": "x"}).status_code == 403
    assert w.api("qa").post(f"/api/v1/plm/ecos/{eco_id}/comments", json={"body": "质量没问题"}).status_code == 201
    # the other company cannot see this ECO at all
    assert other.api("viewer").get(f"/api/v1/plm/ecos/{eco_id}").status_code == 404
