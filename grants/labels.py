"""Translated labels for the domain's plain codes (artforms, phases, problems)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from grants.domain.workflow import CallPhase, Problem

ARTFORM_LABELS: dict[str, Any] = {
    "theatre": _l("Theatre"),
    "dance": _l("Dance"),
    "music": _l("Music"),
    "visual_arts": _l("Visual arts"),
    "crafts": _l("Crafts"),
    "literature": _l("Literature"),
    "film_media": _l("Film and media"),
    "design": _l("Design"),
    "architecture": _l("Architecture"),
    "cultural_heritage": _l("Cultural heritage"),
    "museums": _l("Museums"),
    "digital_media": _l("Digital and new media"),
    "interdisciplinary": _l("Interdisciplinary"),
}

PHASE_LABELS: dict[str, Any] = {
    CallPhase.DRAFT: _l("Draft"),
    CallPhase.UPCOMING: _l("Opens soon"),
    CallPhase.OPEN: _l("Open"),
    CallPhase.CLOSED: _l("Closed"),
}

PROBLEM_LABELS: dict[str, Any] = {
    Problem.NO_TITLE: _l("Give the call a title in its default language."),
    Problem.NO_SUMMARY: _l("Give the call a summary in its default language."),
    Problem.CLOSES_BEFORE_OPENING: _l("The closing time must be after the opening time."),
    Problem.ALREADY_CLOSED: _l("The closing time has already passed."),
    Problem.NO_CRITERIA: _l("Add at least one assessment criterion."),
    Problem.ZERO_WEIGHT: _l("Every criterion needs a weight above zero."),
    Problem.GRANT_RANGE: _l("The largest grant must not be below the smallest."),
    Problem.ENVELOPE_TOO_SMALL: _l("The budget envelope must cover at least the largest grant."),
    Problem.NO_ARTFORMS: _l("Choose at least one artform."),
    Problem.NO_LANGUAGES: _l("Choose at least one language for applications."),
}

AUDIT_ACTION_LABELS: dict[str, Any] = {
    "user.registered": _l("Account created"),
    "user.logged_in": _l("Signed in"),
    "user.password_reset_requested": _l("Password reset requested"),
    "user.password_reset": _l("Password reset"),
    "user.password_changed": _l("Password changed"),
    "user.preferences_changed": _l("Settings changed"),
    "user.admin_created": _l("Administrator created"),
    "funder.created": _l("Funder created"),
    "funder.updated": _l("Funder changed"),
    "funder.officer_added": _l("Programme officer named"),
    "funder.officer_removed": _l("Programme officer removed"),
    "call.created": _l("Call created"),
    "call.updated": _l("Call settings changed"),
    "call.texts_updated": _l("Call texts changed"),
    "call.criterion_added": _l("Criterion added"),
    "call.criterion_updated": _l("Criterion changed"),
    "call.criterion_removed": _l("Criterion removed"),
    "call.published": _l("Call published"),
    "call.unpublished": _l("Call withdrawn to draft"),
}


def label(mapping: dict[str, Any], code: str) -> str:
    """The translated label of ``code``, or the code itself when unknown."""
    value = mapping.get(code)
    return str(value) if value is not None else code
