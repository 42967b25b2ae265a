"""All tables; importing this module registers them on SQLModel.metadata."""

from socstat.models.accounts import (
    AuthSession,
    LoginAttempt,
    OneTimeToken,
    RecoveryCode,
    Role,
    Team,
    TeamMember,
    TotpUse,
    User,
)
from socstat.models.alerts import (
    AlertFiring,
    AlertRule,
    FiringState,
    Notification,
    Outbox,
    OutboxStatus,
    TelegramLink,
    UserPhone,
)
from socstat.models.audit import AuditEvent
from socstat.models.base import UTCDateTime, utcnow
from socstat.models.reports import (
    Report,
    ReportKind,
    ReportRecipient,
    ReportSchedule,
    ReportStatus,
)
from socstat.models.runs import ApiUsage, CollectionRun, CollectionRunSource, JobRun, RunStatus
from socstat.models.sources import ContentKind, Source, SourceStatus, Subscription
from socstat.models.stats import ContentItem, CounterSnapshot, DailyStat, HourlyStat
from socstat.models.system import ApiToken, SystemSetting

__all__ = [
    "AlertFiring",
    "AlertRule",
    "ApiToken",
    "ApiUsage",
    "AuditEvent",
    "AuthSession",
    "CollectionRun",
    "CollectionRunSource",
    "ContentItem",
    "ContentKind",
    "CounterSnapshot",
    "DailyStat",
    "FiringState",
    "HourlyStat",
    "JobRun",
    "LoginAttempt",
    "Notification",
    "OneTimeToken",
    "Outbox",
    "OutboxStatus",
    "RecoveryCode",
    "Report",
    "ReportKind",
    "ReportRecipient",
    "ReportSchedule",
    "ReportStatus",
    "Role",
    "RunStatus",
    "Source",
    "SourceStatus",
    "Subscription",
    "SystemSetting",
    "Team",
    "TeamMember",
    "TelegramLink",
    "TotpUse",
    "UTCDateTime",
    "User",
    "UserPhone",
    "utcnow",
]
