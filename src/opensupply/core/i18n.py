"""Translations and locale-aware formatting.

Message ids are the Simplified Chinese text (the default UI language), so an
untranslated string still reads correctly for the main audience; `locale/en/`
holds the English catalogs. Every `.po` file in a language folder is merged, so
each module can keep its own catalog file.
"""

from __future__ import annotations

import datetime as dt
import io
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"

_current_locale: ContextVar[str] = ContextVar("opensupply_locale", default=DEFAULT_LOCALE)
_current_tz: ContextVar[str] = ContextVar("opensupply_tz", default="Asia/Shanghai")


def normalize_locale(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    value = value.replace("-", "_")
    if value in SUPPORTED:
        return value
    if value.lower().startswith("zh"):
        return "zh_CN"
    if value.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def set_locale(value: str | None) -> str:
    loc = normalize_locale(value)
    _current_locale.set(loc)
    return loc


def get_locale() -> str:
    return _current_locale.get()


def set_timezone(tz: str | None) -> None:
    _current_tz.set(tz or "Asia/Shanghai")


@lru_cache
def translations(locale: str) -> NullTranslations:
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    merged: Translations | None = None
    for po in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        t = Translations(buf)
        merged = t if merged is None else merged.merge(t) or merged
    return merged or NullTranslations()


def gettext(message: str, **kwargs) -> str:
    text = translations(get_locale()).gettext(message)
    return text.format(**kwargs) if kwargs else text


def ngettext(singular: str, plural: str, n: int, **kwargs) -> str:
    text = translations(get_locale()).ngettext(singular, plural, n)
    return text.format(n=n, **kwargs)


def lazy_gettext(message: str) -> LazyProxy:
    """For labels defined at import time (menus, column titles)."""
    return LazyProxy(gettext, message, enable_cache=False)


_ = gettext


def format_decimal(value: Decimal | float | int | None, digits: int | None = None) -> str:
    if value is None:
        return ""
    if digits is not None:
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return numbers.format_decimal(value, format=fmt, locale=get_locale())
    value = Decimal(value).normalize() if isinstance(value, Decimal) else value
    return numbers.format_decimal(value, locale=get_locale(), decimal_quantization=False)


def format_money(value: Decimal | None, currency: str = "CNY") -> str:
    if value is None:
        return ""
    return numbers.format_currency(value, currency, locale=get_locale())


def format_datetime(value: dt.datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return dates.format_datetime(value, fmt, tzinfo=dates.get_timezone(_current_tz.get()), locale=get_locale())


def format_date(value: dt.date | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return dates.format_date(value, fmt, locale=get_locale())


def locale_name(code: str) -> str:
    return Locale.parse(code).display_name
