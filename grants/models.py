"""Import every model so that the metadata (and Alembic) sees all tables."""

from grants.audit.models import AuditEntry
from grants.auth.models import User
from grants.calls.models import Call, Criterion, Funder, FunderOfficer
from grants.mail.models import OutboxMessage

__all__ = ["AuditEntry", "Call", "Criterion", "Funder", "FunderOfficer", "OutboxMessage", "User"]
