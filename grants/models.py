"""Import every model so that the metadata (and Alembic) sees all tables."""

from grants.applications.models import (
    Answer,
    Application,
    Attachment,
    BudgetLine,
    Invitation,
    MobilityFlow,
    Partner,
)
from grants.audit.models import AuditEntry
from grants.auth.models import User, UserSession
from grants.calls.models import (
    Call,
    CallQuestion,
    Criterion,
    ExchangeRate,
    Funder,
    FunderOfficer,
    TierOverride,
)
from grants.decisions.models import RankingRun
from grants.mail.models import OutboxMessage
from grants.organisations.models import Organisation, OrganisationMember
from grants.reviews.models import (
    Assignment,
    Conflict,
    Consensus,
    PanelMember,
    Review,
    ReviewerProfile,
)

__all__ = [
    "Answer",
    "Application",
    "Assignment",
    "Attachment",
    "AuditEntry",
    "BudgetLine",
    "Call",
    "CallQuestion",
    "Conflict",
    "Consensus",
    "Criterion",
    "ExchangeRate",
    "Funder",
    "FunderOfficer",
    "Invitation",
    "MobilityFlow",
    "Organisation",
    "OrganisationMember",
    "OutboxMessage",
    "PanelMember",
    "Partner",
    "RankingRun",
    "Review",
    "ReviewerProfile",
    "TierOverride",
    "User",
    "UserSession",
]
