"""The application factory."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, g, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from grants import i18n
from grants.config import INSTANCE_DIR, load_config
from grants.extensions import babel, csrf, db, limiter, login_manager, migrate

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def create_app(config: dict[str, Any] | str | None = None) -> Flask:
    """Build the app. ``config`` is an environment name or a dict of overrides."""
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    if isinstance(config, str):
        app.config.update(load_config(config))
    else:
        overrides = dict(config or {})
        app.config.update(load_config(overrides.pop("ENV_NAME", None)))
        app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("Set GRANTS_SECRET_KEY (a long random string) before starting grants.")
    if not app.config.get("BASE_URL"):
        raise RuntimeError(
            "Set GRANTS_BASE_URL (e.g. https://grants.example.org): e-mail "
            "links are built from it, never from the request's Host header."
        )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    logging.basicConfig(level=logging.INFO)

    # Ids in URLs fit the database's integer columns: a larger one is a plain 404.
    app.url_map.converters["int"] = DatabaseIdConverter
    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_request_hooks(app)
    register_errors(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the extensions to this app."""
    # Importing the models registers them on the metadata before Migrate sees it.
    from grants import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page says why itself
    login_manager.session_protection = "strong"

    from grants.auth.operations import load_user

    login_manager.user_loader(load_user)


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` limited to what an INTEGER column holds on every database."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    """Attach every audience's blueprint."""
    from grants.admin.routes import bp as admin_bp
    from grants.applications.routes import bp as applications_bp
    from grants.auth.routes import bp as auth_bp
    from grants.calls.routes import bp as calls_bp
    from grants.decisions.routes import bp as decisions_bp
    from grants.organisations.routes import bp as organisations_bp
    from grants.public.routes import bp as public_bp
    from grants.reviews.routes import bp as reviews_bp
    from grants.transparency.routes import api as api_bp
    from grants.transparency.routes import bp as transparency_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(calls_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(organisations_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(decisions_bp)
    app.register_blueprint(transparency_bp)
    app.register_blueprint(api_bp)


def register_template_helpers(app: Flask) -> None:
    """Formatting filters and globals for every template."""
    app.jinja_env.filters.update(
        datetime=i18n.format_dt,
        money=i18n.format_money,
        number=i18n.format_number,
        country=i18n.country_name,
        language=i18n.language_name,
        list_text=i18n.format_list_text,
        percent=i18n.format_percent,
        exact_number=i18n.format_exact_number,
        file_size=i18n.format_file_size,
        dict_get=lambda key, mapping: mapping.get(key, key),
        decimal=lambda text: Decimal(str(text)),
        tier_short=lambda tier: str(TIER_SHORT.get(tier, TIER_SHORT[None])),
    )
    from grants.calls.forms import TIER_LABELS, TIER_SHORT
    from grants.calls.operations import score_levels
    from grants.labels import (
        APPEAL_OUTCOME_LABELS,
        APPEAL_STATUS_LABELS,
        APPLICATION_STATUS_LABELS,
        ARTFORM_LABELS,
        AUDIT_ACTION_LABELS,
        DECISION_STATUS_LABELS,
        INVITATION_STATUS_LABELS,
        MILESTONE_LABELS,
        OUTCOME_LABELS,
        PHASE_LABELS,
        RANK_BAND_LABELS,
        RANKING_METHOD_LABELS,
        REVIEW_STATUS_LABELS,
        label,
        unmet_text,
    )

    app.jinja_env.globals.update(
        locale_name=i18n.locale_name,
        call_title=i18n.call_title,
        native_language_name=i18n.native_language_name,
        phase_label=lambda call: label(PHASE_LABELS, call.phase()),
        artform_names=lambda codes: i18n.format_list_text(
            label(ARTFORM_LABELS, c) for c in codes or []
        ),
        criterion_levels=score_levels,
        status_label=lambda code: label(APPLICATION_STATUS_LABELS, code),
        artform_label=lambda code: label(ARTFORM_LABELS, code),
        countdown=i18n.countdown,
        invitation_status=lambda code: label(INVITATION_STATUS_LABELS, code),
        tier_label=lambda tier: str(TIER_LABELS[tier]),
        unmet_text=unmet_text,
        review_status=lambda code: label(REVIEW_STATUS_LABELS, code),
        outcome_label=lambda code: label(OUTCOME_LABELS, code),
        decision_status=lambda code: label(DECISION_STATUS_LABELS, code),
        appeal_status=lambda code: label(APPEAL_STATUS_LABELS, code),
        appeal_outcome_label=lambda code: label(APPEAL_OUTCOME_LABELS, code),
        rank_band_label=lambda code: label(RANK_BAND_LABELS, code),
        method_label=lambda code: label(RANKING_METHOD_LABELS, code),
        milestone_label=lambda code: label(MILESTONE_LABELS, code),
        audit_action_label=lambda code: label(AUDIT_ACTION_LABELS, code),
    )

    @app.context_processor
    def inject() -> dict[str, Any]:
        from grants import permissions

        return {
            "interface_languages": app.config["LANGUAGES"],
            "permissions": permissions,
            "site_name": app.config["SITE_NAME"],
        }


def has_nul() -> bool:
    """True when the path, a query parameter, a form field's name or an uploaded file's name
    holds a NUL character: PostgreSQL refuses it in text, and no one types it. (A form field's
    value is checked by the form, which shows the error beside the field.)"""
    texts = [request.path, *(part for pair in request.args.items(multi=True) for part in pair)]
    if request.method in ("POST", "PUT", "PATCH"):
        texts += [*request.form.keys(), *request.files.keys()]
        texts += [f.filename or "" for f in request.files.values()]
    return any("\x00" in text for text in texts)


def bad_input(message: str) -> Any:
    """A 400 answer for input that cannot be stored, in JSON under /api/."""
    if request.path.startswith("/api/"):
        return {"error": message}, 400
    return render_template("errors/error.html", code=400, message=message), 400


def register_request_hooks(app: Flask) -> None:
    """NUL guard, ``?lang=``, security headers and inline mail delivery in development."""

    @app.before_request
    def refuse_nul() -> Any:
        if has_nul():
            app.logger.warning("NUL refused: %s %r", request.method, request.path)
            return bad_input(
                _(
                    "The address or the form holds an invisible control character (NUL) "
                    "that cannot be stored. Remove it and try again."
                )
            )
        return None

    @app.before_request
    def remember_language() -> None:
        lang = request.args.get("lang")
        if lang and lang in app.config["LANGUAGES"]:
            session["lang"] = lang

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if (
            request.endpoint
            and not request.endpoint.startswith("static")
            and ("Cache-Control" not in headers)
        ):
            headers["Cache-Control"] = "no-store" if g.get("private_page", True) else "no-cache"
        return response

    @app.teardown_request
    def deliver_mail_inline(_exc: BaseException | None) -> None:
        if not app.config["MAIL_DELIVER_INLINE"] or not g.get("mail_queued"):
            return
        from grants.mail.operations import deliver_pending

        try:
            deliver_pending()
        except Exception:  # delivery must never break the page; the worker retries
            app.logger.exception("inline mail delivery failed")
            db.session.rollback()


def register_errors(app: Flask) -> None:
    """Translated error pages; CSRF failures keep the user on their form."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        app.logger.warning("CSRF refused: %s %s (%s)", request.method, request.path, error)
        return render_template(
            "errors/error.html",
            code=400,
            message=_(
                "Your form expired or was sent from another site. Go back, reload the page "
                "and send it again."
            ),
        ), 400

    @app.errorhandler(DataError)
    def data_error(error: DataError) -> Any:
        # A value the database refuses (NUL, too long, out of range) that no form check
        # caught: the request is refused, nothing half-written stays.
        db.session.rollback()
        app.logger.warning(
            "database refused a value: %s %s (%s)", request.method, request.path, error.orig
        )
        return bad_input(
            _(
                "A value you sent cannot be stored (it is too long, too large or holds an "
                "invisible control character). Go back, correct it and send it again."
            )
        )

    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have permission to see this page."),
        404: lambda: _("This page does not exist, or you may not see it."),
        405: lambda: _("This action is not allowed here."),
        413: lambda: _("The file is too large."),
        429: lambda: _("Too many attempts. Please wait a minute and try again."),
        500: lambda: _("Something went wrong on our side. It has been logged."),
    }
    for code, message in messages.items():

        def handler(error: Exception, code: int = code, message: Any = message) -> Any:
            if code == 500:
                db.session.rollback()
            if request.path.startswith("/api/"):
                # The JSON API answers in JSON, also when no route matched.
                text = getattr(error, "description", None) if code == 400 else None
                return {"error": str(text or message())}, code
            return render_template("errors/error.html", code=code, message=message()), code

        app.register_error_handler(code, handler)


def register_cli(app: Flask) -> None:
    """``flask grants ...`` and ``flask translate ...``."""
    from grants.cli import grants_cli, translate_cli

    app.cli.add_command(grants_cli)
    app.cli.add_command(translate_cli)
