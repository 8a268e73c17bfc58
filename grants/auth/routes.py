"""Account pages: register, sign in and out, reset and change passwords, preferences."""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from grants import i18n
from grants.auth import operations as ops
from grants.auth.forms import (
    ChangePasswordForm,
    ConfirmRegistrationForm,
    LoginForm,
    PreferencesForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from grants.errors import OperationError
from grants.extensions import db, limiter
from grants.forms import field_error
from grants.permissions import can_manage_account, require
from grants.urls import safe_next

bp = Blueprint("auth", __name__)
security_log = logging.getLogger("grants.security")


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _account_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN_ACCOUNT"])


def _login_email_key() -> str:
    return "login-email:" + ops.normalise_email(request.form.get("email", ""))


def _register_email_key() -> str:
    # Limits how many messages one address can be sent by registering it over and over.
    return "register-email:" + ops.normalise_email(request.form.get("email", ""))


def _sign_in(user: ops.User) -> None:
    """Open a server-side session and a fresh cookie session for it (no fixation)."""
    token = ops.open_session(user)
    db.session.commit()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session["sid"] = token
    login_user(user)
    session.permanent = True


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_register_email_key)
def register() -> Response | str:
    """Register; the answer is the same whether or not the address has an account."""
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    form = RegisterForm()
    if request.method == "GET":
        form.locale.data = i18n.locale_name()
        form.timezone.data = i18n.select_timezone()
    if form.validate_on_submit():
        target = safe_next(request.args.get("next"), "") or None
        outcome = ops.request_registration(
            name=form.name.data or "",
            email=form.email.data or "",
            password=form.password.data or "",
            locale=form.locale.data or "en",
            timezone=form.timezone.data or "UTC",
            next_path=target,
        )
        db.session.commit()
        if outcome.user is not None:  # registered through an invitation sent to this address
            _sign_in(outcome.user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=outcome.user.name), "success")
            return redirect(target or url_for("public.index"))
        flash(
            _(
                "We have sent a message to %(email)s. Open the link in it to finish "
                "creating your account.",
                email=outcome.email,
            ),
            "info",
        )
        return redirect(url_for("auth.registration_sent"))
    return render_template("auth/register.html", form=form)


@bp.route("/register/sent")
def registration_sent() -> str:
    """Check your e-mail: the one answer every registration ends on."""
    return render_template("auth/registration_sent.html")


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def confirm_registration(token: str) -> Response | str | tuple[str, int]:
    """Finish creating an account from the e-mailed link, with the password chosen."""
    if current_user.is_authenticated:
        return redirect(url_for("public.index"))
    try:
        pending = ops.pending_registration_from_token(token)
    except OperationError as exc:
        return render_template("auth/confirm_invalid.html", message=str(exc.message)), 404
    form = ConfirmRegistrationForm()
    if form.validate_on_submit():
        try:
            user, target = ops.confirm_registration(token, form.password.data or "")
        except OperationError as exc:
            db.session.rollback()
            field_error(form, exc)
        else:
            db.session.commit()
            _sign_in(user)
            flash(_("Welcome, %(name)s. Your account is ready.", name=user.name), "success")
            return redirect(safe_next(target, url_for("public.index")))
    return render_template("auth/confirm_registration.html", form=form, pending=pending)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_login_email_key)
def login() -> Response | str:
    """Sign in with e-mail and password."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        user = ops.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            security_log.warning(
                "sign-in failed: address=%s client=%s",
                ops.normalise_email(form.email.data or "")[:254],
                request.remote_addr,
            )
            form.password.errors.append(_("The e-mail address or the password is not correct."))
        else:
            db.session.commit()
            _sign_in(user)
            flash(_("You are signed in."), "success")
            return redirect(safe_next(form.next.data, url_for("public.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """Sign out: the session ends on the server too, so a copied cookie is worthless."""
    lang = session.get("lang")
    ops.close_session(session.get("sid"))
    db.session.commit()
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def request_reset() -> Response | str:
    """Ask for a reset link by e-mail."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        ops.request_password_reset(form.email.data or "")
        db.session.commit()
        flash(
            _("If an account uses this address, we have sent it a link to reset the password."),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/request_reset.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    """Choose a new password from an e-mailed link."""
    try:
        ops.user_for_reset_token(token)
    except OperationError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("auth.request_reset"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        ops.reset_password(token, form.password.data or "")
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("Your password is changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Response | str:
    """Name, language and time zone."""
    require(can_manage_account(current_user))
    form = PreferencesForm(obj=current_user)
    if form.validate_on_submit():
        ops.update_preferences(
            current_user,
            name=form.name.data or "",
            locale=form.locale.data or "en",
            timezone=form.timezone.data or "UTC",
        )
        db.session.commit()
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    """Change the password; every other session ends."""
    require(can_manage_account(current_user))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ops.change_password(
                current_user,
                form.current.data or "",
                form.password.data or "",
                keep_session=session.get("sid"),
            )
        except OperationError as exc:
            form.current.errors.append(str(exc.message))
        else:
            db.session.commit()
            login_user(current_user._get_current_object())  # this session, the new version
            flash(
                _("Your password is changed. You have been signed out everywhere else."),
                "success",
            )
            return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form)
