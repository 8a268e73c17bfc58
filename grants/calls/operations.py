"""Funder and call operations: every write is audited; nothing here commits."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from grants.applications.models import Answer
from grants.audit.operations import record
from grants.auth.models import User
from grants.auth.operations import find_user_by_email
from grants.calls.models import (
    Call,
    CallQuestion,
    Criterion,
    ExchangeRate,
    Funder,
    FunderOfficer,
    TierOverride,
)
from grants.domain.equity import EquityPolicy
from grants.domain.texts import pick_text
from grants.domain.vocabulary import CURRENCIES
from grants.domain.workflow import CallFacts, CallStatus, Problem, publication_problems
from grants.errors import OperationError
from grants.extensions import db
from grants.types import utcnow

CALL_SETTINGS = (
    "reference_prefix", "default_language", "timezone", "opens_at", "closes_at", "currency",
    "budget_envelope", "grant_min", "grant_max", "min_partners", "min_countries",
    "required_regions", "artforms", "languages", "score_min", "score_max", "score_step",
    "reviews_per_application", "required_attachments", "review_deadline", "blind",
    "reviews_visible_after_submit", "disagreement_threshold", "appeal_days",
    "results_pseudonymous",
)  # fmt: skip
# Settings a caller may leave out (callers written before they existed): these values apply.
CALL_SETTING_DEFAULTS: dict[str, Any] = {
    "required_attachments": 0,
    "review_deadline": None,
    "blind": False,
    "reviews_visible_after_submit": True,
    "disagreement_threshold": Decimal("1.5"),
    "appeal_days": 14,
    "results_pseudonymous": True,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


def _apply(obj: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """Set attributes; return {name: {"old", "new"}} for what changed."""
    changes: dict[str, Any] = {}
    for name, new in fields.items():
        old = getattr(obj, name)
        if _plain(old) != _plain(new):
            changes[name] = {"old": _plain(old), "new": _plain(new)}
            setattr(obj, name, new)
    return changes


def equity_policy_data(call: Call, overrides: dict[str, int] | None = None) -> dict[str, Any]:
    """The call's equity policy as the logs carry it (docs/audit.md, "The equity policy"):
    the weight, the capacity weights and funding-rate limits by tier, the default tier of
    every classified country and the officers' overrides (``overrides`` replaces the call's
    own, for an entry written before the change reaches the rows)."""
    if overrides is None:
        overrides = {o.country: o.tier for o in call.tier_overrides}
    return {
        "equity_weight": _plain(Decimal(call.equity_weight)),
        "capacity_weights": [_plain(Decimal(c)) for c in call.capacity_weights],
        "max_funding_rates": [_plain(Decimal(r)) for r in call.max_funding_rates],
        "default_tiers": dict(sorted(EquityPolicy.default().tiers.items())),
        "overrides": dict(sorted(overrides.items())),
    }


def criterion_data(criterion: Criterion) -> dict[str, Any]:
    """A criterion as the logs carry it: the id its scores are keyed by, place, weight and
    threshold."""
    return {
        "criterion": str(criterion.id),
        "position": criterion.position,
        "weight": _plain(criterion.weight),
        "threshold": _plain(criterion.threshold),
    }


def create_funder(actor: User, *, name: str, country: str, website: str | None) -> Funder:
    """A new funder organisation (administrators)."""
    name = name.strip()
    if db.session.scalar(select(Funder.id).where(Funder.name == name)) is not None:
        raise OperationError(_l("A funder with this name already exists."), "name")
    funder = Funder(name=name, country=country, website=website or None)
    db.session.add(funder)
    db.session.flush()
    record(actor, "funder.created", funder, {"name": name, "country": country})
    return funder


def update_funder(
    actor: User, funder: Funder, *, name: str, country: str, website: str | None
) -> None:
    """Change a funder's details."""
    name = name.strip()
    clash = db.session.scalar(select(Funder.id).where(Funder.name == name, Funder.id != funder.id))
    if clash is not None:
        raise OperationError(_l("A funder with this name already exists."), "name")
    changes = _apply(funder, {"name": name, "country": country, "website": website or None})
    if changes:
        record(actor, "funder.updated", funder, changes)


def add_officer(actor: User, funder: Funder, email: str) -> FunderOfficer:
    """Name the holder of an existing account as a programme officer of the funder."""
    user = find_user_by_email(email)
    if user is None:
        raise OperationError(
            _l("No account uses this e-mail address. Ask this person to create an account first."),
            "email",
        )
    existing = db.session.scalar(
        select(FunderOfficer).where(
            FunderOfficer.funder_id == funder.id, FunderOfficer.user_id == user.id
        )
    )
    if existing is not None:
        raise OperationError(_l("This person is already an officer of this funder."), "email")
    officer = FunderOfficer(funder_id=funder.id, user_id=user.id)
    db.session.add(officer)
    db.session.flush()
    record(actor, "funder.officer_added", funder, {"user_id": user.id})
    return officer


def remove_officer(actor: User, officer: FunderOfficer) -> None:
    """Take a programme officer off a funder."""
    record(actor, "funder.officer_removed", officer.funder, {"user_id": officer.user_id})
    db.session.delete(officer)
    db.session.flush()


def _check_threshold(call: Call, threshold: Decimal | None) -> None:
    if threshold is not None and not call.score_min <= threshold <= call.score_max:
        raise OperationError(
            _l(
                "The threshold must lie on the call's scale, from %(low)s to %(high)s.",
                low=_plain(call.score_min),
                high=_plain(call.score_max),
            ),
            "threshold",
        )


def _check_prefix(prefix: str, call: Call | None = None) -> None:
    """A reference prefix belongs to one call of the site (letter case aside), so that
    nobody mistakes one call's application for another's."""
    clash = select(Call.id).where(func.upper(Call.reference_prefix) == prefix.strip().upper())
    if call is not None:
        clash = clash.where(Call.id != call.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise OperationError(
            _l("Another call already uses this reference prefix: choose another one."),
            "reference_prefix",
        )


def create_call(actor: User, funder: Funder, *, title: str, summary: str, **settings: Any) -> Call:
    """A new draft call with its texts in the default language."""
    _check_prefix(settings["reference_prefix"])
    call = Call(funder_id=funder.id, status=CallStatus.DRAFT, criteria=[])
    settings = {**CALL_SETTING_DEFAULTS, **settings}
    _apply(call, {name: settings[name] for name in CALL_SETTINGS})
    language = settings["default_language"]
    call.title = {language: title.strip()}
    call.summary = {language: summary.strip()}
    call.description = {}
    db.session.add(call)
    db.session.flush()
    record(
        actor,
        "call.created",
        call,
        {"funder_id": funder.id, **{name: _plain(settings[name]) for name in CALL_SETTINGS}},
        call_id=call.id,
    )
    return call


# Once applicants can see a call, these would change the ground under their feet.
FROZEN_WHEN_PUBLISHED = ("currency", "score_min", "score_max", "score_step", "default_language")


def _check_published_change(call: Call, settings: dict[str, Any]) -> None:
    for name in FROZEN_WHEN_PUBLISHED:
        if _plain(settings[name]) != _plain(getattr(call, name)):
            raise OperationError(
                _l(
                    "This cannot change once the call is published: applicants and reviewers "
                    "rely on it."
                ),
                name,
            )
    if settings["closes_at"] != call.closes_at and settings["closes_at"] <= utcnow():
        raise OperationError(
            _l("A published call's closing time cannot be moved into the past."), "closes_at"
        )
    # What applicants were told when the decisions were sent, and what was published, stays.
    frozen = []
    if call.decisions_released_at is not None:
        frozen += ["appeal_days", "budget_envelope"]
    if call.results_published_at is not None:
        frozen += ["results_pseudonymous"]
    for name in frozen:
        if _plain(settings[name]) != _plain(getattr(call, name)):
            raise OperationError(
                _l("This cannot change once the decisions are sent or the results published."),
                name,
            )


def update_call_settings(actor: User, call: Call, **settings: Any) -> dict[str, Any]:
    """Change settings; the audit entry holds old and new values."""
    settings = {**{name: getattr(call, name) for name in CALL_SETTING_DEFAULTS}, **settings}
    if settings["reference_prefix"] != call.reference_prefix:
        _check_prefix(settings["reference_prefix"], call)
    if settings["currency"] != call.currency and call.exchange_rates:
        # The fixed rates are amounts of the current currency: they would silently go wrong.
        raise OperationError(
            _l("Remove the call's exchange rates before changing its currency."), "currency"
        )
    if call.status == CallStatus.PUBLISHED:
        _check_published_change(call, settings)
    changes = _apply(call, {name: settings[name] for name in CALL_SETTINGS})
    for criterion in call.criteria:
        _check_threshold(call, criterion.threshold)
    if changes:
        call.updated_at = utcnow()
        record(actor, "call.updated", call, changes, call_id=call.id)
    return changes


def set_call_texts(
    actor: User, call: Call, language: str, *, title: str, summary: str, description: str
) -> None:
    """The call's texts in one language; an empty field removes that version."""
    changed = []
    for field, value in (("title", title), ("summary", summary), ("description", description)):
        versions = dict(getattr(call, field) or {})
        value = value.strip()
        if versions.get(language, "") != value:
            changed.append(field)
            if value:
                versions[language] = value
            else:
                versions.pop(language, None)
            setattr(call, field, versions)
    if language == call.default_language and not (call.title or {}).get(language):
        raise OperationError(_l("The default language needs a title."), "title")
    if changed:
        call.updated_at = utcnow()
        record(
            actor,
            "call.texts_updated",
            call,
            {"language": language, "fields": changed},
            call_id=call.id,
        )


def score_levels(call: Call) -> list[str]:
    """Whole score levels of the call's scale, as strings ("0" .. "5")."""
    low = int(call.score_min.to_integral_value(rounding="ROUND_CEILING"))
    high = int(call.score_max.to_integral_value(rounding="ROUND_FLOOR"))
    return [str(level) for level in range(low, high + 1)]


def _criterion_texts(
    criterion: Criterion, language: str, name: str, description: str, descriptors: dict[str, str]
) -> list[str]:
    changed = []
    for field, value in (("name", name), ("description", description)):
        versions = dict(getattr(criterion, field) or {})
        if versions.get(language, "") != value.strip():
            changed.append(field)
            versions[language] = value.strip()
            setattr(criterion, field, {k: v for k, v in versions.items() if v})
    all_descriptors = {lang: dict(levels) for lang, levels in (criterion.descriptors or {}).items()}
    mine = {level: text.strip() for level, text in descriptors.items() if text.strip()}
    if all_descriptors.get(language, {}) != mine:
        changed.append("descriptors")
        all_descriptors[language] = mine
        criterion.descriptors = {lang: lv for lang, lv in all_descriptors.items() if lv}
    return changed


def _check_scoring_open(call: Call) -> None:
    """Criteria, weights and thresholds decided the ranking: they stay once decisions are sent."""
    if call.decisions_released_at is not None:
        raise OperationError(
            _l(
                "The decisions of this call have been sent: its criteria, weights and "
                "thresholds can no longer change."
            ),
            "weight",
        )


def add_criterion(
    actor: User,
    call: Call,
    *,
    language: str,
    weight: Decimal,
    threshold: Decimal | None,
    name: str,
    description: str,
    descriptors: dict[str, str],
) -> Criterion:
    """A new criterion at the end of the list."""
    _check_scoring_open(call)
    _check_threshold(call, threshold)
    if language == call.default_language and not name.strip():
        raise OperationError(
            _l("Give the criterion a name in the call's default language."), "name"
        )
    criterion = Criterion(
        call=call,
        position=len(call.criteria),
        weight=weight,
        threshold=threshold,
        name={},
        description={},
        descriptors={},
    )
    _criterion_texts(criterion, language, name, description, descriptors)
    db.session.add(criterion)
    db.session.flush()
    record(
        actor,
        "call.criterion_added",
        criterion,
        {"weight": _plain(weight), "threshold": _plain(threshold)},
        call_id=call.id,
    )
    return criterion


def update_criterion(
    actor: User,
    criterion: Criterion,
    *,
    language: str,
    weight: Decimal,
    threshold: Decimal | None,
    name: str,
    description: str,
    descriptors: dict[str, str],
) -> None:
    """Change a criterion's weight, threshold and its texts in one language."""
    call = criterion.call
    _check_threshold(call, threshold)
    if language == call.default_language and not name.strip():
        raise OperationError(
            _l("Give the criterion a name in the call's default language."), "name"
        )
    if _plain(weight) != _plain(criterion.weight) or _plain(threshold) != _plain(
        criterion.threshold
    ):
        _check_scoring_open(call)
    changes = _apply(criterion, {"weight": weight, "threshold": threshold})
    texts = _criterion_texts(criterion, language, name, description, descriptors)
    if changes or texts:
        record(
            actor,
            "call.criterion_updated",
            criterion,
            {**changes, "language": language, "texts": texts},
            call_id=call.id,
        )


def remove_criterion(actor: User, criterion: Criterion) -> None:
    """Delete a criterion of a draft call."""
    call = criterion.call
    if call.status != CallStatus.DRAFT:
        raise OperationError(_l("Criteria of a published call cannot be removed."))
    record(
        actor,
        "call.criterion_removed",
        criterion,
        {"weight": _plain(criterion.weight)},
        call_id=call.id,
    )
    call.criteria.remove(criterion)
    for position, other in enumerate(call.criteria):
        other.position = position
    db.session.flush()


def _question_texts(question: CallQuestion, language: str, text: str, guidance: str) -> list[str]:
    """Set the question's texts in one language; an empty field removes that version."""
    changed = []
    for field, value in (("text", text), ("guidance", guidance)):
        versions = dict(getattr(question, field) or {})
        value = value.strip()
        if versions.get(language, "") != value:
            changed.append(field)
            if value:
                versions[language] = value
            else:
                versions.pop(language, None)
            setattr(question, field, versions)
    return changed


def _check_question_text(call: Call, language: str, text: str) -> None:
    if language == call.default_language and not text.strip():
        raise OperationError(
            _l("Write the question in the call's default language."),
            "text",
        )


def add_question(
    actor: User,
    call: Call,
    *,
    language: str,
    text: str,
    guidance: str,
    required: bool,
    max_words: int | None,
) -> CallQuestion:
    """A new question for applicants at the end of the list."""
    _check_question_text(call, language, text)
    question = CallQuestion(
        call=call,
        position=len(call.questions),
        text={},
        guidance={},
        required=required,
        max_words=max_words,
    )
    fields = _question_texts(question, language, text, guidance)
    db.session.add(question)
    db.session.flush()
    record(
        actor,
        "call.question_added",
        question,
        {"language": language, "fields": fields, "required": required, "max_words": max_words},
        call_id=call.id,
    )
    return question


def update_question(
    actor: User,
    question: CallQuestion,
    *,
    language: str,
    text: str,
    guidance: str,
    required: bool,
    max_words: int | None,
) -> None:
    """Change whether a question must be answered, its word limit and its texts in one language."""
    call = question.call
    _check_question_text(call, language, text)
    changes = _apply(question, {"required": required, "max_words": max_words})
    texts = _question_texts(question, language, text, guidance)
    if changes or texts:
        record(
            actor,
            "call.question_updated",
            question,
            {**changes, "language": language, "fields": [*texts, *changes]},
            call_id=call.id,
        )


def remove_question(actor: User, question: CallQuestion) -> None:
    """Delete a question of a draft call."""
    call = question.call
    if call.status != CallStatus.DRAFT:
        raise OperationError(_l("Questions of a published call cannot be removed."))
    if db.session.scalar(select(Answer.id).where(Answer.question_id == question.id).limit(1)):
        raise OperationError(_l("Applicants have answered this question: it cannot be removed."))
    record(
        actor,
        "call.question_removed",
        question,
        {"position": question.position, "required": question.required},
        call_id=call.id,
    )
    call.questions.remove(question)
    for position, other in enumerate(call.questions):
        other.position = position
    db.session.flush()


RATE_PLACES = 10  # the column keeps ten decimals: more would be rounded away silently


def rate_problem(rate: Decimal) -> Any:
    """Why ``rate`` cannot be a fixed exchange rate (a lazy message), or None."""
    if not rate.is_finite() or rate <= 0:
        return _l("The rate must be a number above zero.")
    exponent = rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATE_PLACES:
        return _l("Use at most 10 decimal places.")
    if rate >= Decimal(10) ** RATE_PLACES:
        return _l("The rate is too large.")
    return None


def set_exchange_rate(
    actor: User, call: Call, *, currency: str, rate: Decimal, source: str
) -> ExchangeRate:
    """Fix the rate of ``currency`` into the call's currency (add it or change it)."""
    if currency == call.currency:
        raise OperationError(_l("The call's own currency needs no exchange rate."), "currency")
    if currency not in CURRENCIES:
        raise OperationError(_l("Choose a currency from the list."), "currency")
    problem = rate_problem(rate)
    if problem is not None:
        raise OperationError(problem, "rate")
    source = source.strip()
    if not source:
        raise OperationError(_l("Say where the rate comes from."), "source")
    existing = next((r for r in call.exchange_rates if r.currency == currency), None)
    old = None if existing is None else _plain(existing.rate)
    if existing is None:
        existing = ExchangeRate(call=call, currency=currency, rate=rate, source=source)
        db.session.add(existing)
    elif old == _plain(rate) and existing.source == source:
        return existing
    existing.rate = rate
    existing.source = source
    existing.updated_at = utcnow()
    db.session.flush()
    record(
        actor,
        "call.rate_set",
        existing,
        {"currency": currency, "old": old, "new": _plain(rate), "source": source},
        call_id=call.id,
    )
    return existing


def remove_exchange_rate(actor: User, rate: ExchangeRate) -> None:
    """Take a currency off the call's list of fixed rates."""
    call = rate.call
    record(
        actor,
        "call.rate_removed",
        rate,
        {"currency": rate.currency, "rate": _plain(rate.rate)},
        call_id=call.id,
    )
    call.exchange_rates.remove(rate)
    db.session.flush()


def publication_check(call: Call) -> list[Problem]:
    """What still stops the call from being published."""
    lang = call.default_language
    return publication_problems(
        CallFacts(
            opens_at=call.opens_at,
            closes_at=call.closes_at,
            now=utcnow(),
            has_title_in_default_language=bool((call.title or {}).get(lang)),
            has_summary_in_default_language=bool((call.summary or {}).get(lang)),
            criteria_weights=tuple(c.weight for c in call.criteria),
            grant_min=call.grant_min,
            grant_max=call.grant_max,
            budget_envelope=call.budget_envelope,
            artform_count=len(call.artforms or []),
            language_count=len(call.languages or []),
        )
    )


def publish_call(actor: User, call: Call) -> None:
    """Publish a ready call: it appears on the public list and opens at its opening time."""
    if call.status == CallStatus.PUBLISHED:
        raise OperationError(_l("This call is already published."))
    problems = publication_check(call)
    if problems:
        raise OperationError(_l("The call is not ready to be published."))
    call.status = CallStatus.PUBLISHED
    call.published_at = utcnow()
    record(
        actor,
        "call.published",
        call,
        {
            "title": pick_text(call.title, [call.default_language], call.default_language).text,
            "closes_at": call.closes_at.isoformat(),
            # What the published call promises, so its log alone tells every number later
            # entries depend on (docs/audit.md, "The call at publication").
            "settings": {name: _plain(getattr(call, name)) for name in CALL_SETTINGS},
            "criteria": [criterion_data(c) for c in call.criteria],
            "equity_policy": equity_policy_data(call),
        },
        call_id=call.id,
    )


# --- the equity policy (docs/equity.md) -------------------------------------------------------


def update_equity_policy(
    actor: User,
    call: Call,
    *,
    equity_weight: Decimal,
    capacity: list[Decimal],
    max_funding_rates: list[Decimal],
) -> dict[str, Any]:
    """Change the weight, capacity weights and funding-rate limits; audited with old and new.

    Every application's equity panel is computed from the policy when shown, so a change
    applies at once to applications already submitted; the audit entry keeps the old values.
    """
    try:
        EquityPolicy(
            tiers={},
            capacity=tuple(capacity),  # type: ignore[arg-type]
            max_funding_rates=tuple(max_funding_rates),  # type: ignore[arg-type]
            equity_weight=equity_weight,
        )
    except ValueError as exc:
        raise OperationError(
            _l(
                "These numbers do not make a valid policy: the equity weight must be between 0 "
                "and 0.25, capacity weights above 0, and funding rates above 0 and at most 1."
            )
        ) from exc
    new = {
        "equity_weight": equity_weight,
        "capacity_weights": [_plain(c) for c in capacity],
        "max_funding_rates": [_plain(r) for r in max_funding_rates],
    }
    old = {
        "equity_weight": call.equity_weight,
        "capacity_weights": [_plain(Decimal(c)) for c in call.capacity_weights],
        "max_funding_rates": [_plain(Decimal(r)) for r in call.max_funding_rates],
    }
    changes = {
        k: {"old": _plain(old[k]), "new": _plain(v)}
        for k, v in new.items()
        if _plain(old[k]) != _plain(v)
    }
    if changes:
        call.equity_weight = equity_weight
        call.capacity_weights = new["capacity_weights"]
        call.max_funding_rates = new["max_funding_rates"]
        call.updated_at = utcnow()
        record(actor, "call.equity_policy_changed", call, changes, call_id=call.id)
    return changes


def set_tier_override(
    actor: User, call: Call, *, country: str, tier: int, reason: str
) -> TierOverride:
    """Treat a country as another tier in this call, with the reason (audited)."""
    if not reason.strip():
        raise OperationError(_l("Say why this country is treated differently."), "reason")
    default_tier = EquityPolicy.default().tier_of(country)
    override = next((o for o in call.tier_overrides if o.country == country), None)
    old = override.tier if override else default_tier
    if override is None:
        override = TierOverride(
            call=call, country=country, tier=tier, reason=reason.strip(), set_by_id=actor.id
        )
        db.session.add(override)
    else:
        override.tier, override.reason = tier, reason.strip()
        override.set_by_id, override.updated_at = actor.id, utcnow()
    db.session.flush()
    record(
        actor,
        "call.tier_override_set",
        call,
        {
            "country": country,
            "old": old,
            "new": tier,
            "default": default_tier,
            "reason": reason.strip(),
        },
        call_id=call.id,
    )
    return override


def remove_tier_override(actor: User, override: TierOverride) -> None:
    """Go back to the World Bank tier for this country (audited)."""
    call = override.call
    record(
        actor,
        "call.tier_override_removed",
        call,
        {
            "country": override.country,
            "old": override.tier,
            "new": EquityPolicy.default().tier_of(override.country),
        },
        call_id=call.id,
    )
    call.tier_overrides.remove(override)
    db.session.flush()
