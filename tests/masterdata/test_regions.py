"""Chinese addresses: province names in full or short form, one-line addresses split into parts."""

import pytest

from opensupply.core.errors import ValidationFailed
from opensupply.masterdata.regions import PROVINCES, normalize_province, split_address
from tests import factories as f


@pytest.mark.parametrize("typed, official", [
    ("浙江", "浙江省"), ("浙江省", "浙江省"), ("上海", "上海市"), ("广西", "广西壮族自治区"),
    ("内蒙古", "内蒙古自治区"), ("新疆", "新疆维吾尔自治区"), ("香港", "香港特别行政区"), (" 北京 ", "北京市")])
def test_province_names(typed, official):
    assert normalize_province(typed) == official


def test_unknown_province_is_an_error_and_empty_stays_empty():
    assert len(PROVINCES) == 34
    assert normalize_province("") is None
    with pytest.raises(ValidationFailed):
        normalize_province("火星省")


@pytest.mark.parametrize("line, parts", [
    ("浙江省杭州市余杭区文一西路969号", ("浙江省", "杭州市", "余杭区", "文一西路969号")),
    ("上海浦东新区张江路200号", ("上海市", "上海市", "浦东新区", "张江路200号")),
    ("上海市上海市青浦区华新镇1685号", ("上海市", "上海市", "青浦区", "华新镇1685号")),
    ("浙江省金华市永康市五金城18号", ("浙江省", "金华市", "永康市", "五金城18号")),
    ("湖北省恩施土家族苗族自治州恩施市舞阳大街8号", ("湖北省", "恩施土家族苗族自治州", "恩施市", "舞阳大街8号")),
    ("内蒙古呼和浩特市新城区新华大街", ("内蒙古自治区", "呼和浩特市", "新城区", "新华大街")),
    ("文一西路969号", (None, None, None, "文一西路969号")),
])
def test_split_one_line_address(line, parts):
    assert split_address(line) == parts


def test_partner_with_one_line_address_gets_its_parts(db):
    c = f.company(db)
    api = f.api_client(db, f.user(db, c))
    r = api.post("/api/v1/partners", json={"code": "C-1", "name": "客户", "is_customer": True,
                                           "address": "广东省深圳市南山区科技南路16号"})
    assert r.status_code == 201, r.text
    p = r.json()
    assert (p["province"], p["city"], p["district"], p["address"]) == ("广东省", "深圳市", "南山区", "科技南路16号")
    assert api.get("/api/v1/partners", params={"province": "广东省"}).json()["total"] == 1
