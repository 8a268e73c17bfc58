"""Forms of the ranking and decision steps."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, HiddenField, SelectField, SubmitField
from wtforms.fields import TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from grants.forms import FlaskForm, Form, LocaleDecimalField, choices
from grants.labels import APPEAL_OUTCOME_LABELS, OUTCOME_LABELS, RANKING_METHOD_LABELS

MAX_AMOUNT = 10**11


class RunForm(FlaskForm):
    """Choose the method of a new ranking run."""

    method = SelectField(
        _l("Ranking method"),
        validators=[DataRequired()],
        choices=choices(RANKING_METHOD_LABELS.items()),
    )
    submit = SubmitField(_l("Rank the applications"))


class AmountForm(FlaskForm):
    """Reduce the amount the funding line counts for one application (empty: the request)."""

    amount = LocaleDecimalField(
        _l("Reduced amount"),
        places=None,
        validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT)],
        description=_l("Leave empty to count the full request."),
    )
    reason = TextAreaField(_l("Reason for the reduction"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Save the amount"))


class DecisionRowForm(Form):
    """One application's proposed outcome (a row of the proposal; no CSRF of its own)."""

    application_id = HiddenField()
    outcome = SelectField(_l("Outcome"), choices=choices(OUTCOME_LABELS.items()))
    amount = LocaleDecimalField(
        _l("Amount"), places=None, validators=[Optional(), NumberRange(min=0, max=MAX_AMOUNT)]
    )
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


class ProposeForm(FlaskForm):
    """Outcomes for every application the officer may decide on."""

    rows = FieldList(FormField(DecisionRowForm))
    submit = SubmitField(_l("Propose these decisions"))


class ReturnForm(FlaskForm):
    """Send a proposed decision back to the proposer."""

    note = TextAreaField(
        _l("Why it goes back"), validators=[InputRequired(), Length(min=1, max=2000)]
    )
    submit = SubmitField(_l("Send back"))


class AppealForm(FlaskForm):
    """The lead partner's appeal on procedural grounds."""

    grounds = TextAreaField(
        _l("Procedural grounds of the appeal"),
        validators=[InputRequired(), Length(min=20, max=5000)],
        description=_l(
            "An appeal can only be about how the call was run (for example a conflict of "
            "interest that was not handled, or a rule of the call that was not applied), not "
            "about the reviewers' judgement."
        ),
    )
    submit = SubmitField(_l("Lodge the appeal"))


class AppealOutcomeForm(FlaskForm):
    """An officer records the outcome of an appeal."""

    outcome = SelectField(
        _l("Outcome"), validators=[DataRequired()], choices=choices(APPEAL_OUTCOME_LABELS.items())
    )
    note = TextAreaField(
        _l("Explanation for the applicants"), validators=[InputRequired(), Length(max=5000)]
    )
    submit = SubmitField(_l("Record the outcome"))


class ReleaseForm(FlaskForm):
    """Release a review's comments to the applicants, or withhold them again."""

    release = HiddenField(validators=[DataRequired()])

    def wanted(self) -> Any:
        return self.release.data == "1"
