"""Every model, imported in one place so Base.metadata is complete (Alembic, tests)."""

from challenges.models import (  # noqa: F401
    AdvocateGroup,
    Challenge,
    DigestSent,
    EventReminder,
    ProgramSettings,
    Submission,
    ThankYou,
)
from points.models import (  # noqa: F401
    Badge,
    BadgeAward,
    ExpiryNotice,
    FeedEvent,
    GameSettings,
    GiftOffer,
    LedgerEntry,
    Level,
    LevelReached,
    PeriodTotal,
    PointsBalance,
    Redemption,
    RedemptionEvent,
    Reward,
    RewardSettings,
    ScoreCount,
)
from portal.accounts.models import (  # noqa: F401
    Account,
    AuditEvent,
    ConsentRecord,
    GiftPolicyChange,
    GiftPolicyRequest,
    Invitation,
    ProfileConfirmation,
    User,
)
from portal.db import Base  # noqa: F401
from portal.mail.models import OutboxMessage  # noqa: F401
from portal.notifications.models import Notification  # noqa: F401
from references.models import (  # noqa: F401
    AccountFlag,
    AccountMilestone,
    LatestScore,
    ReferenceAsk,
    ReferenceReminder,
    ReferenceRequest,
    ReferenceSettings,
    SalesCredit,
    SurveyImport,
    SurveyImportError,
    SurveyResponse,
)
