"""Report kinds (plain constants, importable without the database layer, e.g. by the CLI)."""


class ReportKind:
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    CUSTOM = "custom"
    ALL = (DAILY, WEEKLY, MONTHLY, CUSTOM)
    SCHEDULED = (DAILY, WEEKLY, MONTHLY)
