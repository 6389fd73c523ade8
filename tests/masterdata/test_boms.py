"""Bills of materials: versions, release, copy, validation, multi-level explosion, where-used."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from opensupply.core.errors import Conflict, NotFound, ValidationFailed
from opensupply.core.events import OutboxEvent
from opensupply.core.uow import UnitOfWork
from opensupply.masterdata import boms
from opensupply.masterdata.models import Bom
from tests import factories as f
from tests.masterdata import factories as mf

D = Decimal


@pytest.fixture
def bike(db):
    """A bicycle: 1 frame (made of 2.5 kg steel tube, 5% scrap) + 2 wheels (36 spokes + 1 rim each)."""
    c = f.company(db)
    ids = mf.products(db, c, "BIKE", "FRAME", "WHEEL", "TUBE:kg", "SPOKE", "RIM", "BOLT")
    mf.bom(db, c, "FRAME", [("TUBE", "2500", "g", "5")], release=True)
    mf.bom(db, c, "WHEEL", [("SPOKE", "36"), ("RIM", "1")], release=True)
    mf.bom(db, c, "BIKE", [("FRAME", "1"), ("WHEEL", "2"), ("BOLT", "4", None, "10")], release=True)
    return c, ids


def _state(db, c, bom_id):
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        return boms.get_bom(uow, bom_id).state


def test_explode_multi_level_with_scrap_and_unit_conversion(db, bike):
    c, ids = bike
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        result = boms.explode(uow, ids["BIKE"], 10)
        rows = [(r.level, r.sku, r.quantity, r.uom, r.parent_sku) for r in result.lines]
        totals = {t["sku"]: t["quantity"] for t in result.totals()}
    # tree order: each component followed by what it is made of
    assert rows == [
        (1, "FRAME", D("10"), "pcs", "BIKE"),
        (2, "TUBE", D("26.25"), "kg", "FRAME"),  # 10 × 2500 g × 1.05 = 26 250 g = 26.25 kg
        (1, "WHEEL", D("20"), "pcs", "BIKE"),
        (2, "SPOKE", D("720"), "pcs", "WHEEL"),  # 20 × 36
        (2, "RIM", D("20"), "pcs", "WHEEL"),
        (1, "BOLT", D("44"), "pcs", "BIKE"),  # 10 × 4 × 1.10
    ]
    assert totals == {"TUBE": "26.25", "SPOKE": "720", "RIM": "20", "BOLT": "44"}


def test_explode_respects_bom_output_quantity(db):
    c = f.company(db)
    ids = mf.products(db, c, "JUICE", "ORANGE")
    mf.bom(db, c, "JUICE", [("ORANGE", "30")], quantity="12", release=True)  # 12 bottles from 30 oranges
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        result = boms.explode(uow, ids["JUICE"], 18)
        assert [(r.sku, r.quantity) for r in result.lines] == [("ORANGE", D("45"))]  # 18 / 12 × 30


def test_explode_without_released_bom_is_a_clear_error(db):
    c = f.company(db)
    ids = mf.products(db, c, "A", "B")
    mf.bom(db, c, "A", [("B", "1")])  # draft only
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        with pytest.raises(NotFound) as err:
            boms.explode(uow, ids["A"], 1)
        assert "A" in err.value.message
        with pytest.raises(ValidationFailed):
            boms.explode(uow, ids["A"], 0)


def test_release_obsoletes_previous_version_in_the_same_transaction(db, bike):
    c, ids = bike
    with UnitOfWork(f.system(c), db=db) as uow:
        v10 = boms.released_bom(uow, ids["BIKE"])
        v11 = boms.copy_bom(uow, v10.id)
        assert (v11.version, v11.state) == ("V1.1", "draft")
        assert [ln.component.sku for ln in v11.lines] == ["FRAME", "WHEEL", "BOLT"]
        boms.update_bom(uow, v11.id, {"lines": [{"component": "FRAME", "quantity": 1},
                                               {"component": "WHEEL", "quantity": 2},
                                               {"component": "BOLT", "quantity": 6}]})
        boms.release_bom(uow, v11.id)
        v10_id, v11_id = v10.id, v11.id
    assert _state(db, c, v10_id) == "obsolete"
    assert _state(db, c, v11_id) == "released"
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        assert boms.released_bom(uow, ids["BIKE"]).version == "V1.1"
        bolts = [r.quantity for r in boms.explode(uow, ids["BIKE"], 1).lines if r.sku == "BOLT"]
        assert bolts == [D("6")]
        names = [e.name for e in uow.session.scalars(select(OutboxEvent))]
    assert names.count("masterdata.bom_released") == 4


def test_failed_release_changes_nothing(db, bike):
    c, ids = bike
    with UnitOfWork(f.system(c), db=db) as uow:
        v11 = boms.copy_bom(uow, boms.released_bom(uow, ids["BIKE"]).id)
        v11_id = v11.id
    with pytest.raises(RuntimeError), UnitOfWork(f.system(c), db=db) as uow:
        boms.release_bom(uow, v11_id)
        raise RuntimeError("crash after release, before commit")
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        assert boms.released_bom(uow, ids["BIKE"]).version == "V1.0"
        assert boms.get_bom(uow, v11_id).state == "draft"


def test_one_released_version_per_product_is_enforced_by_the_database(db, bike):
    c, ids = bike
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), UnitOfWork(f.system(c), db=db) as uow:
        v11 = boms.copy_bom(uow, boms.released_bom(uow, ids["BIKE"]).id)
        v11.state = "released"  # bypassing the service
        uow.session.flush()


def test_released_and_obsolete_versions_are_frozen(db, bike):
    c, ids = bike
    with UnitOfWork(f.system(c), db=db) as uow:
        v10 = boms.released_bom(uow, ids["BIKE"])
        with pytest.raises(Conflict):
            boms.update_bom(uow, v10.id, {"notes": "x"})
        with pytest.raises(Conflict):
            boms.delete_bom(uow, v10.id)
        with pytest.raises(Conflict):
            boms.release_bom(uow, v10.id)


def test_copy_skips_versions_that_exist_and_accepts_explicit_version(db, bike):
    c, ids = bike
    with UnitOfWork(f.system(c), db=db) as uow:
        v10 = boms.released_bom(uow, ids["BIKE"])
        assert boms.copy_bom(uow, v10.id).version == "V1.1"
        assert boms.copy_bom(uow, v10.id).version == "V1.2"
        assert boms.copy_bom(uow, v10.id, "V2.0").version == "V2.0"
        with pytest.raises(Conflict):
            boms.copy_bom(uow, v10.id, "V2.0")
    assert boms.next_version("V1.9") == "V1.10"
    assert boms.next_version("2") == "3"


@pytest.mark.parametrize("lines, field, words", [
    ([("A", "1")], "lines.0.component", "商品本身"),
    ([("B", "0")], "lines.0.quantity", "大于 0"),
    ([("B", "-2")], "lines.0.quantity", "大于 0"),
    ([("B", "abc")], "lines.0.quantity", "格式不正确"),
    ([("B", "1", "kg")], "lines.0.uom", "同一类别"),
    ([("B", "1", None, "100")], "lines.0.scrap_pct", "损耗率"),
    ([("B", "1"), ("NOPE", "1")], "lines.1.component", "NOPE"),
    ([("B", "1"), ("B", "2")], "lines.1.component", "重复"),
    ([], "lines", "至少"),
])
def test_line_validation(db, lines, field, words):
    c = f.company(db)
    mf.products(db, c, "A", "B")
    with pytest.raises(ValidationFailed) as err:
        mf.bom(db, c, "A", lines)
    assert err.value.field == field
    assert words in err.value.message
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        assert uow.session.scalars(select(Bom)).all() == []


def test_line_in_box_of_component_counted_in_pieces(db):
    c = f.company(db)
    ids = mf.products(db, c, "KIT", "CUP")
    mf.bom(db, c, "KIT", [("CUP", "2", "box")], release=True)  # 2 boxes of 12
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        assert [(r.sku, r.quantity, r.uom) for r in boms.explode(uow, ids["KIT"], 3).lines] == [
            ("CUP", D("72"), "pcs")]


def test_cycles_are_refused_at_any_depth(db):
    c = f.company(db)
    mf.products(db, c, "A", "B", "C")
    mf.bom(db, c, "A", [("B", "1")], release=True)
    mf.bom(db, c, "B", [("C", "1")])  # a draft counts: releasing it later must not close a loop
    with pytest.raises(ValidationFailed) as err:
        mf.bom(db, c, "C", [("A", "1")])
    assert err.value.message.endswith("C → A → B → C")
    # and through an update of a draft
    with UnitOfWork(f.system(c), db=db) as uow:
        b_draft = uow.session.scalars(select(Bom).join(Bom.product).where(Bom.version == "V1.0")).all()
        b_bom = next(b for b in b_draft if b.product.sku == "B")
        with pytest.raises(ValidationFailed):
            boms.update_bom(uow, b_bom.id, {"lines": [{"component": "A", "quantity": 1}]})


def test_where_used(db, bike):
    c, ids = bike
    with UnitOfWork(f.system(c), db=db) as uow:
        boms.copy_bom(uow, boms.released_bom(uow, ids["BIKE"]).id)
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        used = [(u.sku, u.version, u.state, u.quantity) for u in boms.where_used(uow, ids["WHEEL"])]
        assert used == [("BIKE", "V1.0", "released", D("2")), ("BIKE", "V1.1", "draft", D("2"))]
        assert [u.sku for u in boms.where_used(uow, ids["SPOKE"])] == ["WHEEL"]
        assert boms.where_used(uow, ids["BIKE"]) == []


def test_user_without_bom_permission_cannot_change_boms(db, bike):
    c, ids = bike
    actor = f.actor(db, c, f.user(db, c, roles=("warehouse",)))
    with UnitOfWork(actor, db=db) as uow:
        from opensupply.core.errors import PermissionDenied

        with pytest.raises(PermissionDenied):
            boms.copy_bom(uow, boms.released_bom(uow, ids["BIKE"]).id)
        assert boms.explode(uow, ids["BIKE"], 1).lines  # reading is fine


def test_two_simultaneous_releases_leave_exactly_one_version_in_force(db, bike):
    """Two planners release different drafts of the same product at the same moment."""
    import threading

    c, ids = bike
    with UnitOfWork(f.system(c), db=db) as uow:
        v10 = boms.released_bom(uow, ids["BIKE"]).id
        drafts = [boms.copy_bom(uow, v10).id, boms.copy_bom(uow, v10).id]
    barrier, outcomes = threading.Barrier(2), []

    def release(bom_id):
        barrier.wait()
        try:
            with UnitOfWork(f.system(c), db=db) as uow:
                boms.release_bom(uow, bom_id)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=release, args=(d,)) for d in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["ok", "ok"]  # the second waits for the first, then replaces it
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        states = sorted(boms.get_bom(uow, i).state for i in [v10, *drafts])
    assert states == ["obsolete", "obsolete", "released"]


def test_product_unit_cannot_leave_its_category_while_used_in_a_bom(db, bike):
    c, ids = bike
    from opensupply.core import resource as rs
    from opensupply.masterdata import resources

    with UnitOfWork(f.system(c), db=db) as uow:
        with pytest.raises(ValidationFailed) as err:
            rs.update_record(uow, resources.products, ids["SPOKE"], {"uom_id": "kg"})
        assert err.value.field == "uom_id"
        rs.update_record(uow, resources.products, ids["SPOKE"], {"uom_id": "box"})  # same category is fine
        rs.update_record(uow, resources.products, ids["BIKE"], {"name": "自行车"})  # other edits are fine


def test_explosion_is_linear_in_quantity(db, bike):
    """Making a + b bikes needs exactly what making a and then b bikes needs."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    c, ids = bike
    qty = st.decimals(min_value="0.001", max_value="10000", places=3)

    @settings(max_examples=25, deadline=None)
    @given(qty, qty)
    def check(a, b):
        with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
            ta = {r["sku"]: D(r["quantity"]) for r in boms.explode(uow, ids["BIKE"], a).totals()}
            tb = {r["sku"]: D(r["quantity"]) for r in boms.explode(uow, ids["BIKE"], b).totals()}
            tab = {r["sku"]: D(r["quantity"]) for r in boms.explode(uow, ids["BIKE"], a + b).totals()}
        for sku in tab:
            assert abs(tab[sku] - (ta[sku] + tb[sku])) <= D("0.000002"), sku

    check()


def test_released_structure_and_low_level_codes_for_planning(db, bike):
    c, ids = bike
    # a bolt is also bought for the frame directly: it then sits at level 1 (bike) and level 2 (frame)
    with UnitOfWork(f.system(c), db=db) as uow:
        frame = boms.released_bom(uow, ids["FRAME"])
        v11 = boms.copy_bom(uow, frame.id)
        boms.update_bom(uow, v11.id, {"lines": [{"component": "TUBE", "quantity": "2500", "uom": "g",
                                                 "scrap_pct": "5"}, {"component": "BOLT", "quantity": "2"}]})
        boms.release_bom(uow, v11.id)
    with UnitOfWork(f.system(c), db=db, readonly=True) as uow:
        structure = boms.released_structure(uow)
    per_unit = {(p, ln.component_id): ln.per_unit for p, lines in structure.items() for ln in lines}
    assert per_unit[(ids["FRAME"], ids["TUBE"])] == D("2.625")  # 2500 g × 1.05 in kg
    assert per_unit[(ids["BIKE"], ids["BOLT"])] == D("4.4")
    levels = boms.low_level_codes(structure)
    assert levels[ids["BIKE"]] == 0
    assert levels[ids["FRAME"]] == levels[ids["WHEEL"]] == 1
    assert levels[ids["BOLT"]] == 2  # planned after the frame, which also needs bolts
    assert levels[ids["TUBE"]] == levels[ids["SPOKE"]] == 2
