"""Every model, imported in one place so Base.metadata is complete (Alembic, tests)."""

from portal.accounts.models import (  # noqa: F401
    Account,
    AuditEvent,
    ConsentRecord,
    GiftPolicyChange,
    GiftPolicyRequest,
    Invitation,
    User,
)
from portal.db import Base  # noqa: F401
from portal.mail.models import OutboxMessage  # noqa: F401
