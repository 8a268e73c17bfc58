"""Application operations: every write is audited, edits are version-checked, nothing commits.

Rules enforced here, whatever the browser shows:
- edits and submission only while the application is a draft and the call is open;
- any change to the content clears every partner's sign-off;
- a stale form (an older ``version``) is a conflict, never a silent overwrite.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from grants.applications.models import (
    BUDGET_CATEGORIES,
    Answer,
    Application,
    Attachment,
    BudgetLine,
    Invitation,
    MobilityFlow,
    Partner,
    ReferenceCounter,
)
from grants.audit.operations import record
from grants.auth.models import User
from grants.auth.operations import normalise_email
from grants.calls.models import Call, CallQuestion
from grants.domain import eligibility as el
from grants.domain.countries import region_of
from grants.domain.equity import EquityAssessment, PartnerBudget, assess
from grants.domain.texts import count_words
from grants.domain.workflow import CallPhase
from grants.errors import OperationError
from grants.extensions import db
from grants.locking import lock
from grants.mail.operations import queue_mail
from grants.organisations.models import Organisation
from grants.pdf import PdfProblem, PdfTooComplex, bounded, check_pdf, safe_pdf_name
from grants.permissions import can_answer_invitation, organisation_ids
from grants.storage import get_storage
from grants.types import utcnow
from grants.urls import external_url


class EditConflict(OperationError):
    """Someone saved the same section since the form was loaded."""

    def __init__(self, current: dict[str, Any], version: int) -> None:
        super().__init__(
            _l(
                "Someone else saved this section while you were editing it. Your text is still in "
                "the form; compare it with the saved version below and save again."
            )
        )
        self.current = current
        self.version = version


@dataclass
class Outcome:
    """What a write did that the page should say."""

    signoffs_cleared: bool = False


# --- guards -------------------------------------------------------------------------------


def require_editable(application: Application) -> None:
    """Only drafts of open calls change; the server decides, not the page."""
    if application.status != "draft":
        raise OperationError(
            _l("This application has been submitted and can no longer be changed.")
        )
    if application.call.phase() is not CallPhase.OPEN:
        raise OperationError(_l("The call is closed: applications can no longer be changed."))


def _lock_editable(application: Application) -> None:
    """Lock the application's row, then check that it may still change (grants/locking.py).

    Every write to an application goes through here first, so two requests on one
    application run one after the other and the second sees what the first saved.
    """
    lock(application)
    require_editable(application)


def _still_there(item: Any, items: list[Any]) -> None:
    """A parallel request may have removed it while this one waited for the lock."""
    if item not in items:
        raise OperationError(_l("This has already been removed."))


def _check_version(expected: int, current: int, snapshot: dict[str, Any]) -> None:
    if expected != current:
        raise EditConflict(snapshot, current)


def _touch(application: Application) -> None:
    application.updated_at = utcnow()


def clear_signoffs(actor: User, application: Application, reason: str) -> bool:
    """Any change voids every sign-off; True when there were some."""
    signed = [p for p in application.partners if p.signed_off_at is not None]
    for partner in signed:
        partner.signed_off_at = None
        partner.signed_off_by_id = None
    if signed:
        record(
            actor,
            "application.signoffs_cleared",
            application,
            {"reason": reason, "partners": [p.id for p in signed]},
            call_id=application.call_id,
        )
    return bool(signed)


def _changed(actor: User, application: Application, reason: str) -> Outcome:
    _touch(application)
    return Outcome(signoffs_cleared=clear_signoffs(actor, application, reason))


# --- starting -----------------------------------------------------------------------------


def start_application(actor: User, call: Call, organisation: Organisation) -> Application:
    """A new draft with the organisation as lead partner."""
    if organisation.id not in organisation_ids(actor):
        raise OperationError(
            _l("You can only apply for an organisation you act for."), "organisation"
        )
    if call.phase() is not CallPhase.OPEN:
        raise OperationError(_l("This call is not open for applications."))
    application = Application(
        call=call, created_by_id=actor.id, artforms=[], languages=[], title="", summary=""
    )
    db.session.add(application)
    db.session.flush()
    partner = Partner(
        application=application,
        organisation_id=organisation.id,
        is_lead=True,
        position=0,
        currency=call.currency,
        rate=Decimal(1),
        rate_source="",
        contact_id=actor.id,
    )
    db.session.add(partner)
    db.session.flush()
    record(
        actor,
        "application.started",
        application,
        {"organisation_id": organisation.id},
        call_id=call.id,
    )
    return application


# --- the shared sections -------------------------------------------------------------------


def general_snapshot(application: Application) -> dict[str, Any]:
    """The general section as stored, for the conflict view."""
    return {
        "title": application.title,
        "summary": application.summary,
        "summary_language": application.summary_language,
        "artforms": list(application.artforms),
        "languages": list(application.languages),
    }


def update_general(
    actor: User,
    application: Application,
    *,
    version: int,
    title: str,
    summary: str,
    summary_language: str | None,
    artforms: list[str],
    languages: list[str],
) -> Outcome:
    """Title, summary (with its language), artforms and project languages."""
    _lock_editable(application)
    _check_version(version, application.version, general_snapshot(application))
    call = application.call
    if summary_language and summary_language not in call.languages:
        raise OperationError(
            _l("Write the summary in one of the call's languages."), "summary_language"
        )
    if set(artforms) - set(call.artforms):
        raise OperationError(_l("Choose artforms from the call's list."), "artforms")
    new = {
        "title": title.strip(),
        "summary": summary.strip(),
        "summary_language": summary_language or None,
        "artforms": artforms,
        "languages": sorted(languages),
    }
    old = general_snapshot(application)
    if new == old:
        return Outcome()
    for key, value in new.items():
        setattr(application, key, value)
    application.version += 1
    record(
        actor,
        "application.general_updated",
        application,
        {"fields": [k for k in new if new[k] != old[k]]},
        call_id=application.call_id,
    )
    return _changed(actor, application, "general")


def save_answer(
    actor: User,
    application: Application,
    question: CallQuestion,
    *,
    version: int,
    text: str,
    language: str,
    translation: str = "",
    translation_language: str | None = None,
) -> Outcome:
    """The answer to one question, in one of the call's languages, with an optional
    translation into another of them for reviewers who do not read the original."""
    _lock_editable(application)
    if question.call_id != application.call_id:
        raise OperationError(_l("This question belongs to another call."))
    if language not in application.call.languages:
        raise OperationError(_l("Answer in one of the call's languages."), "language")
    translation = translation.strip()
    translation_language = translation_language or None
    if translation and translation_language is None:
        raise OperationError(
            _l("Say which language the translation is in."), "translation_language"
        )
    if translation_language is not None and not translation:
        translation_language = None  # a language without a text is no translation
    if translation_language is not None:
        if translation_language not in application.call.languages:
            raise OperationError(
                _l("Translate into one of the call's languages."), "translation_language"
            )
        if translation_language == language:
            raise OperationError(
                _l("The translation must be in another language than the answer."),
                "translation_language",
            )
    text = text.strip()
    if question.max_words and count_words(text) > question.max_words:
        raise OperationError(
            _l(
                "Use at most %(num)d words; this answer has %(have)d.",
                num=question.max_words,
                have=count_words(text),
            ),
            "text",
        )
    answer = application.answer_to(question.id)
    if answer is None:
        _check_version(
            version, 0, {"text": "", "language": "", "translation": "", "translation_language": ""}
        )
        if not text:
            return Outcome()
        answer = Answer(
            application=application,
            question_id=question.id,
            text=text,
            language=language,
            translation=translation,
            translation_language=translation_language,
            updated_by_id=actor.id,
        )
        db.session.add(answer)
    else:
        _check_version(
            version,
            answer.version,
            {
                "text": answer.text,
                "language": answer.language,
                "translation": answer.translation,
                "translation_language": answer.translation_language or "",
            },
        )
        new = (text, language, translation, translation_language)
        if (answer.text, answer.language, answer.translation, answer.translation_language) == new:
            return Outcome()
        answer.text, answer.language = text, language
        answer.translation, answer.translation_language = translation, translation_language
        answer.version += 1
        answer.updated_by_id = actor.id
        answer.updated_at = utcnow()
    db.session.flush()
    record(
        actor,
        "application.answer_saved",
        application,
        {
            "question_id": question.id,
            "language": language,
            "words": count_words(text),
            "translation_language": translation_language,
        },
        call_id=application.call_id,
    )
    return _changed(actor, application, "answer")


def add_flow(
    actor: User,
    application: Application,
    *,
    from_country: str,
    to_country: str,
    people: int,
    days: int,
    purpose: str,
) -> Outcome:
    """A mobility flow: who travels where, for how long."""
    _lock_editable(application)
    if from_country == to_country:
        raise OperationError(_l("A journey goes from one country to another."), "to_country")
    flow = MobilityFlow(
        application=application,
        from_country=from_country,
        to_country=to_country,
        people=people,
        days=days,
        purpose=purpose.strip(),
    )
    db.session.add(flow)
    db.session.flush()
    record(
        actor,
        "application.flow_added",
        application,
        {
            "flow_id": flow.id,
            "from": from_country,
            "to": to_country,
            "people": people,
            "days": days,
        },
        call_id=application.call_id,
    )
    return _changed(actor, application, "mobility")


def remove_flow(actor: User, flow: MobilityFlow) -> Outcome:
    """Remove a mobility flow."""
    application = flow.application
    _lock_editable(application)
    _still_there(flow, application.flows)
    record(
        actor,
        "application.flow_removed",
        application,
        {"flow_id": flow.id},
        call_id=application.call_id,
    )
    application.flows.remove(flow)
    db.session.flush()
    return _changed(actor, application, "mobility")


def add_attachment(
    actor: User, application: Application, filename: str, data: bytes
) -> tuple[Attachment, Outcome]:
    """Store a PDF (checked by parsing it) under a random key, named from a safe stem.

    The bytes are stored exactly as uploaded; only the name is rebuilt (see
    ``grants.pdf.safe_pdf_name``), and the page shows the name it was given.
    """
    _lock_editable(application)
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if len(data) > limit:
        raise OperationError(
            _l("The file is larger than %(size)s MB.", size=f"{limit / 1024 / 1024:g}"), "file"
        )
    max_pages = current_app.config["UPLOAD_MAX_PAGES"]
    problem: PdfProblem | None = PdfProblem.NOT_PDF
    if data:
        try:
            problem = bounded(
                check_pdf, data, max_pages, seconds=current_app.config["UPLOAD_PARSE_SECONDS"]
            )
        except PdfTooComplex:
            problem = PdfProblem.TOO_COMPLEX
    if problem is not None:
        raise OperationError(_pdf_problem_text(problem, max_pages), "file")
    stored = get_storage().save(data)
    attachment = Attachment(
        application=application,
        label=safe_pdf_name(filename),
        storage_key=stored.key,
        sha256=stored.sha256,
        size=stored.size,
        uploaded_by_id=actor.id,
    )
    db.session.add(attachment)
    db.session.flush()
    record(
        actor,
        "application.attachment_added",
        application,
        {"attachment_id": attachment.id, "sha256": stored.sha256, "size": stored.size},
        call_id=application.call_id,
    )
    return attachment, _changed(actor, application, "attachment")


def _pdf_problem_text(problem: PdfProblem, max_pages: int) -> Any:
    if problem is PdfProblem.ENCRYPTED:
        return _l(
            "This PDF is protected by a password or encryption, so reviewers could not open "
            "it. Save it again without protection and upload it again."
        )
    if problem is PdfProblem.NO_PAGES:
        return _l("This PDF has no pages. Check the file and upload it again.")
    if problem is PdfProblem.TOO_MANY_PAGES:
        return _l(
            "This PDF has more than %(num)d pages. Split it or shorten it and upload it again.",
            num=max_pages,
        )
    if problem is PdfProblem.TOO_COMPLEX:
        return _l(
            "This PDF is too complex to check. Save it again from your PDF reader (for example "
            "with Print to PDF) and upload it again."
        )
    return _l("This file is not a PDF. Save it as PDF and upload it again.")


def remove_attachment(actor: User, attachment: Attachment) -> Outcome:
    """Delete an attachment (the file goes when the transaction has committed)."""
    application = attachment.application
    _lock_editable(application)
    _still_there(attachment, application.attachments)
    record(
        actor,
        "application.attachment_removed",
        application,
        {"attachment_id": attachment.id, "sha256": attachment.sha256},
        call_id=application.call_id,
    )
    application.attachments.remove(attachment)
    db.session.flush()
    return _changed(actor, application, "attachment")


# --- each partner's own part ---------------------------------------------------------------


def partner_snapshot(partner: Partner) -> dict[str, Any]:
    """A partner's part as stored, for the conflict view."""
    return {
        "role": partner.role,
        "currency": partner.currency,
        "grant_requested": partner.grant_requested,
        "contribution_cash": partner.contribution_cash,
        "contribution_in_kind": partner.contribution_in_kind,
        "lines": [(line.category, line.description, line.amount) for line in partner.budget_lines],
    }


def rate_for(call: Call, currency: str) -> tuple[Decimal, str]:
    """The call's fixed rate into its currency, and where it comes from."""
    if currency == call.currency:
        return Decimal(1), ""
    for rate in call.exchange_rates:
        if rate.currency == currency:
            return rate.rate, rate.source
    raise OperationError(
        _l("This call accepts budgets only in its own currency or in the currencies it lists."),
        "currency",
    )


def update_partner(
    actor: User,
    partner: Partner,
    *,
    version: int,
    role: str,
    currency: str,
    grant_requested: Decimal,
    contribution_cash: Decimal,
    contribution_in_kind: Decimal,
) -> Outcome:
    """Role and money of one partner, in its currency; the conversion rate is recorded."""
    application = partner.application
    _lock_editable(application)
    _check_version(version, partner.version, partner_snapshot(partner))
    rate, source = rate_for(application.call, currency)
    new = {
        "role": role.strip(),
        "currency": currency,
        "grant_requested": grant_requested,
        "contribution_cash": contribution_cash,
        "contribution_in_kind": contribution_in_kind,
    }
    changed = {
        k: {"old": str(getattr(partner, k)), "new": str(v)}
        for k, v in new.items()
        if getattr(partner, k) != v and k != "role"
    }
    if role.strip() != partner.role:
        changed["role"] = "changed"
    if not changed:
        return Outcome()
    for key, value in new.items():
        setattr(partner, key, value)
    partner.rate, partner.rate_source = rate, source
    partner.version += 1
    record(
        actor,
        "application.partner_updated",
        application,
        {"partner_id": partner.id, **changed, "rate": str(rate)},
        call_id=application.call_id,
    )
    return _changed(actor, application, "partner")


def set_budget_lines(
    actor: User, partner: Partner, *, version: int, lines: list[tuple[str, str, Decimal]]
) -> Outcome:
    """Replace a partner's budget lines (category, description, amount)."""
    application = partner.application
    _lock_editable(application)
    _check_version(version, partner.version, partner_snapshot(partner))
    for category, _description, _amount in lines:
        if category not in BUDGET_CATEGORIES:
            raise OperationError(_l("Choose a category from the list."))
    old = [(line.category, line.description, line.amount) for line in partner.budget_lines]
    new = [(c, d.strip(), a) for c, d, a in lines]
    if old == new:
        return Outcome()
    partner.budget_lines.clear()
    db.session.flush()
    for category, description, amount in new:
        partner.budget_lines.append(
            BudgetLine(category=category, description=description, amount=amount)
        )
    partner.version += 1
    db.session.flush()
    record(
        actor,
        "application.budget_updated",
        application,
        {
            "partner_id": partner.id,
            "lines": len(new),
            "total": str(sum((a for _c, _d, a in new), Decimal(0))),
        },
        call_id=application.call_id,
    )
    return _changed(actor, application, "budget")


def remove_partner(actor: User, partner: Partner) -> Outcome:
    """The lead takes a partner out of the partnership."""
    application = partner.application
    _lock_editable(application)
    _still_there(partner, application.partners)
    if partner.is_lead:
        raise OperationError(_l("The lead partner cannot be removed."))
    record(
        actor,
        "application.partner_removed",
        application,
        {"partner_id": partner.id, "organisation_id": partner.organisation_id},
        call_id=application.call_id,
    )
    for invitation in application.invitations:
        if invitation.partner_id == partner.id:
            invitation.partner_id = None
    application.partners.remove(partner)
    db.session.flush()
    return _changed(actor, application, "partners")


# --- invitations ---------------------------------------------------------------------------


WRONG_ADDRESS = _l(
    "This invitation was sent to another e-mail address. Sign in with the address that "
    "received it, or ask the lead partner to invite the address of this account."
)


def _invitation_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="partner-invitation")


def invitation_token(invitation: Invitation) -> str:
    """A signed link token; a re-send changes the nonce, so old links stop working."""
    return _invitation_serializer().dumps({"id": invitation.id, "n": invitation.nonce})


def _send_invitation(invitation: Invitation) -> None:
    application = invitation.application
    call = application.call
    days = current_app.config["INVITATION_MAX_AGE_DAYS"]
    queue_mail(
        invitation.email,
        "partner_invitation",
        invitation.locale,
        _l(
            "You are invited to apply together to %(call)s",
            call=call.text("title", invitation.locale).text,
        ),
        invitation=invitation,
        application=application,
        call=call,
        days=days,
        lead=application.lead.organisation,
        inviter=invitation.invited_by,
        link=external_url("applications.invitation", token=invitation_token(invitation)),
        call_title=call.text("title", invitation.locale).text,
    )


def invite_partner(
    actor: User, application: Application, *, email: str, locale: str, message: str
) -> Invitation:
    """E-mail a partner organisation a signed, expiring link to join."""
    _lock_editable(application)
    email = normalise_email(email)
    pending = [i for i in application.invitations if i.email == email and i.status == "pending"]
    if pending:
        raise OperationError(
            _l("This address already has a pending invitation: re-send it instead."), "email"
        )
    invitation = Invitation(
        application=application,
        email=email,
        locale=locale,
        message=message.strip(),
        nonce=secrets.token_hex(16),
        invited_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    _send_invitation(invitation)
    record(
        actor,
        "application.partner_invited",
        application,
        {"invitation_id": invitation.id},
        call_id=application.call_id,
    )
    return invitation


def resend_invitation(actor: User, invitation: Invitation) -> None:
    """A new link (the old one stops working) with a fresh expiry."""
    _lock_editable(invitation.application)
    if invitation.status != "pending":
        raise OperationError(_l("Only pending invitations can be sent again."))
    invitation.nonce = secrets.token_hex(16)
    invitation.sent_at = utcnow()
    _send_invitation(invitation)
    record(
        actor,
        "application.invitation_resent",
        invitation.application,
        {"invitation_id": invitation.id},
        call_id=invitation.application.call_id,
    )


def revoke_invitation(actor: User, invitation: Invitation) -> None:
    """Withdraw an invitation; its link stops working."""
    if invitation.status != "pending":
        raise OperationError(_l("Only pending invitations can be withdrawn."))
    invitation.status = "revoked"
    invitation.responded_at = utcnow()
    record(
        actor,
        "application.invitation_revoked",
        invitation.application,
        {"invitation_id": invitation.id},
        call_id=invitation.application.call_id,
    )


def invitation_from_token(token: str) -> Invitation:
    """The pending invitation a link stands for; raises with a clear reason otherwise."""
    max_age = current_app.config["INVITATION_MAX_AGE_DAYS"] * 24 * 3600
    try:
        payload = _invitation_serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise OperationError(
            _l("This invitation has expired. Ask the lead partner to send it again.")
        ) from exc
    except BadSignature as exc:
        raise OperationError(_l("This invitation link is not valid.")) from exc
    invitation = db.session.get(Invitation, payload.get("id"))
    if invitation is None or invitation.nonce != payload.get("n"):
        raise OperationError(
            _l("This invitation link has been replaced by a newer one. Use the latest e-mail.")
        )
    if invitation.status == "revoked":
        raise OperationError(_l("This invitation has been withdrawn by the lead partner."))
    if invitation.status == "accepted":
        raise OperationError(_l("This invitation has already been accepted."))
    return invitation


def accept_invitation(actor: User, invitation: Invitation, organisation: Organisation) -> Partner:
    """Join the partnership for an organisation the user acts for; only an account with the
    invited address may (the link alone proves nothing about who opened it)."""
    application = invitation.application
    if not can_answer_invitation(actor, invitation.email):
        raise OperationError(WRONG_ADDRESS)
    _lock_editable(application)
    if organisation.id not in organisation_ids(actor):
        raise OperationError(
            _l("You can only join for an organisation you act for."), "organisation"
        )
    if any(p.organisation_id == organisation.id for p in application.partners):
        raise OperationError(
            _l("This organisation is already a partner in this application."), "organisation"
        )
    call = application.call
    partner = Partner(
        application=application,
        organisation_id=organisation.id,
        is_lead=False,
        position=max(p.position for p in application.partners) + 1,
        currency=call.currency,
        rate=Decimal(1),
        rate_source="",
        contact_id=actor.id,
    )
    db.session.add(partner)
    db.session.flush()
    invitation.status = "accepted"
    invitation.responded_at = utcnow()
    invitation.partner_id = partner.id
    record(
        actor,
        "application.partner_joined",
        application,
        {
            "invitation_id": invitation.id,
            "organisation_id": organisation.id,
            "partner_id": partner.id,
        },
        call_id=application.call_id,
    )
    _changed(actor, application, "partners")
    return partner


# --- checklist, sign-off, submission --------------------------------------------------------


def equity_assessment(application: Application) -> EquityAssessment:
    """The equity panel: each partner's money converted into the call's currency."""
    return assess(
        [
            PartnerBudget(
                key=str(p.id),
                country=p.organisation.country,
                grant=p.grant_requested * p.rate,
                contribution=(p.contribution_cash + p.contribution_in_kind) * p.rate,
            )
            for p in application.partners
        ],
        application.call.equity_policy(),
    )


def eligibility(application: Application, equity: EquityAssessment | None = None) -> list[el.Check]:
    """The live checklist of the application."""
    call = application.call
    equity = equity or equity_assessment(application)
    partners = tuple(
        el.PartnerFacts(
            key=str(p.id),
            name=p.organisation.name,
            country=p.organisation.country,
            region=region_of(p.organisation.country),
            grant_in_call_currency=(p.grant_requested * p.rate).quantize(Decimal("0.01")),
            part_total=p.part_total,
            lines_total=p.lines_total,
            signed=p.signed_off_at is not None,
            tier_known=equity.partner(str(p.id)).tier is not None,
            within_rate=equity.partner(str(p.id)).within_rate is not False,
        )
        for p in application.partners
    )
    answered = frozenset(str(a.question_id) for a in application.answers if a.text.strip())
    facts = el.Facts(
        has_title=bool(application.title.strip()),
        has_summary=bool(application.summary.strip()),
        artform_count=len(application.artforms),
        language_count=len(application.languages),
        partners=partners,
        answered_questions=answered,
        attachment_count=len(application.attachments),
        pending_invitations=sum(1 for i in application.invitations if i.status == "pending"),
    )
    rules = el.Rules(
        min_partners=call.min_partners,
        min_countries=call.min_countries,
        required_regions=tuple(call.required_regions),
        grant_min=call.grant_min,
        grant_max=call.grant_max,
        required_questions=tuple(str(q.id) for q in call.questions if q.required),
        required_attachments=call.required_attachments,
    )
    return el.checklist(facts, rules)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def content_fingerprint(application: Application) -> dict[str, str]:
    """A short hash of each section as it stands: what a partner signs (``sign_off``)."""
    sections = {
        "general": _digest(general_snapshot(application)),
        "partners": _digest(sorted(p.organisation_id for p in application.partners)),
        "flows": _digest(
            sorted(
                (f.from_country, f.to_country, f.people, f.days, f.purpose)
                for f in application.flows
            )
        ),
        "attachments": _digest(sorted((a.sha256, a.label) for a in application.attachments)),
    }
    for answer in application.answers:
        sections[f"answer-{answer.question_id}"] = _digest(
            (answer.text, answer.language, answer.translation, answer.translation_language)
        )
    for partner in application.partners:
        sections[f"partner-{partner.id}"] = _digest(partner_snapshot(partner))
    return sections


def seen_token(application: Application) -> str:
    """The fingerprint as the sign-off form carries it (a hidden field)."""
    return " ".join(
        f"{key}:{value}" for key, value in sorted(content_fingerprint(application).items())
    )


def _changed_sections(application: Application, seen: str) -> list[str]:
    """The sections that differ from the ``seen_token`` a partner read, named for people."""
    before = dict(item.partition(":")[::2] for item in seen.split())
    now = content_fingerprint(application)
    changed = sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))
    questions = {q.id: q for q in application.call.questions}
    partners = {p.id: p for p in application.partners}
    names = []
    for key in changed:
        kind, _sep, ident = key.partition("-")
        if kind == "answer":
            question = questions.get(int(ident)) if ident.isdigit() else None
            names.append(
                str(_l("an answer"))
                if question is None
                else str(_l("the answer to question %(num)d", num=question.position + 1))
            )
        elif kind == "partner":
            partner = partners.get(int(ident)) if ident.isdigit() else None
            names.append(
                str(_l("a partner's part"))
                if partner is None
                else str(_l("the part of %(name)s", name=partner.organisation.name))
            )
        else:
            names.append(str(SECTION_NAMES.get(kind, _l("the application"))))
    return list(dict.fromkeys(names))


SECTION_NAMES = {
    "general": _l("the project (title, summary, artforms, languages)"),
    "partners": _l("the partnership"),
    "flows": _l("the mobility flows"),
    "attachments": _l("the attachments"),
}


def sign_off(actor: User, partner: Partner, seen: str | None = None) -> None:
    """A partner confirms the application as it stands now.

    ``seen`` is the ``seen_token`` of the page the partner read (the sign-off form carries
    it): if the application changed since, the sign-off is refused and names what changed.
    """
    application = partner.application
    _lock_editable(application)
    if partner.organisation_id not in organisation_ids(actor):
        raise OperationError(_l("Only someone who acts for this partner can sign for it."))
    if el.blocking(eligibility(application), ignore=frozenset({el.Item.SIGNED})):
        raise OperationError(
            _l("Complete every item of the checklist before signing: you sign the final version.")
        )
    if seen is not None:
        if not seen.strip():
            raise OperationError(
                _l("Open the application and read it again before signing: you sign what you saw.")
            )
        changed = _changed_sections(application, seen)
        if changed:
            raise OperationError(
                _l(
                    "The application changed since you opened it: %(sections)s. Read it again, "
                    "then sign.",
                    sections=", ".join(changed),
                )
            )
    if partner.signed_off_at is not None:
        return  # signed already (a second click): any change since would have cleared it
    partner.signed_off_at = utcnow()
    partner.signed_off_by_id = actor.id
    record(
        actor,
        "application.signed_off",
        application,
        {
            "partner_id": partner.id,
            "version": application.version,
            "content": _digest(content_fingerprint(application)),
        },
        call_id=application.call_id,
    )


def _bump_counter(prefix: str, year: int) -> int:
    """The next number of ``prefix`` in ``year``: one atomic upsert, its row locked until
    the transaction ends, so parallel submissions queue here and each gets its own."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ReferenceCounter).values(prefix=prefix, year=year, last=1)
    statement = statement.on_conflict_do_update(
        index_elements=[ReferenceCounter.prefix, ReferenceCounter.year],
        set_={"last": ReferenceCounter.last + 1},
    ).returning(ReferenceCounter.last)
    return int(db.session.execute(statement).scalar_one())


def _next_reference(call: Call) -> str:
    """``<prefix>-<year>-<number>``, numbered per prefix and year (the call's local year).

    Numbers come from one counter per prefix and year, so two calls that share a prefix
    (refused today, possible in older data) still never hand out the same reference; a
    number that an older reference already holds is skipped, never reused.
    """
    year = utcnow().astimezone(ZoneInfo(call.timezone)).year
    while True:
        number = _bump_counter(call.reference_prefix, year)
        reference = f"{call.reference_prefix}-{year}-{number:04d}"
        taken = db.session.scalar(select(Application.id).where(Application.reference == reference))
        if taken is None:
            return reference


def submit_application(actor: User, application: Application) -> str:
    """Submit when every item passes: a reference number and a receipt for every partner."""
    _lock_editable(application)
    failing = el.blocking(eligibility(application))
    if failing:
        raise OperationError(_l("The application cannot be submitted yet: see the checklist."))
    if application.reference is None:
        application.reference = _next_reference(application.call)
    application.status = "submitted"
    application.submitted_at = utcnow()
    record(
        actor,
        "application.submitted",
        application,
        {
            "reference": application.reference,
            "version": application.version,
            "partners": [p.id for p in application.partners],
        },
        call_id=application.call_id,
    )
    for partner in application.partners:
        contact = partner.contact
        call_title = application.call.text("title", contact.locale).text
        queue_mail(
            contact.email,
            "submission_receipt",
            contact.locale,
            _l("Receipt: application %(reference)s", reference=application.reference),
            user=contact,
            application=application,
            call_title=call_title,
            partner=partner,
            submitted_at=application.submitted_at,
        )
    return application.reference


def withdraw_application(actor: User, application: Application) -> None:
    """The lead withdraws a submitted application before the deadline."""
    lock(application)
    if application.status != "submitted":
        raise OperationError(_l("Only a submitted application can be withdrawn."))
    if application.call.phase() is not CallPhase.OPEN:
        raise OperationError(_l("The call is closed: the application can no longer be withdrawn."))
    application.status = "withdrawn"
    application.withdrawn_at = utcnow()
    record(
        actor,
        "application.withdrawn",
        application,
        {"reference": application.reference},
        call_id=application.call_id,
    )


def pending_invitations_for(user: User) -> list[Invitation]:
    """Invitations waiting for this user's e-mail address."""
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.email == user.email, Invitation.status == "pending")
            .order_by(Invitation.sent_at.desc())
        )
    )


def deadline_left(call: Call) -> timedelta:
    """Time until the call closes (negative once closed)."""
    return call.closes_at - utcnow()
