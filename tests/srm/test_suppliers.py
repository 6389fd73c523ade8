"""Supplier profiles: status rules enforced on ERP purchase orders, four-eyes onboarding, bank masking,
certificate expiry reminders."""

from __future__ import annotations

import datetime as dt

import pytest

from opensupply.core.errors import Conflict, PermissionDenied, ValidationFailed
from opensupply.core.modules import set_module
from opensupply.erp.purchasing import service as purchasing
from opensupply.srm import suppliers
from tests.srm.factories import registered, shop


def _order(s, key="steel", price="50"):
    with s.uow() as uow:
        po = purchasing.create_order(uow, s.partners[key], [purchasing.OrderLineIn("RM-STEEL", "10", price)])
        return po.id


def test_po_to_suspended_supplier_is_refused_with_a_clear_message(db):
    s = shop(db)
    sup = registered(s, "steel")
    po_id = _order(s)  # qualified: fine
    with s.uow(s.actor("buyer1")) as uow:
        suppliers.change_status(uow, sup, "suspended", "连续三批来料不合格")
    with pytest.raises(Conflict) as exc, s.uow() as uow:
        purchasing.create_order(uow, s.partners["steel"], [purchasing.OrderLineIn("RM-STEEL", "10", "50")])
    assert exc.value.message == "供应商 宁波钢材贸易有限公司 已暂停合作（连续三批来料不合格），不能下采购订单"
    assert exc.value.field == "supplier"
    # a draft made before the suspension cannot be confirmed either
    with pytest.raises(Conflict, match="已暂停合作"), s.uow() as uow:
        purchasing.confirm_order(uow, po_id)
    with s.uow(readonly=True) as uow:
        assert suppliers.status_of(uow, s.partners["steel"]) == "suspended"
        history = [(h.from_status, h.to_status) for h in suppliers.status_history(uow, sup)]
    assert history == [("qualified", "suspended"), ("potential", "qualified"), (None, "potential")]


def test_potential_and_eliminated_suppliers_cannot_be_ordered_from_unregistered_can(db):
    s = shop(db)
    sup = registered(s, "steel", qualified=False)
    with pytest.raises(Conflict, match="尚未通过准入审批"):
        _order(s)
    _order(s, "plastic")  # no SRM profile yet: bought from as before
    with s.uow(s.actor("buyer1")) as uow:
        suppliers.change_status(uow, sup, "eliminated", "资质造假")
    with pytest.raises(Conflict, match="已淘汰（资质造假）"):
        _order(s)
    with s.uow(readonly=True) as uow:
        assert suppliers.status_of(uow, s.partners["plastic"]) == "unregistered"


def test_status_not_enforced_while_srm_is_switched_off(db):
    s = shop(db)
    sup = registered(s, "steel")
    with s.uow() as uow:
        suppliers.change_status(uow, sup, "suspended", "停产整顿")
    with s.uow() as uow:
        set_module(uow, "srm", False)
    _order(s)
    with s.uow() as uow:
        set_module(uow, "srm", True)
    with pytest.raises(Conflict):
        _order(s)


def test_onboarding_needs_a_second_person_with_approve_permission(db):
    s = shop(db)
    with s.uow(s.actor("buyer1")) as uow:
        sup_id = suppliers.register_supplier(uow, s.partners["steel"], {"categories": "钢材，板材"}).id
        ob_id = suppliers.request_onboarding(uow, sup_id, "营业执照、ISO9001 已上传").id
    with pytest.raises(PermissionDenied, match="申请人以外"), s.uow(s.actor("buyer1")) as uow:
        suppliers.approve_onboarding(uow, ob_id)
    with pytest.raises(PermissionDenied, match=r"srm\.approve"), s.uow(s.actor("viewer")) as uow:
        suppliers.approve_onboarding(uow, ob_id)
    with pytest.raises(Conflict, match="准入审批"), s.uow(s.actor("buyer2")) as uow:
        suppliers.change_status(uow, sup_id, "qualified", "直接改")
    with s.uow(s.actor("buyer2")) as uow:
        suppliers.approve_onboarding(uow, ob_id, "同意准入")
    with s.uow(readonly=True) as uow:
        sup = suppliers.get_supplier(uow, sup_id)
        assert sup.status == "qualified"
        assert [c.category for c in sup.categories] == ["钢材", "板材"]
    with pytest.raises(Conflict, match="已处理"), s.uow(s.actor("buyer2")) as uow:
        suppliers.approve_onboarding(uow, ob_id)


def test_register_only_supplier_partners_once_and_status_reason_required(db):
    s = shop(db)
    with pytest.raises(ValidationFailed, match="不是供应商"), s.uow() as uow:
        suppliers.register_supplier(uow, s.partners["customer"])
    sup = registered(s, "steel")
    with pytest.raises(Conflict, match="已建档"), s.uow() as uow:
        suppliers.register_supplier(uow, s.partners["steel"])
    with pytest.raises(ValidationFailed) as exc, s.uow() as uow:
        suppliers.change_status(uow, sup, "suspended", " ")
    assert exc.value.field == "reason"
    with pytest.raises(PermissionDenied), s.uow(s.actor("viewer")) as uow:
        suppliers.register_supplier(uow, s.partners["plastic"])


def test_bank_account_masked_without_write_permission(db):
    s = shop(db)
    sup = registered(s, "steel")
    with s.uow(s.actor("buyer1")) as uow:
        suppliers.add_bank_account(uow, sup, {"account_name": "宁波钢材贸易有限公司",
                                              "bank_name": "中国工商银行宁波分行",
                                              "account_number": "6222 0212 3456 7890"})
        suppliers.add_contact(uow, sup, {"name": "王经理", "role": "销售", "phone": "13800000000"})
    with pytest.raises(ValidationFailed) as exc, s.uow() as uow:
        suppliers.add_bank_account(uow, sup, {"account_name": "x", "bank_name": "y", "account_number": "12ab"})
    assert exc.value.field == "account_number"
    with s.uow(s.actor("buyer1"), readonly=True) as uow:
        assert suppliers.bank_accounts(uow, sup)[0]["account_number"] == "6222021234567890"
    with s.uow(s.actor("viewer"), readonly=True) as uow:
        row = suppliers.bank_accounts(uow, sup)[0]
    assert row["account_number"] == "6222 **** 7890" and row["masked"]


def test_expiring_certificates_and_reminders_once_per_expiry(db):
    s = shop(db)
    sup = registered(s, "steel")
    today = dt.date(2026, 12, 7)
    with s.uow() as uow:
        suppliers.add_certificate(uow, sup, {"cert_type": "iso9001", "number": "ISO-001",
                                             "issued_on": "2023-12-20", "expiry_date": "2026-12-20"})
        suppliers.add_certificate(uow, sup, {"cert_type": "营业执照", "number": "91330200",
                                             "expiry_date": "2027-06-30"})
        suppliers.add_certificate(uow, sup, {"cert_type": "production_license", "number": "XK-9",
                                             "expiry_date": "2026-12-01"}, file=("许可证.pdf", b"%PDF-1.4"))
    with pytest.raises(ValidationFailed) as exc, s.uow() as uow:
        suppliers.add_certificate(uow, sup, {"cert_type": "iso9001", "number": "X", "issued_on": "2026-01-02",
                                             "expiry_date": "2025-01-01"})
    assert exc.value.field == "expiry_date"
    with s.uow(readonly=True) as uow:
        rows = suppliers.expiring_certificates(uow, 30, today=today)
    assert [(r["certificate"].number, r["days_left"], r["expired"]) for r in rows] == [
        ("XK-9", -6, True), ("ISO-001", 13, False)]
    with s.uow() as uow:
        first = suppliers.remind_expiring(uow, 30, today=today)
        assert "将于 2026-12-20 到期，还剩 13 天" in first[1].message
    with s.uow() as uow:
        assert suppliers.remind_expiring(uow, 30, today=today) == []
    with s.uow(readonly=True) as uow:
        assert len(suppliers.reminders(uow)) == 2
        name, data = suppliers.certificate_file(uow, rows[0]["certificate"].id)
    assert (name, data) == ("许可证.pdf", b"%PDF-1.4")


def test_daily_run_reminds_and_expires_for_companies_with_srm_on(db):
    from opensupply.srm import contracts
    from opensupply.srm.jobs import run_daily

    s = shop(db, "SRMD")
    sup = registered(s, "steel")
    with s.uow() as uow:
        today = suppliers.company_today(uow)
        suppliers.add_certificate(uow, sup, {"cert_type": "iso9001", "number": "ISO-D",
                                             "expiry_date": today + dt.timedelta(days=3)})
        c = contracts.create_contract(uow, {"partner": s.partners["steel"], "title": "旧协议",
                                            "valid_from": today - dt.timedelta(days=30), "valid_to": today,
                                            "prices": [{"product": "RM-STEEL", "unit_price": "50"}]})
        contracts.activate_contract(uow, c.id)
        c.valid_to = today - dt.timedelta(days=1)  # the agreement ran out yesterday
    assert run_daily(days=30, company_code="SRMD", db=db) == [{"company": "SRMD", "reminders": 1,
                                                                "contracts_expired": 1}]
    assert run_daily(days=30, company_code="SRMD", db=db) == [{"company": "SRMD", "reminders": 0,
                                                                "contracts_expired": 0}]
