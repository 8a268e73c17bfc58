"""Panel and review forms."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from grants import i18n
from grants.calls.forms import MultiCheckboxField
from grants.calls.models import Call
from grants.domain.vocabulary import CONTENT_LANGUAGES
from grants.forms import FlaskForm, choices
from grants.labels import ARTFORM_LABELS

LEVELS: dict[str, Any] = {
    "0": _l("None"),
    "1": _l("1 · familiar"),
    "2": _l("2 · practitioner"),
    "3": _l("3 · expert"),
}
CONFLICT_REASON_LABELS: dict[str, Any] = {
    "employer": _l("I work for, or with, a partner organisation"),
    "collaborator": _l("I have worked with the applicants recently"),
    "personal": _l("Personal relationship"),
    "financial": _l("Financial interest"),
    "other": _l("Other reason"),
    "named": _l("Named in the application"),
}
RECOMMENDATION_LABELS: dict[str, Any] = {
    "fund": _l("Fund"),
    "reserve": _l("Reserve list"),
    "reject": _l("Do not fund"),
}
CONFIDENCE_LABELS: dict[str, Any] = {
    "1": _l("Low: outside my field"),
    "2": _l("Medium"),
    "3": _l("High: my field"),
}


class InviteReviewerForm(FlaskForm):
    """Invite a reviewer to the panel."""

    email = EmailField(
        _l("E-mail address of the reviewer"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    locale = SelectField(_l("Language of the invitation e-mail"), validators=[DataRequired()])
    max_load = IntegerField(
        _l("Most applications this reviewer may review"),
        default=10,
        validators=[InputRequired(), NumberRange(min=0, max=500)],
    )
    is_chair = BooleanField(_l("Chair of the panel"))
    submit = SubmitField(_l("Invite"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = choices(
            (c, i18n.native_language_name(c)) for c in current_app.config["LANGUAGES"]
        )


class ProfileForm(FlaskForm):
    """A reviewer's profile; one expertise select per artform is added at run time."""

    country = SelectField(_l("Country where you live and work"), validators=[Optional()])
    languages = MultiCheckboxField(_l("Languages you read well enough to review"))
    affiliations = TextAreaField(
        _l("Organisations you work for or with"),
        validators=[Length(max=3000)],
        description=_l("One per line. Used to find conflicts of interest automatically."),
        render_kw={"rows": 4},
    )
    submit = SubmitField(_l("Save my profile"))


def profile_form(artforms: list[str], data: dict[str, Any] | None = None) -> ProfileForm:
    """The profile form with an expertise level for each artform."""

    class Form(ProfileForm):
        pass

    for artform in artforms:
        setattr(
            Form,
            f"level_{artform}",
            SelectField(
                ARTFORM_LABELS.get(artform, artform), default="0", choices=choices(LEVELS.items())
            ),
        )
    form = Form(data=data)
    form.country.choices = choices([("", _l("Choose a country")), *i18n.country_choices()])
    form.languages.choices = choices(
        sorted(
            ((c, i18n.language_name(c)) for c in CONTENT_LANGUAGES),
            key=lambda pair: i18n.sort_key(pair[1]),
        )
    )
    return form


class DeclareConflictForm(FlaskForm):
    """Declare a conflict of interest."""

    reason = SelectField(_l("Reason"), validators=[DataRequired()])
    note = TextAreaField(
        _l("Note (optional)"), validators=[Length(max=1000)], render_kw={"rows": 2}
    )
    submit = SubmitField(_l("Declare a conflict"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = choices(
            (k, v) for k, v in CONFLICT_REASON_LABELS.items() if k != "named"
        )


class AddConflictForm(DeclareConflictForm):
    """The chair or an officer records a conflict."""

    application = SelectField(_l("Application"), validators=[DataRequired()])
    reviewer = SelectField(_l("Reviewer"), validators=[DataRequired()])
    submit = SubmitField(_l("Record the conflict"))


class PairForm(FlaskForm):
    """Add a reviewer to an application by hand, with a reason."""

    application = SelectField(_l("Application"), validators=[DataRequired()])
    reviewer = SelectField(_l("Reviewer"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Add the pair"))


class RemovePairForm(FlaskForm):
    """Remove a pair, with a reason."""

    reason = StringField(_l("Reason for removing"), validators=[DataRequired(), Length(max=500)])
    submit = SubmitField(_l("Remove"))


class AssignForm(FlaskForm):
    """Run the solver: preview with a seed, then confirm."""

    seed = IntegerField(
        _l("Seed"), default=0, validators=[InputRequired(), NumberRange(min=0, max=2**31)]
    )
    submit = SubmitField(_l("Confirm this assignment"))


def review_form(call: Call, data: dict[str, Any] | None = None) -> FlaskForm:
    """The review form built from the call's criteria and scale."""

    class ReviewForm(FlaskForm):
        recommendation = SelectField(_l("Overall recommendation"), validators=[Optional()])
        confidence = SelectField(_l("Your confidence"), validators=[Optional()])
        amendment_reason = TextAreaField(
            _l("Why you amend your submitted review"),
            validators=[Length(max=2000)],
            render_kw={"rows": 2},
        )
        save = SubmitField(_l("Save draft"))
        submit = SubmitField(_l("Submit the review"))

    levels = []
    value = call.score_min
    while value <= call.score_max:
        levels.append(value)
        value += call.score_step
    scale = [("", _l("No score yet"))] + [
        (format(v.normalize(), "f"), i18n.format_number(v)) for v in levels
    ]
    for criterion in call.criteria:
        name = criterion.text("name", i18n.locale_name(), call.default_language).text
        setattr(
            ReviewForm,
            f"score_{criterion.id}",
            SelectField(
                _l("Score: %(criterion)s", criterion=name),
                choices=choices(scale),
                validators=[Optional()],
            ),
        )
        setattr(
            ReviewForm,
            f"comment_{criterion.id}",
            TextAreaField(
                _l("Comment: %(criterion)s", criterion=name),
                validators=[Length(max=10000)],
                render_kw={"rows": 4},
            ),
        )
    form = ReviewForm(data=data)
    form.recommendation.choices = choices([("", _l("Choose")), *RECOMMENDATION_LABELS.items()])
    form.confidence.choices = choices([("", _l("Choose")), *CONFIDENCE_LABELS.items()])
    return form


def consensus_form(call: Call, data: dict[str, Any] | None = None) -> FlaskForm:
    """Agreed score per criterion, the justification, majority and minority views."""

    class ConsensusForm(FlaskForm):
        justification = TextAreaField(
            _l("How the panel reached these scores"),
            validators=[DataRequired(), Length(max=10000)],
            render_kw={"rows": 4},
        )
        majority = TextAreaField(
            _l("Majority view"), validators=[Length(max=10000)], render_kw={"rows": 3}
        )
        minority = TextAreaField(
            _l("Minority view (if any)"), validators=[Length(max=10000)], render_kw={"rows": 3}
        )
        submit = SubmitField(_l("Record the consensus"))

    levels = []
    value = call.score_min
    while value <= call.score_max:
        levels.append(value)
        value += call.score_step
    scale = [("", _l("Choose"))] + [
        (format(v.normalize(), "f"), i18n.format_number(v)) for v in levels
    ]
    for criterion in call.criteria:
        name = criterion.text("name", i18n.locale_name(), call.default_language).text
        setattr(
            ConsensusForm,
            f"score_{criterion.id}",
            SelectField(
                _l("Agreed score: %(criterion)s", criterion=name),
                choices=choices(scale),
                validators=[DataRequired()],
            ),
        )
    return ConsensusForm(data=data)
