"""Organisation forms."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField, SubmitField, URLField
from wtforms.validators import URL, DataRequired, Email, Length, Optional, Regexp

from grants import i18n
from grants.forms import FlaskForm, choices

KINDS: dict[str, Any] = {
    "nonprofit": _l("Non-profit organisation or association"),
    "public": _l("Public body or institution"),
    "company": _l("Company or social enterprise"),
    "collective": _l("Artist collective or informal group"),
    "other": _l("Other"),
}
BUDGET_BANDS: dict[str, Any] = {
    "lt50k": _l("Under 50,000 euros a year"),
    "50k-250k": _l("50,000 to 250,000 euros a year"),
    "250k-1m": _l("250,000 euros to 1 million euros a year"),
    "1m-5m": _l("1 to 5 million euros a year"),
    "gt5m": _l("Over 5 million euros a year"),
}


class OrganisationForm(FlaskForm):
    """An organisation's profile."""

    name = StringField(_l("Name of the organisation"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country where it is based"), validators=[DataRequired()])
    kind = SelectField(_l("Type of organisation"), validators=[DataRequired()])
    website = URLField(
        _l("Website"),
        validators=[
            Optional(),
            URL(message=_l("Enter a full address such as https://example.org.")),
            Length(max=300),
        ],
    )
    registration_id = StringField(
        _l("Registration number"),
        validators=[Optional(), Length(max=100)],
        description=_l("As in the official register, if the organisation is registered."),
    )
    org_id_scheme = StringField(
        _l("Register code (org-id.guide)"),
        validators=[
            Optional(),
            Regexp(
                r"^[A-Z]{2}-[A-Z0-9]{2,10}$",
                message=_l("Use a code from org-id.guide such as GB-CHC or FR-RNA."),
            ),
        ],
        description=_l("The code of the register that issued the number, for example GB-CHC."),
    )
    budget_band = SelectField(_l("Annual budget"), validators=[DataRequired()])
    submit = SubmitField(_l("Save organisation"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = choices([("", _l("Choose a country")), *i18n.country_choices()])
        self.kind.choices = choices([("", _l("Choose a type")), *KINDS.items()])
        self.budget_band.choices = choices([("", _l("Choose a range")), *BUDGET_BANDS.items()])


class AddMemberForm(FlaskForm):
    """Invite a colleague to act for the organisation."""

    email = EmailField(
        _l("Your colleague's e-mail address"),
        validators=[DataRequired(), Email(), Length(max=254)],
        description=_l(
            "We e-mail your colleague a link. They act for the organisation once they accept, "
            "signed in with this address."
        ),
    )
    locale = SelectField(_l("Language of the invitation e-mail"), validators=[DataRequired()])
    submit = SubmitField(_l("Invite colleague"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = choices(
            (c, i18n.native_language_name(c)) for c in current_app.config["LANGUAGES"]
        )


class AnswerInvitationForm(FlaskForm):
    """Accept or decline an invitation to act for an organisation."""

    accept = SubmitField(_l("Accept and act for this organisation"))
    decline = SubmitField(_l("Decline"))


class ButtonForm(FlaskForm):
    """A one-button action (re-send, withdraw) with CSRF protection."""
