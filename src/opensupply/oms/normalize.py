"""Normalizing what buyers typed: phone numbers, addresses, and the key that says "same recipient".

Pure functions, no database. Addresses are split by the code base's one address splitter,
`opensupply.masterdata.addresses` (jionlp's administrative-division data, prefix maps + cache,
falling back to `jionlp.parse_location`): about 135,000 distinct addresses/s on the fast path
on the build machine, about 600,000/s for repeated ones (see that module's docstring).

    normalize_phone("+86-138 0013 8000")  → ("13800138000", False)
    normalize_phone("138****8000")         → (None, True)       masked by the platform
    normalize_phone("(0571) 8888-6666")    → ("0571-88886666", False)
    normalize_phone("17012345678-1234")    → ("17012345678-1234", False)   virtual number + extension
    parse_address("浙江杭州市 余杭区文一西路969号") → Address("浙江省", "杭州市", "余杭区", "文一西路969号", True)
"""

from __future__ import annotations

import hashlib
import re

from opensupply.masterdata.addresses import Address, parse_address

__all__ = ["Address", "merge_key", "normalize_phone", "parse_address"]

_WIDE = str.maketrans("０１２３４５６７８９＋－（）＊", "0123456789+-()*")
_JUNK = re.compile(r"[\s\-()（）.·/]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_EXT = re.compile(r"^(1[3-9]\d{9})(?:[-#,转]|ext)(\d{1,6})$")
_THREE_DIGIT_AREAS = ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029")


def normalize_phone(raw: str | None) -> tuple[str | None, bool]:
    """(11-digit mainland mobile, or landline "area-number", or None; masked by the platform?)."""
    text = (raw or "").strip().translate(_WIDE).strip("'=\"\t ")
    if not text:
        return None, False
    if "*" in text or "x" in text.lower().replace("ext", ""):
        return None, True
    text = re.split(r"[;；,，、]|\s{2,}", text)[0]  # several numbers: the first one
    if text.endswith(".0"):  # a number that went through a spreadsheet as a float
        text = text[:-2]
    compact = text.replace(" ", "")
    ext = _EXT.match(re.sub(r"^(\+?86-?|0086-?)", "", compact))
    if ext:
        return f"{ext.group(1)}-{ext.group(2)}", False
    digits = _JUNK.sub("", text).lstrip("+")
    if not digits.isdigit():
        return None, False
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) in (10, 11, 12) and (
                _MOBILE.fullmatch(digits[len(prefix):]) or digits[len(prefix)] != "1"):
            digits = digits[len(prefix):]
            break
    if _MOBILE.fullmatch(digits):
        return digits, False
    if len(digits) == 10 and digits[:3] in ("400", "800"):  # 400/800 service numbers
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", False
    if len(digits) in (10, 11, 12) and digits[0] != "0" and digits[0] != "1":  # "571 88886666" after +86
        digits = "0" + digits
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        area = 3 if digits[:3] in _THREE_DIGIT_AREAS else 4
        return f"{digits[:area]}-{digits[area:]}", False
    if 7 <= len(digits) <= 8:  # a local number without area code
        return digits, False
    return None, False


_NOT_KEPT = re.compile(r"[^\w\x1f]+|_+")  # everything but letters/digits (any script) and the separator
_NORMALIZED_PHONE = re.compile(r"1[3-9]\d{9}(?:-\d{1,6})?|0\d{2,3}-\d{7,8}|\d{7,8}")


def merge_key(shop_id: int, receiver_name: str | None, phone: str | None, address: Address) -> str:
    """sha1 hex of (shop, name, phone, province, city, district, detail) normalized: spaces and
    punctuation removed, lower case; the phone normalized when it can be. Same recipient ⇔ same key."""
    if phone and not _NORMALIZED_PHONE.fullmatch(phone):
        phone = normalize_phone(phone)[0] or phone
    joined = "\x1f".join((str(shop_id), receiver_name or "", phone or "", address.province or "", address.city or "",
                          address.district or "", address.detail or ""))
    text = _NOT_KEPT.sub("", joined.translate(_WIDE)).lower()
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
