"""China's provincial-level divisions, and reading what people type for them
("浙江", "浙江省", "广西" → "广西壮族自治区")."""

from __future__ import annotations

from opensupply.core.errors import ValidationFailed
from opensupply.core.i18n import _

PROVINCES: tuple[str, ...] = (
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区",
    "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省",
    "宁夏回族自治区", "新疆维吾尔自治区", "台湾省", "香港特别行政区", "澳门特别行政区",
)
SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def short_name(province: str) -> str:
    for suffix in SUFFIXES:
        if province.endswith(suffix) and len(province) > len(suffix):
            return province[: -len(suffix)]
    return province


_BY_SHORT = {short_name(p): p for p in PROVINCES}


def normalize_province(value: str | None, field: str = "province") -> str | None:
    """The official name of a province typed in full or short form; empty stays empty."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text in PROVINCES:
        return text
    found = _BY_SHORT.get(short_name(text))
    if found is None:
        raise ValidationFailed(_("省份不正确：{v}", v=text), field=field)
    return found


PROVINCE_CHOICES = tuple((p, p) for p in PROVINCES)


MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")


def split_address(text: str | None) -> tuple[str | None, str | None, str | None, str]:
    """A one-line Chinese address as platforms export it → (province, city, district, detail):
    "浙江省杭州市余杭区文一西路969号" → ("浙江省", "杭州市", "余杭区", "文一西路969号");
    "上海浦东新区张江路200号" → ("上海市", "上海市", "浦东新区", "张江路200号"). Parts that are not
    recognised stay in the detail; nothing is ever dropped. The splitting itself is
    `opensupply.masterdata.addresses.split` (jionlp's division data), shared with the OMS."""
    from .addresses import split

    province, city, district, detail = split(text)
    if province is None:
        return None, None, None, (text or "").strip()
    return province, city, district, detail
