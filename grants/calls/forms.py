"""Funder and call forms."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from grants import i18n
from grants.calls.operations import rate_problem
from grants.domain.countries import regions
from grants.domain.vocabulary import ARTFORMS, CONTENT_LANGUAGES, CURRENCIES, SCORE_STEPS
from grants.forms import FlaskForm, LocaleDecimalField, TimezoneField, choices
from grants.labels import ARTFORM_LABELS


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FunderForm(FlaskForm):
    """Create or edit a funder organisation."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    website = URLField(
        _l("Website"),
        validators=[
            Optional(),
            URL(message=_l("Enter a full address such as https://example.org.")),
            Length(max=300),
        ],
    )
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", _l("Choose a country")), *i18n.country_choices()])


class AddOfficerForm(FlaskForm):
    """Name a programme officer by the e-mail of their account."""

    email = EmailField(
        _l("E-mail address of the officer's account"), validators=[DataRequired(), Email()]
    )
    submit = SubmitField(_l("Add officer"))


def _amount(label: Any) -> DecimalField:
    return LocaleDecimalField(
        label,
        places=None,
        validators=[InputRequired(), NumberRange(min=0, max=Decimal("999999999999"))],
        render_kw={"inputmode": "decimal"},
    )


class CallSettingsForm(FlaskForm):
    """Everything about a call except its texts and criteria."""

    reference_prefix = StringField(
        _l("Reference prefix"),
        validators=[
            DataRequired(),
            Regexp(
                r"^[A-Z][A-Z0-9]{1,11}$",
                message=_l("Use 2 to 12 capital letters or digits, starting with a letter."),
            ),
        ],
        description=_l("Application references start with it, for example AECF-2026-0042."),
    )
    default_language = SelectField(
        _l("Default language of the call"),
        validators=[DataRequired()],
        description=_l("Readers see this version when the call has none in their language."),
    )
    timezone = TimezoneField(
        _l("Time zone of the call"),
        description=_l("Opening and closing times are in this time zone."),
    )
    opens_at = DateTimeLocalField(
        _l("Opens at"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired()],
        description=_l("Local time in the call's time zone."),
    )
    closes_at = DateTimeLocalField(
        _l("Closes at"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired()],
        description=_l(
            "Local time in the call's time zone. Applications are refused from this minute on."
        ),
    )
    currency = SelectField(_l("Currency"), validators=[DataRequired()])
    budget_envelope = _amount(_l("Budget envelope"))
    grant_min = _amount(_l("Smallest grant"))
    grant_max = _amount(_l("Largest grant"))
    min_partners = IntegerField(
        _l("Minimum number of partners"),
        default=2,
        validators=[InputRequired(), NumberRange(min=1, max=50)],
    )
    min_countries = IntegerField(
        _l("Minimum number of distinct countries"),
        default=2,
        validators=[InputRequired(), NumberRange(min=1, max=50)],
    )
    required_regions = MultiCheckboxField(
        _l("Required regions"),
        description=_l("At least one partner must be based in each region ticked (UN M49)."),
    )
    artforms = MultiCheckboxField(_l("Artforms"))
    languages = MultiCheckboxField(_l("Languages applications may be written in"))
    score_min = LocaleDecimalField(
        _l("Lowest score"),
        default=Decimal(0),
        places=None,
        digits=4,
        decimals=1,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )
    score_max = LocaleDecimalField(
        _l("Highest score"),
        default=Decimal(5),
        places=None,
        digits=4,
        decimals=1,
        validators=[InputRequired(), NumberRange(min=1, max=100)],
    )
    score_step = SelectField(
        _l("Score step"), default="0.5", choices=choices((s, s) for s in SCORE_STEPS)
    )
    reviews_per_application = IntegerField(
        _l("Reviews per application"),
        default=3,
        validators=[InputRequired(), NumberRange(min=1, max=10)],
    )
    # Optional with a default: left empty (or left out) it means no attachment is required.
    required_attachments = IntegerField(
        _l("Minimum number of PDF attachments"),
        default=0,
        validators=[Optional(), NumberRange(min=0, max=10)],
        description=_l(
            "Applications cannot be submitted with fewer PDF files attached. "
            "0 makes attachments optional."
        ),
    )
    review_deadline = DateTimeLocalField(
        _l("Reviews due (optional)"),
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
        description=_l("Local time in the call's time zone."),
    )
    blind = BooleanField(_l("Blind review: hide partner and organisation names from reviewers"))
    reviews_visible_after_submit = BooleanField(
        _l("Reviewers see the other reviews of an application once they submit their own"),
        default=True,
    )
    disagreement_threshold = LocaleDecimalField(
        _l("Flag disagreement when scores differ by more than"),
        places=None,
        digits=4,
        decimals=1,
        default=Decimal("1.5"),
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    appeal_days = IntegerField(
        _l("Days to appeal after the decisions are sent"),
        default=14,
        validators=[Optional(), NumberRange(min=0, max=120)],
        description=_l("0 means the call takes no appeals; left empty, 14 days."),
    )
    results_pseudonymous = BooleanField(
        _l("On the published results, show applications that were not funded by reference only"),
        default=True,
    )
    submit = SubmitField(_l("Save settings"))

    def validate_review_deadline(self, field: DateTimeLocalField) -> None:
        self._check_local_time(field)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language_choices = sorted(
            ((code, i18n.language_name(code)) for code in CONTENT_LANGUAGES),
            key=lambda pair: i18n.sort_key(pair[1]),
        )
        self.default_language.choices = choices(language_choices)
        self.languages.choices = choices(language_choices)
        self.currency.choices = choices(
            (code, f"{code} · {i18n.currency_name(code)}") for code in CURRENCIES
        )
        self.required_regions.choices = choices(
            (code, i18n.country_name(code) or name) for code, name in sorted(regions().items())
        )
        self.artforms.choices = choices((code, ARTFORM_LABELS[code]) for code in ARTFORMS)
        self.timezone.set_choices()

    def aware(self, value: datetime) -> datetime:
        """A naive form value read in the call's time zone."""
        return value.replace(tzinfo=ZoneInfo(self.timezone.data or "UTC"))

    def _check_local_time(self, field: DateTimeLocalField) -> None:
        """Refuse a wall-clock time that the call's zone skips or repeats (DST changes)."""
        if field.data is None or not i18n.valid_timezone(self.timezone.data):
            return
        zone = ZoneInfo(self.timezone.data)
        first = field.data.replace(tzinfo=zone, fold=0)
        second = field.data.replace(tzinfo=zone, fold=1)
        round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        if round_trip != field.data:
            raise ValidationError(
                _l(
                    "This time does not exist in %(zone)s: the clocks change "
                    "then. Choose another time.",
                    zone=zone.key,
                )
            )
        if first.utcoffset() != second.utcoffset():
            raise ValidationError(
                _l(
                    "This time happens twice in %(zone)s because the clocks "
                    "go back. Choose another time.",
                    zone=zone.key,
                )
            )

    def validate_opens_at(self, field: DateTimeLocalField) -> None:
        self._check_local_time(field)

    def validate_closes_at(self, field: DateTimeLocalField) -> None:
        self._check_local_time(field)
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The closing time must be after the opening time."))

    def validate_grant_max(self, field: DecimalField) -> None:
        if (
            self.grant_min.data is not None
            and field.data is not None
            and (field.data < self.grant_min.data)
        ):
            raise ValidationError(_l("The largest grant must not be below the smallest."))

    def validate_budget_envelope(self, field: DecimalField) -> None:
        if (
            self.grant_max.data is not None
            and field.data is not None
            and (field.data < self.grant_max.data)
        ):
            raise ValidationError(_l("The budget envelope must cover at least the largest grant."))

    def validate_score_max(self, field: DecimalField) -> None:
        if self.score_min.data is None or field.data is None:
            return
        if field.data <= self.score_min.data:
            raise ValidationError(_l("The highest score must be above the lowest."))
        if self.score_step.data not in SCORE_STEPS:  # refused beside its own field
            return
        steps = (field.data - self.score_min.data) / Decimal(self.score_step.data)
        if steps != steps.to_integral_value():
            raise ValidationError(
                _l("From the lowest to the highest score must be a whole number of score steps.")
            )

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.currency.data in CURRENCIES:
            places = i18n.currency_precision(self.currency.data)
            for field in (self.budget_envelope, self.grant_min, self.grant_max):
                if field.data is not None and i18n.too_many_decimals(field.data, places):
                    field.errors = [*field.errors, decimals_message(self.currency.data, places)]
                    ok = False
        return ok


def decimals_message(currency: str, places: int) -> str:
    """The error for an amount with more decimals than its currency has."""
    if places == 0:
        return gettext(
            "%(currency)s amounts are whole numbers: leave out the decimals.", currency=currency
        )
    return ngettext(
        "%(currency)s amounts have at most %(num)d decimal.",
        "%(currency)s amounts have at most %(num)d decimals.",
        places,
        currency=currency,
    )


class CallCreateForm(CallSettingsForm):
    """A new call: its settings and its first texts in the default language."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Create call"))


class CallTextsForm(FlaskForm):
    """The call's texts in one language."""

    title = StringField(_l("Title"), validators=[Length(max=300)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=2000)])
    description = TextAreaField(
        _l("Full description"), validators=[Length(max=20000)], render_kw={"rows": 12}
    )
    submit = SubmitField(_l("Save texts"))


class PublishForm(FlaskForm):
    """A button with CSRF protection."""

    submit = SubmitField(_l("Publish the call"))


class ConfirmForm(FlaskForm):
    """A button with CSRF protection for a small state change."""

    submit = SubmitField(_l("Confirm"))


def criterion_form(levels: list[str], data: dict[str, Any] | None = None) -> FlaskForm:
    """A criterion form with one descriptor field per whole score level."""

    class CriterionForm(FlaskForm):
        weight = LocaleDecimalField(
            _l("Weight"),
            places=None,
            digits=6,
            decimals=2,
            default=Decimal(1),
            validators=[
                InputRequired(),
                NumberRange(
                    min=Decimal("0.01"), max=100, message=_l("Use a weight between 0.01 and 100.")
                ),
            ],
            description=_l("Weights are relative: 2 counts twice as much as 1."),
        )
        threshold = LocaleDecimalField(
            _l("Threshold (optional)"),
            places=None,
            digits=4,
            decimals=1,
            validators=[Optional()],
            description=_l("Applications scoring below it on this criterion cannot be funded."),
        )
        name = StringField(_l("Name"), validators=[Length(max=200)])
        description = TextAreaField(_l("What reviewers assess"), validators=[Length(max=4000)])
        submit = SubmitField(_l("Save criterion"))

    for level in levels:
        setattr(
            CriterionForm,
            f"level_{level}",
            TextAreaField(
                _l("Descriptor for score %(level)s", level=level),
                validators=[Length(max=1000)],
                render_kw={"rows": 2},
            ),
        )
    return CriterionForm(data=data)


class QuestionForm(FlaskForm):
    """A question for applicants: its texts in one language, whether it must be answered."""

    text = TextAreaField(_l("Question"), validators=[Length(max=1000)], render_kw={"rows": 3})
    guidance = TextAreaField(
        _l("Guidance (optional)"),
        validators=[Length(max=4000)],
        description=_l("Shown under the question: what a good answer covers."),
        render_kw={"rows": 4},
    )
    required = BooleanField(_l("Applicants must answer this question"), default=True)
    max_words = IntegerField(
        _l("Word limit (optional)"),
        validators=[
            Optional(),
            NumberRange(
                min=10,
                max=10000,
                message=_l("Use a word limit from 10 to 10000, or leave the field empty."),
            ),
        ],
        description=_l("Leave empty for no limit."),
    )
    submit = SubmitField(_l("Save question"))


class ExchangeRateForm(FlaskForm):
    """Add or change the fixed rate of one currency into the call's currency."""

    currency = SelectField(_l("Currency"), validate_choice=False)
    rate = LocaleDecimalField(
        _l("Rate"),
        places=None,
        # rate_problem() checks the Numeric(20, 10) column with its own messages.
        digits=40,
        decimals=20,
        validators=[InputRequired()],
        render_kw={"inputmode": "decimal"},
    )
    source = StringField(
        _l("Source of the rate"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("For example: InforEuro, November 2026."),
    )
    submit = SubmitField(_l("Save rate"))

    def __init__(self, call_currency: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.call_currency = call_currency
        self.currency.choices = choices(
            [("", _l("Choose a currency"))]
            + [
                (code, f"{code} · {i18n.currency_name(code)}")
                for code in CURRENCIES
                if code != call_currency
            ]
        )
        self.rate.description = _l(
            "How many %(currency)s one unit of the chosen currency is worth.",
            currency=call_currency,
        )

    def validate_currency(self, field: SelectField) -> None:
        if field.data == self.call_currency:
            raise ValidationError(_l("The call's own currency needs no exchange rate."))
        if field.data not in CURRENCIES:
            raise ValidationError(_l("Choose a currency from the list."))

    def validate_rate(self, field: DecimalField) -> None:
        problem = None if field.data is None else rate_problem(field.data)
        if problem is not None:
            raise ValidationError(problem)


TIER_SHORT: dict[int | None, Any] = {
    0: _l("tier 0"),
    1: _l("tier 1"),
    2: _l("tier 2"),
    3: _l("tier 3"),
    None: _l("no tier"),
}
TIER_LABELS: dict[int, Any] = {
    0: _l("Tier 0: high income"),
    1: _l("Tier 1: upper-middle income"),
    2: _l("Tier 2: lower-middle income"),
    3: _l("Tier 3: low income"),
}


def _share(label: Any, low: str, high: str, decimals: int = 4) -> LocaleDecimalField:
    # The equity weight is a Numeric(4, 3) column; the tier shares are stored as text.
    return LocaleDecimalField(
        label,
        places=None,
        digits=decimals + 1,
        decimals=decimals,
        validators=[InputRequired(), NumberRange(min=Decimal(low), max=Decimal(high))],
        render_kw={"inputmode": "decimal"},
    )


class EquityPolicyForm(FlaskForm):
    """The call's equity weight, capacity weights and maximum funding rates per tier."""

    equity_weight = _share(_l("Equity weight (0 to 0.25)"), "0", "0.25", decimals=3)
    capacity_0 = _share(_l("Capacity weight, tier 0"), "0.01", "1")
    capacity_1 = _share(_l("Capacity weight, tier 1"), "0.01", "1")
    capacity_2 = _share(_l("Capacity weight, tier 2"), "0.01", "1")
    capacity_3 = _share(_l("Capacity weight, tier 3"), "0.01", "1")
    rate_0 = _share(_l("Maximum funding rate, tier 0"), "0.01", "1")
    rate_1 = _share(_l("Maximum funding rate, tier 1"), "0.01", "1")
    rate_2 = _share(_l("Maximum funding rate, tier 2"), "0.01", "1")
    rate_3 = _share(_l("Maximum funding rate, tier 3"), "0.01", "1")
    submit = SubmitField(_l("Save the policy"))

    def capacities(self) -> list[Decimal]:
        """The four capacity weights, tier 0 first."""
        return [self[f"capacity_{t}"].data for t in range(4)]

    def rates(self) -> list[Decimal]:
        """The four maximum funding rates, tier 0 first."""
        return [self[f"rate_{t}"].data for t in range(4)]


class TierOverrideForm(FlaskForm):
    """Treat one country as another tier in this call."""

    country = SelectField(_l("Country"), validators=[DataRequired()])
    tier = SelectField(_l("Tier in this call"), validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=500)],
        render_kw={"rows": 2},
        description=_l("Shown to applicants and recorded in the audit log."),
    )
    submit = SubmitField(_l("Set the tier"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", _l("Choose a country")), *i18n.country_choices()])
        self.tier.choices = choices((str(t), label) for t, label in TIER_LABELS.items())
