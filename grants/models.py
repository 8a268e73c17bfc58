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
from grants.auth.models import PendingRegistration, User, UserSession
from grants.calls.models import (
    Call,
    CallQuestion,
    Criterion,
    ExchangeRate,
    Funder,
    FunderOfficer,
    TierOverride,
)
from grants.decisions.models import Appeal, Decision, LotteryDraw, RankingRun
from grants.mail.models import OutboxMessage
from grants.organisations.models import (
    Organisation,
    OrganisationInvitation,
    OrganisationMember,
)
from grants.reviews.models import (
    Assignment,
    Conflict,
    Consensus,
    PanelMember,
    Review,
    ReviewerProfile,
)
from grants.transparency.models import PublicEntry, PublishedRecord, TreeHead

__all__ = [
    "Answer",
    "Appeal",
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
    "Decision",
    "ExchangeRate",
    "Funder",
    "FunderOfficer",
    "Invitation",
    "LotteryDraw",
    "MobilityFlow",
    "Organisation",
    "OrganisationInvitation",
    "OrganisationMember",
    "OutboxMessage",
    "PanelMember",
    "Partner",
    "PendingRegistration",
    "PublicEntry",
    "PublishedRecord",
    "RankingRun",
    "Review",
    "ReviewerProfile",
    "TierOverride",
    "TreeHead",
    "User",
    "UserSession",
]
