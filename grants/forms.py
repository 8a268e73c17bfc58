"""Form pieces shared by every package."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import NumberFormatError, parse_decimal
from flask import current_app, flash
from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
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


class LocaleDecimalField(DecimalField):
    """A decimal typed as the reader writes numbers: "2.5", or "2,5" and "20 000,50" in French.

    Plain notation always works; the reader's locale is tried only when it fails, and
    strictly, so "2,5" typed in English is an error rather than 25. A text input (with a
    decimal keypad on phones), since number inputs refuse a comma in many browsers.
    """

    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        raw = str(valuelist[0]).strip()
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


def field_error(form: Any, exc: Any) -> None:
    """Show an operation's refusal beside the field it names (kept with what was typed), or
    as a flash message when it names none."""
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, str(exc.message)]
    else:
        flash(str(exc.message), "error")
