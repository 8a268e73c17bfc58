"""Application forms. Every form of an editable section carries the version it was read at."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DecimalField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from grants import i18n
from grants.applications.models import BUDGET_CATEGORIES
from grants.calls.forms import MultiCheckboxField, decimals_message
from grants.calls.models import Call
from grants.domain.vocabulary import CONTENT_LANGUAGES
from grants.forms import FlaskForm, Form, LocaleDecimalField, choices
from grants.labels import ARTFORM_LABELS

CATEGORY_LABELS: dict[str, Any] = {
    "fees": _l("Fees"),
    "travel": _l("Travel"),
    "accommodation": _l("Accommodation"),
    "production": _l("Production"),
    "equipment": _l("Equipment"),
    "communication": _l("Communication"),
    "other": _l("Other costs"),
}
MAX_AMOUNT = Decimal("999999999999")


def _language_choices(codes: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted(
        ((c, i18n.language_name(c)) for c in codes), key=lambda pair: i18n.sort_key(pair[1])
    )


class VersionedForm(FlaskForm):
    """A section form that knows which saved version it was loaded from."""

    version = HiddenField()

    def version_number(self) -> int:
        """The version the user started from (0 for a section never saved)."""
        try:
            return int(self.version.data or 0)
        except ValueError:
            return -1


class StartForm(FlaskForm):
    """Start an application for one of my organisations."""

    organisation = SelectField(_l("Apply as lead partner for"), validators=[DataRequired()])
    submit = SubmitField(_l("Start the application"))


class GeneralForm(VersionedForm):
    """Title, summary and what the project is about."""

    title = StringField(_l("Project title"), validators=[Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=5000)], render_kw={"rows": 6})
    summary_language = SelectField(_l("Language of the summary"), validators=[Optional()])
    artforms = MultiCheckboxField(_l("Artforms of the project"))
    languages = MultiCheckboxField(_l("Languages of the project"))
    submit = SubmitField(_l("Save"))

    def setup(self, call: Call) -> GeneralForm:
        """Choices from the call."""
        self.summary_language.choices = choices(
            [("", _l("Choose a language")), *_language_choices(call.languages)]
        )
        self.artforms.choices = choices((c, ARTFORM_LABELS.get(c, c)) for c in call.artforms)
        self.languages.choices = choices(_language_choices(CONTENT_LANGUAGES))
        return self


class AnswerForm(VersionedForm):
    """The answer to one question."""

    text = TextAreaField(_l("Your answer"), validators=[Length(max=50000)], render_kw={"rows": 14})
    language = SelectField(_l("Language of this answer"), validators=[DataRequired()])
    translation = TextAreaField(
        _l("Translation (optional)"),
        validators=[Length(max=50000)],
        render_kw={"rows": 10},
        description=_l(
            "Reviewers who do not read the language of your answer see your translation "
            "beside it, marked as a translation. Only the original counts towards the word "
            "limit."
        ),
    )
    translation_language = SelectField(_l("Language of the translation"))
    submit = SubmitField(_l("Save answer"))

    def setup(self, call: Call) -> AnswerForm:
        """Languages the call accepts."""
        self.language.choices = choices(_language_choices(call.languages))
        self.translation_language.choices = choices(
            [("", _l("No translation")), *_language_choices(call.languages)]
        )
        return self


def _money(label: Any) -> DecimalField:
    return LocaleDecimalField(
        label,
        places=None,
        default=Decimal(0),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_AMOUNT)],
        render_kw={"inputmode": "decimal"},
    )


class PartnerForm(VersionedForm):
    """A partner's role and money, in one currency."""

    role = TextAreaField(
        _l("Role in the project"), validators=[Length(max=3000)], render_kw={"rows": 4}
    )
    currency = SelectField(_l("Currency of this budget"), validators=[DataRequired()])
    grant_requested = _money(_l("Grant requested"))
    contribution_cash = _money(_l("Own contribution in cash"))
    contribution_in_kind = _money(_l("Own contribution in kind"))
    submit = SubmitField(_l("Save"))

    def setup(self, call: Call) -> PartnerForm:
        """The call's currency and those it has fixed rates for."""
        codes = [call.currency, *(r.currency for r in call.exchange_rates)]
        self.currency.choices = choices((c, f"{c} · {i18n.currency_name(c)}") for c in codes)
        return self

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return (
            _check_decimals(
                self.currency.data,
                [self.grant_requested, self.contribution_cash, self.contribution_in_kind],
            )
            and ok
        )


def _check_decimals(currency: str | None, fields: list[Any]) -> bool:
    ok = True
    if not currency:
        return ok
    places = i18n.currency_precision(currency)
    for field in fields:
        if field.data is not None and i18n.too_many_decimals(field.data, places):
            field.errors = [*field.errors, decimals_message(currency, places)]
            ok = False
    return ok


class BlankableDecimalField(LocaleDecimalField):
    """A decimal that may be left empty (then ``None``, without an error)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class LineForm(Form):
    """One budget line; a line left empty is ignored."""

    category = SelectField(_l("Category"), validators=[Optional()])
    description = StringField(_l("Description"), validators=[Length(max=300)])
    amount = BlankableDecimalField(_l("Amount"), places=None, render_kw={"inputmode": "decimal"})

    def validate_category(self, field: SelectField) -> None:
        if self.is_filled() and field.data not in BUDGET_CATEGORIES:
            raise ValidationError(_l("Choose a category."))

    def validate_description(self, field: StringField) -> None:
        if self.is_filled() and not (field.data or "").strip():
            raise ValidationError(_l("Describe the cost."))

    def validate_amount(self, field: DecimalField) -> None:
        if field.errors:  # not a number: already said
            return
        if self.is_filled() and field.data is None:
            raise ValidationError(_l("Enter the amount."))
        if field.data is not None and field.data < 0:
            raise ValidationError(_l("Enter an amount of zero or more."))
        if field.data is not None and field.data > MAX_AMOUNT:
            raise ValidationError(_l("This amount is too large."))

    def is_filled(self) -> bool:
        """True when any part of the line was typed (an unparseable amount counts)."""
        typed_amount = any((raw or "").strip() for raw in (self.amount.raw_data or []))
        return bool((self.description.data or "").strip() or typed_amount)


class BudgetForm(VersionedForm):
    """A partner's budget lines."""

    lines = FieldList(FormField(LineForm), min_entries=1)
    submit = SubmitField(_l("Save budget"))

    def setup(self, currency: str) -> BudgetForm:
        """Category choices and the currency's decimals."""
        self.currency = currency
        for entry in self.lines:
            entry.form.category.choices = choices([("", _l("Choose")), *CATEGORY_LABELS.items()])
        return self

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return _check_decimals(self.currency, [e.form.amount for e in self.lines]) and ok

    def filled_lines(self) -> list[tuple[str, str, Decimal]]:
        """The lines typed, in order."""
        return [
            (e.form.category.data, e.form.description.data or "", e.form.amount.data)
            for e in self.lines
            if e.form.is_filled()
        ]


class FlowForm(FlaskForm):
    """A mobility flow."""

    from_country = SelectField(_l("From country"), validators=[DataRequired()])
    to_country = SelectField(_l("To country"), validators=[DataRequired()])
    people = IntegerField(
        _l("Number of people"), validators=[InputRequired(), NumberRange(min=1, max=10000)]
    )
    days = IntegerField(
        _l("Days per person"), validators=[InputRequired(), NumberRange(min=1, max=3650)]
    )
    purpose = StringField(_l("Purpose"), validators=[DataRequired(), Length(max=300)])
    submit = SubmitField(_l("Add journey"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        countries = choices([("", _l("Choose a country")), *i18n.country_choices()])
        self.from_country.choices = countries
        self.to_country.choices = list(countries)


class AttachmentForm(FlaskForm):
    """Upload a PDF."""

    file = FileField(
        _l("PDF document"),
        validators=[FileRequired(_l("Choose a PDF file."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )
    submit = SubmitField(_l("Upload"))

    def limit_text(self) -> str:
        """The size limit in MB, for the hint."""
        return f"{current_app.config['UPLOAD_MAX_BYTES'] / 1024 / 1024:g}"


class InviteForm(FlaskForm):
    """Invite a partner organisation by e-mail."""

    email = EmailField(
        _l("E-mail address of the partner's contact person"),
        validators=[DataRequired(), Email(), Length(max=254)],
    )
    locale = SelectField(_l("Language of the invitation e-mail"), validators=[DataRequired()])
    message = TextAreaField(
        _l("Personal message (optional)"), validators=[Length(max=2000)], render_kw={"rows": 3}
    )
    submit = SubmitField(_l("Send invitation"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = choices(
            (c, i18n.native_language_name(c)) for c in current_app.config["LANGUAGES"]
        )


class AcceptForm(FlaskForm):
    """Accept an invitation for one of my organisations."""

    organisation = SelectField(_l("Join as partner for"), validators=[DataRequired()])
    submit = SubmitField(_l("Join the partnership"))
