"""Locale and time zone selection, and Babel-based formatting helpers for templates."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_timedelta
from babel.lists import format_list as babel_format_list
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.numbers import format_percent as babel_format_percent
from babel.units import format_unit
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user

from grants.domain.countries import countries

TZ_COOKIE = "grants_tz"


def _signed_in() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))


def supported_locales() -> list[str]:
    """Interface languages with complete catalogs."""
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    """The user's setting, then ``?lang=`` kept in the session, then Accept-Language."""
    languages = supported_locales()
    if not has_request_context():  # mail worker, CLI: callers use force_locale
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    if _signed_in() and current_user.locale in languages:
        return str(current_user.locale)
    chosen = session.get("lang")
    if chosen in languages:
        return str(chosen)
    best = request.accept_languages.best_match(languages)
    if best is None:  # "zh-Hans-CN" or "th-TH-u-nu-thai": match on the language alone
        by_language = {code.split("_")[0]: code for code in languages}
        for tag, _quality in request.accept_languages:
            language = tag.replace("_", "-").split("-")[0].lower()
            if language in by_language:
                return by_language[language]
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


@cache
def all_timezones() -> frozenset[str]:
    """IANA time zone names known to this system."""
    return frozenset(available_timezones())


def valid_timezone(name: str | None) -> bool:
    """True for an IANA time zone name such as ``Asia/Tokyo``."""
    return bool(name) and name in all_timezones()


def select_timezone() -> str:
    """The user's setting, then the browser's (set by a small script), then the default."""
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    if _signed_in() and valid_timezone(current_user.timezone):
        return str(current_user.timezone)
    browser = unquote(request.cookies.get(TZ_COOKIE, ""))
    if valid_timezone(browser):
        return browser
    return str(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def locale_name() -> str:
    """The current locale as a string such as ``ja``."""
    return str(get_locale() or "en")


def format_dt(value: datetime | None, tz: str | None = None, fmt: str = "medium") -> str:
    """A timezone-aware datetime in ``tz`` (default: the reader's), in the reader's locale."""
    if value is None:
        return ""
    zone = ZoneInfo(tz) if tz else ZoneInfo(str(get_timezone()))
    return babel_format_datetime(value, format=fmt, tzinfo=zone, locale=locale_name()) + (
        f" ({tz_label(zone, value)})"
    )


def countdown(moment: datetime) -> str:
    """How long until ``moment``, in words of the reader's language ("in 3 days")."""
    from grants.types import utcnow

    delta = moment - utcnow()
    if delta.total_seconds() <= 0:
        return str(_("closed"))
    return str(format_timedelta(delta, add_direction=True, locale=locale_name(), threshold=1.5))


def tz_label(zone: ZoneInfo, value: datetime) -> str:
    """The zone's name and UTC offset at that moment, e.g. ``Asia/Tokyo, UTC+09:00``."""
    offset = value.astimezone(zone).strftime("%z")
    return f"{zone.key}, UTC{offset[:3]}:{offset[3:]}"


def format_money(amount: Decimal | None, currency: str) -> str:
    """Money with the currency's symbol and decimals (JPY has none), in the reader's locale."""
    if amount is None:
        return ""
    return format_currency(amount, currency, locale=locale_name())


def format_percent(value: Decimal | float) -> str:
    """A share as a percentage in the reader's locale (0.7 -> "70%", "70 %")."""
    return str(babel_format_percent(value, locale=locale_name()))


def format_number(value: Decimal | int | float) -> str:
    """A number in the reader's locale."""
    return format_decimal(value, locale=locale_name())


def format_exact_number(value: Decimal) -> str:
    """A number in the reader's locale with all its decimals (``format_number`` keeps three)."""
    return format_decimal(value, locale=locale_name(), decimal_quantization=False)


def format_file_size(size: int) -> str:
    """A file size in the reader's locale: "60 byte", "1.2 kB", "3.4 MB"."""
    if size < 1024:
        return str(format_unit(size, "digital-byte", length="short", locale=locale_name()))
    if size < 1024 * 1024:
        return str(
            format_unit(
                round(size / 1024, 1), "digital-kilobyte", length="short", locale=locale_name()
            )
        )
    return str(
        format_unit(
            round(size / 1024 / 1024, 1), "digital-megabyte", length="short", locale=locale_name()
        )
    )


def too_many_decimals(value: Decimal, places: int) -> bool:
    """True when the value itself needs more decimals (20000.00 is fine for JPY)."""
    return value != value.quantize(Decimal(1).scaleb(-places))


def currency_precision(currency: str) -> int:
    """Number of decimals the currency uses (ISO 4217 via CLDR)."""
    return int(get_currency_precision(currency))


def format_list_text(items: Iterable[Any]) -> str:
    """A list in the reader's language: "a, b and c", "a、b、c"."""
    return str(babel_format_list([str(item) for item in items], locale=locale_name()))


def _locale() -> Locale:
    return Locale.parse(locale_name())


def country_name(code: str | None) -> str:
    """A country's name in the reader's language, from CLDR."""
    if not code:
        return ""
    known = countries().get(code)
    return str(_locale().territories.get(code) or (known.name if known else code))


def language_name(code: str | None) -> str:
    """A language's name in the reader's language, from CLDR."""
    if not code:
        return ""
    return str(_locale().languages.get(code, code))


def currency_name(code: str) -> str:
    """A currency's name in the reader's language, from CLDR."""
    return str(_locale().currencies.get(code, code))


@cache
def _icu_sort_key(locale: str) -> Any:
    """ICU's collation for the locale (its alphabet: Czech ch after h, Chinese by pinyin), when
    PyICU is installed (the ``icu`` extra); else None."""
    try:
        import icu  # type: ignore[import-not-found]
    except ImportError:
        return None
    return icu.Collator.createInstance(icu.Locale(locale)).getSortKey


@cache
def _uca() -> Any:
    """The Unicode Collation Algorithm with its default table: every script in a sensible
    order (Thai by consonant, not by leading vowel), without any language's own rules."""
    import pyuca

    return pyuca.Collator()


def sort_key(text: str) -> Any:
    """A key that sorts long lists (countries, languages) by the reader's collation."""
    key = _icu_sort_key(locale_name())
    if key is not None:
        return key(text)
    return _uca().sort_key(unicodedata.normalize("NFC", text))


def country_choices() -> list[tuple[str, str]]:
    """(code, localised name) for every country, sorted for the reader."""
    pairs = [(code, country_name(code)) for code in countries()]
    return sorted(pairs, key=lambda pair: sort_key(pair[1]))


def native_language_name(code: str) -> str:
    """A language's name in that language (for the language picker)."""
    return str(Locale.parse(code).get_display_name(code) or code)


def call_title(call: Any, plain: bool = False) -> Any:
    """A call's title in the reader's language; a title in another language is marked as
    such (never a silent fallback). ``plain`` gives text for places that take no markup."""
    from markupsafe import Markup, escape

    value = call.text("title", locale_name())
    if not (value.fallback and value.text):
        return (
            value.text
            if plain
            else Markup('<span lang="{}">{}</span>').format(value.language, value.text)
        )
    marker = str(_("in %(language)s", language=language_name(value.language)))
    if plain:
        return f"{value.text} ({marker})"
    return Markup('<span lang="{}">{}</span> <span class="fallback">({})</span>').format(
        value.language, value.text, escape(marker)
    )
