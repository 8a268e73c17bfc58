"""Form pieces shared by every package."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal
from flask import current_app, flash
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import DecimalField, Field, IntegerField, PasswordField, SelectField, TextAreaField
from wtforms import Form as _Form
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import TextInput

from grants import i18n


def choices(pairs: Any) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class LocaleField(SelectField):
    """Interface language, each named in its own language."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(label or _l("Language"), **kwargs)

    def pre_validate(self, form: Any) -> None:
        if self.data not in current_app.config["LANGUAGES"]:
            raise ValidationError(_l("Choose one of the listed languages."))

    def set_choices(self) -> None:
        """Fill the choices for this request."""
        self.choices = choices(
            (code, i18n.native_language_name(code)) for code in current_app.config["LANGUAGES"]
        )


class TimezoneField(SelectField):
    """An IANA time zone such as Asia/Tokyo."""

    def __init__(self, label: Any = None, **kwargs: Any) -> None:
        super().__init__(label or _l("Time zone"), **kwargs)

    def pre_validate(self, form: Any) -> None:
        if not i18n.valid_timezone(self.data):
            raise ValidationError(_l("Choose a time zone from the list."))

    def set_choices(self) -> None:
        """Fill the choices for this request."""
        self.choices = choices(
            (name, name.replace("_", " ")) for name in sorted(i18n.all_timezones())
        )


# C0 and C1 control characters and DEL. PostgreSQL refuses NUL in text, and none of them
# can be typed or shown; a text area keeps tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MULTILINE_ALLOWED = frozenset("\t\r\n")
# Line and paragraph separators: a single-line value (a title, a name) can reach an
# e-mail subject or header, where a line break would start a new header.
_LINE_BREAKS = frozenset("\r\n\u2028\u2029")
# The dates a form accepts: far enough from ``datetime.min``/``max`` that a local time
# converted to UTC, and from UTC into any reader's time zone, cannot overflow.
FIRST_DATE = date(1900, 1, 1)
LAST_DATE = date(9998, 12, 31)
# Every integer column is a 32-bit INTEGER.
MAX_INTEGER = 2**31 - 1


def control_character(text: str, *, multiline: bool) -> str | None:
    """The first character of ``text`` that a field of this kind refuses, or None."""
    for match in _CONTROL.finditer(text):
        if not (multiline and match.group() in _MULTILINE_ALLOWED):
            return match.group()
    if not multiline:
        return next((c for c in text if c in _LINE_BREAKS), None)
    return None


def _control_message(char: str) -> Any:
    if char in _LINE_BREAKS:
        return _l("Write this on one line: line breaks are not allowed here.")
    return _l(
        "Remove the invisible control character %(code)s from this text.",
        code=f"U+{ord(char):04X}",
    )


def check_input(form: Any, field: Field) -> None:
    """What every field of every form refuses, before its own validators run: control
    characters in text (line breaks too, outside text areas), dates outside
    1900-9999, integers beyond the database's columns."""
    if not isinstance(field, PasswordField):  # passwords are hashed, never stored or shown
        multiline = isinstance(field, TextAreaField)
        for raw in field.raw_data or ():
            char = control_character(raw, multiline=multiline) if isinstance(raw, str) else None
            if char is not None:
                # The value stays in the field: the page shows it back, beside the error.
                raise StopValidation(str(_control_message(char)))
    value = field.data
    if isinstance(value, date):
        day = value.date() if isinstance(value, datetime) else value
        if not FIRST_DATE <= day <= LAST_DATE:
            field.data = None
            raise StopValidation(
                str(
                    _l(
                        "Enter a date from %(first)s to %(last)s.",
                        first=format_date(FIRST_DATE),
                        last=format_date(LAST_DATE),
                    )
                )
            )
    if isinstance(field, IntegerField) and isinstance(value, int) and abs(value) > MAX_INTEGER:
        field.data = None
        raise StopValidation(str(_l("This number is too large.")))


class InputMeta(DefaultMeta):
    """Puts :func:`check_input` first in every field's validators."""

    def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
        field = super().bind_field(form, unbound_field, options)
        field.validators = [check_input, *field.validators]
        return field


class Form(_Form):
    """Base of every sub-form (rows of a list): refuses what no field may hold."""

    Meta = InputMeta


class FlaskForm(_FlaskForm):
    """Base of every form of the app (CSRF on): refuses what no field may hold."""

    class Meta(_FlaskForm.Meta, InputMeta):
        pass


class LocaleDecimalField(DecimalField):
    """A decimal typed as the reader writes numbers: "2.5", or "2,5" and "20 000,50" in French.

    Plain notation always works; the reader's locale is tried only when it fails, and
    strictly, so "2,5" typed in English is an error rather than 25. A text input (with a
    decimal keypad on phones), since number inputs refuse a comma in many browsers.

    ``digits`` and ``decimals`` are the precision and scale of the column the value goes
    to (``Numeric(14, 2)``, money, unless told otherwise): a value that does not fit is
    refused, never rounded or overflowing. Exponents ("1e30"), NaN and Infinity are no
    numbers a person types.
    """

    widget = TextInput()

    def __init__(self, *args: Any, digits: int = 14, decimals: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digits, self.decimals = digits, decimals

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = str(valuelist[0]).strip()
        if "e" in raw.lower():
            self.data = None
            raise ValueError(str(_l("Write the number in plain digits, without an exponent.")))
        try:
            value = Decimal(raw)
        except InvalidOperation:
            pass
        else:
            if not value.is_finite():  # "NaN", "sNaN", "Infinity" are no amounts
                self.data = None
                raise ValueError(self.gettext("Not a valid decimal value."))
            self.data = value
            return
        try:
            self.data = parse_decimal(raw, locale=i18n.locale_name(), strict=True)
        except (NumberFormatError, ValueError) as exc:
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value.")) from exc

    def pre_validate(self, form: Any) -> None:
        value = self.data
        if value is None:
            return
        if not value.is_finite():
            self.data = None
            raise StopValidation(self.gettext("Not a valid decimal value."))
        with localcontext() as exact:  # enough digits for the column: no rounding here
            exact.prec = self.digits + 2
            step = Decimal(1).scaleb(-self.decimals)
            largest = Decimal(10) ** (self.digits - self.decimals) - step
            fits = abs(value) <= largest
            whole_steps = fits and value == value.quantize(step)
        if value > largest:
            self.data = None
            raise StopValidation(
                str(
                    _l(
                        "This number is too large: at most %(high)s.",
                        high=i18n.format_exact_number(largest),
                    )
                )
            )
        if value < -largest:
            self.data = None
            raise StopValidation(
                str(
                    _l(
                        "This number is too small: at least %(low)s.",
                        low=i18n.format_exact_number(-largest),
                    )
                )
            )
        if not whole_steps:
            self.data = None
            raise StopValidation(
                str(
                    _ln(
                        "Use at most %(num)d decimal.",
                        "Use at most %(num)d decimals.",
                        self.decimals,
                    )
                )
            )


def field_error(form: Any, exc: Any) -> None:
    """Show an operation's refusal beside the field it names (kept with what was typed), or
    as a flash message when it names none."""
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")
