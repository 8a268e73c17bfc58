"""Account forms."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from grants.forms import FlaskForm, LocaleField, TimezoneField

PASSWORD_MIN = 12


def _new_password(label: Any) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=PASSWORD_MIN,
                max=128,
                message=_l(
                    "Use between %(min)d and %(max)d characters.", min=PASSWORD_MIN, max=128
                ),
            ),
        ],
        description=_l(
            "At least %(min)d characters. A short sentence is easy to remember.", min=PASSWORD_MIN
        ),
        render_kw={"autocomplete": "new-password"},
    )


def _confirm(label: Any, field: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[DataRequired(), EqualTo(field, message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )


class _WithChoices(FlaskForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, LocaleField | TimezoneField):
                field.set_choices()


class RegisterForm(_WithChoices):
    """Create an account."""

    name = StringField(
        _l("Full name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )
    password = _new_password(_l("Password"))
    confirm = _confirm(_l("Repeat the password"), "password")
    locale = LocaleField(_l("Preferred language"))
    timezone = TimezoneField()
    submit = SubmitField(_l("Create account"))


class ConfirmRegistrationForm(FlaskForm):
    """Finish creating an account from the e-mailed link."""

    password = PasswordField(
        _l("The password you chose"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Create my account"))


class LoginForm(FlaskForm):
    """Sign in."""

    # No format check at sign-in: an unknown address simply does not match.
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ResetRequestForm(FlaskForm):
    """Ask for a password reset link."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Email()],
        render_kw={"autocomplete": "email"},
    )
    submit = SubmitField(_l("Send me a reset link"))


class ResetPasswordForm(FlaskForm):
    """Choose a new password from a reset link."""

    password = _new_password(_l("New password"))
    confirm = _confirm(_l("Repeat the new password"), "password")
    submit = SubmitField(_l("Set new password"))


class ChangePasswordForm(FlaskForm):
    """Change the password while signed in."""

    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password = _new_password(_l("New password"))
    confirm = _confirm(_l("Repeat the new password"), "password")
    submit = SubmitField(_l("Change password"))


class PreferencesForm(_WithChoices):
    """Name, language and time zone."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    locale = LocaleField(_l("Preferred language"))
    timezone = TimezoneField()
    submit = SubmitField(_l("Save"))
