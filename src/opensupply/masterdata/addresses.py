"""The one Chinese address splitter of the code base: a one-line address as people and platforms
type it → province / city / district / detail, using jionlp's administrative-division data (a
maintained library, not a hand-made table).

Fast path: at first use the division tree shipped with jionlp (`china_location_loader()`, 省/市/县
levels) is turned into prefix maps — {name or alias → division} per level, with the distinct key
lengths of each map — so splitting is a handful of dict look-ups on string prefixes; the last
32k distinct inputs are also cached whole (a buyer's address comes back with every order). Only
when no province, city or district can be read from the start of the text does it fall back to
`jionlp.parse_location` (slow, ~300/s, also cached), which finds divisions later in the text.
A district name alone is enough on the fast path ("余杭区文一西路" → 浙江省 杭州市 余杭区) when it is
unique in the country.

Measured on the build machine (2 shared cores, CPython 3.11, 200,000 addresses): about 135,000
distinct one-line addresses/s on the fast path (cache misses; ~170,000/s CPU time), about 150,000/s
for addresses given as parts (拼多多/有赞), about 600,000/s when addresses repeat (cache hits);
building the maps takes ~1 s once.

Special cases: municipalities (北京/上海/天津/重庆) get city = the municipality, also when the
city is repeated ("上海市上海市青浦区…") or omitted ("上海浦东新区…"); cities without districts
(东莞, 中山, 儋州, 嘉峪关) and county-level cities directly under a province (仙桃, 石河子) take the
following town or street office (…镇/…乡/…街道) as the district, as platform exports do; a
functional zone (工业园区, 高新区, …开发区) right after the city is taken as the district too. District
aliases are not matched ("西湖文化广场" keeps its 西湖), only full names. Nothing is ever dropped:
what is not recognised stays in the detail.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
_DIRECT = ("省直辖行政区划", "自治区直辖县级行政区划", "市直辖行政区划")
_TOWN = re.compile(r"^(.{1,9}?(?:镇|乡|街道|街道办事处|开发区|工业区|新区))")
_ZONE = re.compile(r"^(.{0,8}?(?:经济技术开发区|开发区|高新区|工业园区|新区))")  # 功能区, not in the official tree
_SPACES = re.compile(r"[\s\u3000,，]+")
_POSTCODE = re.compile(r"[(（]\d{6}[)）]$")  # 淘宝 appends "(311121)"


@dataclass(frozen=True)
class Address:
    province: str | None
    city: str | None
    district: str | None
    detail: str | None
    complete: bool


class _Index:
    """Prefix maps built from jionlp's division tree."""

    def __init__(self) -> None:
        with contextlib.redirect_stdout(io.StringIO()):  # jionlp and jiojio print banners on import
            import jionlp  # noqa: F401
            from jionlp.dictionary.dictionary_loader import china_location_loader

            tree = china_location_loader()
        self.provinces: dict[str, str] = {}
        self.cities: dict[str, dict[str, tuple[str, bool]]] = {}  # province → name → (city, town_as_district)
        self.districts: dict[tuple[str, str], dict[str, str]] = {}  # (province, city) → name → district
        self.city_anywhere: dict[str, tuple[str, str, bool] | None] = {}  # full city name → (province, city, …)
        self.district_anywhere: dict[str, tuple[str, str, str] | None] = {}
        for province, pnode in tree.items():
            self.provinces[province] = province
            alias = pnode.get("_alias")
            if alias:
                self.provinces.setdefault(alias, province)
            cities: dict[str, tuple[str, bool]] = {}
            for city, cnode in pnode.items():
                if city.startswith("_"):
                    continue
                children = [k for k in cnode if not k.startswith("_")]
                if city in _DIRECT:  # county-level cities under the province: they act as cities
                    for county, knode in cnode.items():
                        if county.startswith("_"):
                            continue
                        cities[county] = (county, True)
                        if knode.get("_alias") and len(knode["_alias"]) >= 2:
                            cities.setdefault(knode["_alias"], (county, True))
                        self._anywhere(self.city_anywhere, county, (province, county, True))
                    continue
                town_level = all(k in _DIRECT for k in children)  # 东莞市, 中山市 …
                cities[city] = (city, town_level)
                for a in cnode.get("_alias") or []:
                    if a and len(a) >= 2:
                        cities.setdefault(a, (city, town_level))
                self._anywhere(self.city_anywhere, city, (province, city, town_level))
                districts: dict[str, str] = {}
                for district in children:
                    if district in _DIRECT:
                        continue
                    districts[district] = district
                    self._anywhere(self.district_anywhere, district, (province, city, district))
                self.districts[(province, city)] = districts
            self.cities[province] = cities
        self.province_lengths = _lengths(self.provinces)
        self.city_lengths = {p: _lengths(c) for p, c in self.cities.items()}
        self.district_lengths = {k: _lengths(d) for k, d in self.districts.items()}
        self.city_any_lengths = _lengths(self.city_anywhere)
        self.district_any_lengths = _lengths(self.district_anywhere)
        self.official_provinces = frozenset(tree)

    @staticmethod
    def _anywhere(index: dict, name: str, value: tuple) -> None:
        index[name] = None if name in index and index[name] != value else value  # ambiguous names → None


def _lengths(mapping: dict[str, object]) -> tuple[int, ...]:
    return tuple(sorted({len(k) for k in mapping}, reverse=True))


_index: _Index | None = None
_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _lock:
            if _index is None:
                _index = _Index()
    return _index


def _prefix(text: str, mapping: dict, lengths: tuple[int, ...]):
    for n in lengths:
        if n <= len(text):
            hit = mapping.get(text[:n])
            if hit is not None:
                return hit, n
    return None, 0


def _city_and_rest(ix: _Index, province: str, rest: str) -> tuple[str | None, bool, str]:
    (hit, n) = _prefix(rest, ix.cities.get(province, {}), ix.city_lengths.get(province, ()))
    if hit is not None:
        city, town_level = hit
        rest = rest[n:]
        if province in MUNICIPALITIES:  # "上海市上海市…" / "北京北京市…"
            again, m = _prefix(rest, ix.cities[province], ix.city_lengths[province])
            if again is not None and again[0] == city:
                rest = rest[m:]
        return city, town_level, rest
    if province in MUNICIPALITIES:
        return province, False, rest
    return None, False, rest


def _district_and_rest(ix: _Index, province: str, city: str, town_level: bool, rest: str) -> tuple[str | None, str]:
    if town_level:
        m = _TOWN.match(rest)
        return (m.group(1), rest[m.end():]) if m else (None, rest)
    key = (province, city)
    hit, n = _prefix(rest, ix.districts.get(key, {}), ix.district_lengths.get(key, ()))
    if hit is not None:
        return hit, rest[n:]
    m = _ZONE.match(rest)  # "苏州市工业园区…", "成都市高新区…": platforms use these as districts
    if m and len(m.group(1)) >= 3:
        return m.group(1), rest[m.end():]
    return None, rest


@lru_cache(maxsize=32_768)  # repeated addresses (same buyer); distinct ones go through the prefix maps
def split(text: str | None) -> tuple[str | None, str | None, str | None, str]:
    """A one-line address → (province, city, district, detail). The detail is "" when nothing is
    left; when nothing is recognised the whole text (trimmed) is the detail."""
    original = _POSTCODE.sub("", (text or "").strip()).strip()
    rest = _SPACES.sub("", original)
    if not rest:
        return None, None, None, ""
    ix = _get_index()
    province, n = _prefix(rest, ix.provinces, ix.province_lengths)
    if province is not None:
        p, c, d, detail, confirmed = _after_province(ix, province, rest[n:])
        spaced = original[:n] == rest[:n] and original[n:n + 1] in (" ", "\u3000")  # "上海 张江路…"
        if confirmed or spaced or n == len(province):
            return p, c, d, detail
        # a short name not followed by a city or district is part of a street: "北京路1号", "山西路…"
    hit, n = _prefix(rest, ix.city_anywhere, ix.city_any_lengths)
    if hit is not None:  # "杭州市余杭区…": province inferred from a unique city name
        province, city, town_level = hit
        district, rest = _district_and_rest(ix, province, city, town_level, rest[n:])
        return province, city, district, rest
    hit, n = _prefix(rest, ix.district_anywhere, ix.district_any_lengths)
    if hit is not None:  # "浦东新区张江路…": unique district name
        return hit[0], hit[1], hit[2], rest[n:]
    return _slow_split(original)


def _after_province(ix: _Index, province: str, rest: str) -> tuple[str, str | None, str | None, str, bool]:
    """(province, city, district, detail, a city or district was actually read)."""
    city, town_level, after_city = _city_and_rest(ix, province, rest)
    if city is None:
        hit, m = _prefix(rest, ix.district_anywhere, ix.district_any_lengths)
        if hit is not None and hit[0] == province:  # "浙江省余杭区…": city inferred from the district
            return hit[0], hit[1], hit[2], rest[m:], True
        return province, None, None, rest, False
    district, detail = _district_and_rest(ix, province, city, town_level, after_city)
    return province, city, district, detail, after_city != rest or district is not None


@lru_cache(maxsize=8_192)
def _slow_split(text: str) -> tuple[str | None, str | None, str | None, str]:
    import jionlp

    try:
        found = jionlp.parse_location(_SPACES.sub("", text), town_village=False, change2new=True)
    except Exception:  # the library's own errors must not stop an import
        return None, None, None, text
    province = found.get("province")
    city, district = found.get("city"), found.get("county")
    compact = _SPACES.sub("", text)
    # the library also reads short names inside street names ("中山北路" → 中山市, "南京东路" → 南京市):
    # trust it only when a division's full name is really written in the text
    if not province or not any(name and name in compact for name in (province, city, district)):
        return None, None, None, text
    detail = found.get("detail") or ""
    starts = [compact.find(name) for name in (province, city, district) if name and name in compact]
    before = compact[:min(starts)]
    if before and not before.endswith((":", "：")):  # "某某小区 杭州市余杭区…": keep what came first
        detail = f"{detail}{before}"
    if city is None and district:  # county-level city directly under the province
        city, district = district, None
    return province, city, district, detail


def normalize_parts(province: str | None, city: str | None, district: str | None,
                    detail: str | None) -> tuple[str | None, str | None, str | None, str]:
    """Parts given separately (拼多多 省/市/区/街道, API fields) → official names; a detail that
    repeats the province/city/district at its start loses the repetition."""
    p, c, d = (_SPACES.sub("", x or "") or None for x in (province, city, district))
    rest = _SPACES.sub("", detail or "")
    if not (p or c or d):
        return split(detail)
    ix = _get_index()
    if p:
        hit, n = _prefix(p, ix.provinces, ix.province_lengths)
        p = hit if hit is not None and n == len(p) else p
    town_level = False
    if c and p in ix.cities:
        hit, n = _prefix(c, ix.cities[p], ix.city_lengths[p])
        if hit is not None and n == len(c):
            c, town_level = hit
    elif c and not p:
        hit, n = _prefix(c, ix.city_anywhere, ix.city_any_lengths)
        if hit is not None and n == len(c):
            p, c, town_level = hit
    if p in MUNICIPALITIES and (c is None or c in ("市辖区", "县", p[:-1])):
        c = p
    if d and p and c:
        key = (p, c)
        hit, n = _prefix(d, ix.districts.get(key, {}), ix.district_lengths.get(key, ()))
        if hit is not None and n == len(d):
            d = hit
    rest = _strip_repeated(ix, p, c, d, rest)  # "浙江杭州市余杭区文一西路…" given as the detail
    if p and c and not d:
        d, rest = _district_and_rest(ix, p, c, town_level, rest)
    return p, c, d, rest


def _strip_repeated(ix: _Index, p: str | None, c: str | None, d: str | None, rest: str) -> str:
    """The detail without a leading copy of the province, city and district (full or short names).
    A short name is only taken as a copy when the next part follows it ("湖南路1号" in 湖南省 stays)."""
    original = rest
    took_province = took_city_alias = False
    if p:
        hit, n = _prefix(rest, ix.provinces, ix.province_lengths)
        if hit == p:
            rest, took_province = rest[n:], True
    took_city = False
    if p and c and p in ix.cities:
        for _twice in range(2):  # 上海市上海市…
            hit, n = _prefix(rest, ix.cities[p], ix.city_lengths[p])
            if hit is None or hit[0] != c:
                break
            took_city, took_city_alias = True, took_city_alias or rest[:n] != c
            rest = rest[n:]
    elif c and rest.startswith(c):
        rest, took_city = rest[len(c):], True
    took_district = bool(d) and rest.startswith(d)
    if took_district:
        rest = rest[len(d):]
    if took_province and not (took_city or took_district) and original[:len(p)] != p:
        return original  # a short province name followed by something else: part of the street
    if took_city_alias and not took_district and not took_province:
        return original
    return rest


def is_complete(province: str | None, city: str | None, district: str | None, detail: str | None) -> bool:
    return bool(province and city and district and detail and len(detail.strip()) >= 4)


def parse_address(text: str | None, *, province: str | None = None, city: str | None = None,
                  district: str | None = None, detail: str | None = None) -> Address:
    """See `opensupply.oms.normalize.parse_address`."""
    if province or city or district:
        p, c, d, rest = normalize_parts(province, city, district, detail if detail is not None else text)
    else:
        p, c, d, rest = split(text if text else detail)
    return Address(p, c, d, rest or None, is_complete(p, c, d, rest))


# province capitals (lat, lon): distance between provinces (OMS warehouse choice, SCM transfer costs)
PROVINCE_CAPITALS: dict[str, tuple[float, float]] = {
    "北京": (39.90, 116.41), "天津": (39.13, 117.20), "河北": (38.04, 114.51), "山西": (37.87, 112.55),
    "内蒙古": (40.84, 111.75), "辽宁": (41.80, 123.43), "吉林": (43.82, 125.32), "黑龙江": (45.80, 126.53),
    "上海": (31.23, 121.47), "江苏": (32.06, 118.80), "浙江": (30.27, 120.16), "安徽": (31.82, 117.23),
    "福建": (26.07, 119.30), "江西": (28.68, 115.86), "山东": (36.65, 117.12), "河南": (34.75, 113.62),
    "湖北": (30.59, 114.31), "湖南": (28.23, 112.94), "广东": (23.13, 113.26), "广西": (22.82, 108.37),
    "海南": (20.04, 110.35), "重庆": (29.56, 106.55), "四川": (30.57, 104.07), "贵州": (26.65, 106.63),
    "云南": (25.04, 102.71), "西藏": (29.65, 91.13), "陕西": (34.34, 108.94), "甘肃": (36.06, 103.83),
    "青海": (36.62, 101.78), "宁夏": (38.49, 106.23), "新疆": (43.83, 87.62), "香港": (22.32, 114.17),
    "澳门": (22.20, 113.55), "台湾": (25.03, 121.57),
}


def province_key(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip()
    for key in PROVINCE_CAPITALS:
        if name.startswith(key):
            return key
    return None


def province_distance_km(a: str | None, b: str | None) -> float:
    """Great-circle distance between two provinces' capitals; unknown provinces are far (5000 km)."""
    ka, kb = province_key(a), province_key(b)
    if ka is None or kb is None:
        return 5000.0
    if ka == kb:
        return 0.0
    (la1, lo1), (la2, lo2) = PROVINCE_CAPITALS[ka], PROVINCE_CAPITALS[kb]
    p1, p2, dl = math.radians(la1), math.radians(la2), math.radians(lo2 - lo1)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0 * math.acos(max(-1.0, min(1.0, c)))
