"""Translated labels for the domain's plain codes (artforms, phases, problems)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from grants.domain.eligibility import Check, Item
from grants.domain.workflow import CallPhase, Problem

if TYPE_CHECKING:
    from grants.applications.models import Application

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

APPLICATION_STATUS_LABELS: dict[str, Any] = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "withdrawn": _l("Withdrawn"),
}

SUBJECT_LABELS: dict[str, Any] = {
    "users": _l("Account"),
    "funders": _l("Funder"),
    "calls": _l("Call"),
    "criteria": _l("Criterion"),
    "call_questions": _l("Question"),
    "organisations": _l("Organisation"),
    "applications": _l("Application"),
    "outbox_messages": _l("E-mail"),
}

REVIEW_STATUS_LABELS: dict[str, Any] = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
}

INVITATION_STATUS_LABELS: dict[str, Any] = {
    "pending": _l("waiting for an answer"),
    "accepted": _l("accepted"),
    "revoked": _l("withdrawn"),
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
    "outbox.retried": _l("Failed e-mail sent again"),
    "call.created": _l("Call created"),
    "call.updated": _l("Call settings changed"),
    "call.texts_updated": _l("Call texts changed"),
    "call.criterion_added": _l("Criterion added"),
    "call.criterion_updated": _l("Criterion changed"),
    "call.criterion_removed": _l("Criterion removed"),
    "call.published": _l("Call published"),
    "call.unpublished": _l("Call withdrawn to draft"),
    "call.question_added": _l("Question added"),
    "call.question_updated": _l("Question changed"),
    "call.question_removed": _l("Question removed"),
    "call.rate_set": _l("Exchange rate set"),
    "call.rate_removed": _l("Exchange rate removed"),
    "organisation.created": _l("Organisation created"),
    "organisation.updated": _l("Organisation changed"),
    "organisation.member_added": _l("Colleague added to an organisation"),
    "organisation.member_invited": _l("Colleague invited to an organisation"),
    "organisation.invitation_resent": _l("Colleague invitation sent again"),
    "organisation.invitation_revoked": _l("Colleague invitation withdrawn"),
    "organisation.invitation_declined": _l("Colleague invitation declined"),
    "organisation.member_joined": _l("Colleague joined an organisation"),
    "application.started": _l("Application started"),
    "application.general_updated": _l("Application changed"),
    "application.answer_saved": _l("Answer saved"),
    "application.flow_added": _l("Journey added"),
    "application.flow_removed": _l("Journey removed"),
    "application.attachment_added": _l("Document uploaded"),
    "application.attachment_removed": _l("Document removed"),
    "application.partner_updated": _l("Partner's part changed"),
    "application.budget_updated": _l("Budget changed"),
    "application.partner_removed": _l("Partner removed"),
    "application.partner_invited": _l("Partner invited"),
    "application.invitation_resent": _l("Invitation sent again"),
    "application.invitation_revoked": _l("Invitation withdrawn"),
    "application.partner_joined": _l("Partner joined"),
    "application.signed_off": _l("Partner signed"),
    "application.signoffs_cleared": _l("Sign-offs cleared after a change"),
    "application.submitted": _l("Application submitted"),
    "application.withdrawn": _l("Application withdrawn"),
    "application.amount_reduced": _l("Amount reduced for the funding line"),
    "application.amount_restored": _l("Full request counted again"),
    "ranking.seed_committed": _l("Seed of a ranking run committed"),
    "ranking.run": _l("Ranking run"),
    "lottery.seed_committed": _l("Seed of a lottery committed"),
    "lottery.drawn": _l("Lots drawn"),
    "decision.proposed": _l("Decision proposed"),
    "decision.approved": _l("Decision approved"),
    "decision.returned": _l("Decision sent back"),
    "decisions.released": _l("Decisions sent to the applicants"),
    "review.comments_released": _l("Review comments released to the applicants"),
    "review.comments_withheld": _l("Review comments withheld again"),
    "review.set_aside": _l("Review set aside after a conflict of interest"),
    "appeal.lodged": _l("Appeal lodged"),
    "appeal.decided": _l("Appeal decided"),
    "call.results_published": _l("Results published"),
}

RANKING_METHOD_LABELS: dict[str, Any] = {
    "raw": _l("Mean of the reviews (or the consensus)"),
    "reviewer_adjusted": _l("Adjusted for reviewer severity"),
    "expected_rank": _l("Expected rank (Bayesian model)"),
}

OUTCOME_LABELS: dict[str, Any] = {
    "funded": _l("Funded"),
    "reserve": _l("Reserve list"),
    "not_funded": _l("Not funded"),
}

DECISION_STATUS_LABELS: dict[str, Any] = {
    "proposed": _l("waiting for approval"),
    "returned": _l("sent back"),
    "approved": _l("final"),
}

APPEAL_OUTCOME_LABELS: dict[str, Any] = {
    "upheld": _l("Upheld: the application is considered again"),
    "dismissed": _l("Dismissed: the decision stands"),
}

APPEAL_STATUS_LABELS: dict[str, Any] = {
    "lodged": _l("lodged, waiting for an outcome"),
    "upheld": _l("upheld"),
    "dismissed": _l("dismissed"),
}

RANK_BAND_LABELS: dict[str, Any] = {
    "top_10": _l("among the best tenth of the applications that passed every threshold"),
    "top_25": _l("among the best quarter of the applications that passed every threshold"),
    "top_50": _l("in the better half of the applications that passed every threshold"),
    "lower_half": _l("in the lower half of the applications that passed every threshold"),
    "below_threshold": _l("below at least one threshold of the call"),
}


def label(mapping: dict[str, Any], code: str) -> str:
    """The translated label of ``code``, or the code itself when unknown."""
    value = mapping.get(code)
    return str(value) if value is not None else code


def checklist_text(check: Check, application: Application) -> str:
    """One checklist line in the reader's language: what holds, or what to fix."""
    from grants import i18n

    p = check.params
    call = application.call
    locale = i18n.locale_name()
    if check.item == Item.TITLE:
        return _("The project has a title.") if check.ok else _("Give the project a title.")
    if check.item == Item.SUMMARY:
        return _("The project has a summary.") if check.ok else _("Write a summary.")
    if check.item == Item.ARTFORMS:
        return _("Artforms are chosen.") if check.ok else _("Choose the project's artforms.")
    if check.item == Item.LANGUAGES:
        return (
            _("The project's languages are chosen.")
            if check.ok
            else _("Choose the languages of the project.")
        )
    if check.item == Item.MIN_PARTNERS:
        return ngettext(
            "At least %(num)d partner organisation (you have %(have)d).",
            "At least %(num)d partner organisations (you have %(have)d).",
            int(p["needed"]),
            have=p["have"],
        )
    if check.item == Item.MIN_COUNTRIES:
        return ngettext(
            "Partners from at least %(num)d country (you have %(have)d).",
            "Partners from at least %(num)d different countries (you have %(have)d).",
            int(p["needed"]),
            have=p["have"],
        )
    if check.item == Item.REGION:
        region = i18n.country_name(str(p["region"]))
        return (
            _("A partner based in %(region)s.", region=region)
            if check.ok
            else _("Add a partner based in %(region)s.", region=region)
        )
    if check.item == Item.GRANT_RANGE:
        amounts = {
            "total": i18n.format_money(Decimal(str(p["total"])), call.currency),
            "min": i18n.format_money(call.grant_min, call.currency),
            "max": i18n.format_money(call.grant_max, call.currency),
        }
        if check.ok:
            return _("The grant requested (%(total)s) lies between %(min)s and %(max)s.", **amounts)
        return _("The grant requested (%(total)s) must lie between %(min)s and %(max)s.", **amounts)
    if check.item == Item.BUDGET_BALANCED:
        partner = next(x for x in application.partners if str(x.id) == check.subject)
        if not check.ok and partner.part_total == 0:
            return _(
                "%(partner)s has not entered its grant, contribution and budget lines yet.",
                partner=p["partner"],
            )
        if check.ok:
            return _("The budget lines of %(partner)s add up to its part.", partner=p["partner"])
        return _(
            "The budget lines of %(partner)s add up to %(lines)s but its part (grant and "
            "contribution) is %(part)s: make them equal.",
            partner=p["partner"],
            lines=i18n.format_money(Decimal(str(p["lines"])), partner.currency),
            part=i18n.format_money(Decimal(str(p["part"])), partner.currency),
        )
    if check.item == Item.TIERS:
        if check.ok:
            return _("Every partner's country has an income tier.")
        return _(
            "No income tier is known for the country of %(partners)s: the call's "
            "officers must set one before the application can be submitted.",
            partners=p["partners"],
        )
    if check.item == Item.FUNDING_RATES:
        if check.ok:
            return _("Every partner's grant stays within the maximum share of its costs.")
        return _(
            "The grant of %(partners)s covers more of its costs than the call allows: "
            "lower the grant or raise the own contribution.",
            partners=p["partners"],
        )
    if check.item == Item.ANSWER:
        question = next(q for q in call.questions if str(q.id) == check.subject)
        text = question.localised("text", locale, call.default_language).text
        return (
            _("Answered: %(question)s", question=text)
            if check.ok
            else _("Answer the question: %(question)s", question=text)
        )
    if check.item == Item.ATTACHMENTS:
        return ngettext(
            "At least %(num)d PDF attachment (you have %(have)d).",
            "At least %(num)d PDF attachments (you have %(have)d).",
            int(p["needed"]),
            have=p["have"],
        )
    if check.item == Item.INVITATIONS:
        if check.ok:
            return _("No invitation is waiting for an answer.")
        return ngettext(
            "%(num)d invitation is still waiting: it must be accepted or withdrawn.",
            "%(num)d invitations are still waiting: each must be accepted or withdrawn.",
            int(p["pending"]),
        )
    if check.ok:
        return _("Every partner has signed the final version.")
    return ngettext(
        "%(num)d partner still has to sign: %(partners)s.",
        "%(num)d partners still have to sign: %(partners)s.",
        int(p["count"]),
        partners=p["partners"],
    )


UNMET_REQUIREMENT_LABELS: dict[str, Any] = {
    "reviews": _l("Not enough reviewers: %(detail)s missing"),
    "artform_expert": _l("No expert in %(detail)s among its reviewers"),
    "region": _l("No reviewer from %(detail)s"),
    "language": _l("No reviewer free of conflict reads %(detail)s"),
}
UNMET_REASON_LABELS: dict[str, Any] = {
    "not_enough_eligible_reviewers": _l(
        "too few reviewers read its languages and are free of conflict"
    ),
    "no_expert_available": _l("no eligible reviewer is an expert in it"),
    "no_reviewer_from_region": _l("no eligible reviewer comes from there"),
    "no_reader": _l("nobody on the panel reads it"),
    "capacity": _l("the reviewers who could have met it are fully loaded"),
    "review_slots": _l("its reviews went to reviewers meeting its other requirements"),
    "not_assigned": _l("not assigned"),
}


def unmet_text(requirement: str, reason: str, detail: str) -> str:
    """One unmet requirement of an application, in the reader's language."""
    from grants import i18n

    if requirement == "artform_expert":
        shown = label(ARTFORM_LABELS, detail)
    elif requirement == "region":
        shown = i18n.country_name(detail)
    elif requirement == "language":
        shown = i18n.language_name(detail)
    else:
        shown = detail
    template = UNMET_REQUIREMENT_LABELS.get(requirement)
    what = str(template) % {"detail": shown} if template is not None else requirement
    why = UNMET_REASON_LABELS.get(reason)
    return f"{what} ({why})" if why is not None else what


MILESTONE_LABELS: dict[str, Any] = {
    "closed": _l("The call closed"),
    "assignments_confirmed": _l("Reviewers assigned"),
    "reviews_closed": _l("Reviews closed"),
    "ranking_run": _l("Ranking run"),
    "decisions_final": _l("Decisions final and sent"),
    "published": _l("Results published"),
    "after_publication": _l("Entry added after publication"),
}
