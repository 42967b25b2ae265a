"""The read side: every number a user sees (pages, exports, emails, alerts, API) comes
from here.

- ``periods``: the period type, presets and the one set of validation messages;
- ``scope``: whose sources a figure covers, with authorization checked on resolving;
- ``coverage``: the one rule for a known zero vs an unknown day;
- ``totals``: a period's totals beside the previous period, per source, per kind, ER;
- ``series``: every day (or week / month / quarter) of a period, members over time;
- ``state``: the collection state of a scope's sources (counts, freshness);
- ``dashboard``: every block of the dashboard in one call; ``filters``: its URL filters;
  ``export``: the per-source table sorted and as CSV;
- ``rows``: one row per source × day × content kind (report day sheets);
- ``items``: top publications (the only reader of items) and the hour × weekday heatmap
  (from HourlyStat).

Days are the installation's days (``SOCSTAT_TIMEZONE``, the zone DailyStat is kept in).
"""

from socstat.services.analytics.coverage import Coverage
from socstat.services.analytics.dashboard import (
    Dashboard,
    DashboardNumbers,
    OwnerRollup,
    SourceLine,
    TopRequest,
    complete_dashboard,
    dashboard,
    dashboard_for,
    numbers_for,
)
from socstat.services.analytics.export import sorted_lines, source_table_csv, table_order
from socstat.services.analytics.filters import TABLE_SORTS, DashboardFilters, parse_filters
from socstat.services.analytics.items import (
    HeatCell,
    Heatmap,
    Publication,
    PublicationPage,
    PublicationSort,
    heatmap,
    top_publications,
)
from socstat.services.analytics.periods import (
    PRESETS,
    AnalyticsError,
    Granularity,
    Period,
    PeriodKind,
    installation_today,
    parse_day,
    parse_period,
    preset_period,
)
from socstat.services.analytics.scope import (
    KIND_LABELS,
    ResolvedScope,
    Scope,
    ScopeChoices,
    SourceRef,
    parse_tags,
    resolve_scope,
    scope_choices,
    validate_kinds,
)
from socstat.services.analytics.series import (
    CounterRow,
    MembersPoint,
    MembersSeries,
    Point,
    Series,
    SourceSeries,
    counters_history,
    day_series,
    members_series,
    members_since,
    source_series,
)
from socstat.services.analytics.state import ScopeState, scope_state
from socstat.services.analytics.totals import (
    Comparison,
    Figure,
    KindTotals,
    Ratio,
    SourceComparison,
    Totals,
    percent_change,
    totals,
    totals_by_kind,
    totals_by_source,
)

__all__ = [
    "KIND_LABELS",
    "PRESETS",
    "TABLE_SORTS",
    "AnalyticsError",
    "Comparison",
    "CounterRow",
    "Coverage",
    "Dashboard",
    "DashboardFilters",
    "DashboardNumbers",
    "Figure",
    "Granularity",
    "HeatCell",
    "Heatmap",
    "KindTotals",
    "MembersPoint",
    "MembersSeries",
    "OwnerRollup",
    "Period",
    "PeriodKind",
    "Point",
    "Publication",
    "PublicationPage",
    "PublicationSort",
    "Ratio",
    "ResolvedScope",
    "Scope",
    "ScopeChoices",
    "ScopeState",
    "Series",
    "SourceComparison",
    "SourceLine",
    "SourceRef",
    "SourceSeries",
    "TopRequest",
    "Totals",
    "complete_dashboard",
    "counters_history",
    "dashboard",
    "dashboard_for",
    "day_series",
    "heatmap",
    "installation_today",
    "members_series",
    "members_since",
    "numbers_for",
    "parse_day",
    "parse_filters",
    "parse_period",
    "parse_tags",
    "percent_change",
    "preset_period",
    "resolve_scope",
    "scope_choices",
    "scope_state",
    "sorted_lines",
    "source_series",
    "source_table_csv",
    "table_order",
    "top_publications",
    "totals",
    "totals_by_kind",
    "totals_by_source",
    "validate_kinds",
]
