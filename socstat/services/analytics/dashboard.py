"""The whole dashboard in one call: KPIs with the previous period, the day series, the
per-source table with sparklines, top publications, the heatmap, members over time and —
for a director or an admin — the rollup per analyst. The scope is resolved (authorized)
once and each period is read once for every block: ``dashboard_numbers`` reads them and
the KPIs, ``complete_dashboard`` the rest (a page can show the numbers in between)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlmodel import Session, select

from socstat.models import Role, User
from socstat.services.analytics.coverage import Coverage
from socstat.services.analytics.filters import DashboardFilters
from socstat.services.analytics.items import (
    Heatmap,
    PublicationPage,
    PublicationSort,
    heatmap_of,
    publications_page,
)
from socstat.services.analytics.periods import Period
from socstat.services.analytics.scope import ResolvedScope, Scope, SourceRef, resolve_scope
from socstat.services.analytics.series import (
    MembersSeries,
    Series,
    members_of,
    series,
    sparklines,
)
from socstat.services.analytics.totals import (
    Comparison,
    PeriodData,
    Totals,
    load_periods,
)
from socstat.services.authz import PermissionDenied, require_active
from socstat.settings import get_settings


@dataclass(frozen=True)
class SourceLine:
    """One row of the per-source table."""

    source: SourceRef
    current: Totals
    sparkline: tuple[int | None, ...]  # publications over the period (see series.sparklines)
    previous_data: PeriodData | None = field(default=None, repr=False, compare=False)

    @property
    def previous(self) -> Totals:
        """The source's totals in the previous period (the table does not show them: built
        on demand, not for every row of every dashboard)."""
        assert self.previous_data is not None, "a line made without the previous period"
        return self.previous_data.totals([self.source])


@dataclass(frozen=True)
class OwnerRollup:
    """A user's sources in scope, summed (the director's and the admin's rollup)."""

    user_id: int
    name: str
    sources: int
    current: Totals
    previous: Totals


@dataclass(frozen=True)
class Dashboard:
    scope: ResolvedScope
    period: Period
    timezone: str  # the zone days are counted in
    history_start: date | None  # the first day with data in scope
    totals: Comparison
    series: Series
    sources: tuple[SourceLine, ...]
    top: PublicationPage
    heatmap: Heatmap
    members: MembersSeries
    rollup: tuple[OwnerRollup, ...]  # empty for an analyst


@dataclass(frozen=True)
class TopRequest:
    """Which page of the top publications a dashboard shows."""

    sort: str = PublicationSort.LIKES
    descending: bool = True
    page: int = 1
    page_size: int = 10


@dataclass(frozen=True)
class DashboardNumbers:
    """A dashboard's first part, what its KPIs need: the authorized scope, both periods
    read and their totals. ``complete_dashboard`` builds the other blocks from it without
    reading them again (the page shows the numbers before the rest is computed)."""

    actor_id: int
    scope: ResolvedScope
    period: Period
    coverages: dict[int, Coverage]
    current: PeriodData
    previous: PeriodData
    totals: Comparison


def dashboard_numbers(
    session: Session, *, actor: User | None, scope: Scope, period: Period
) -> DashboardNumbers:
    resolved = resolve_scope(session, actor=actor, scope=scope)
    assert actor is not None and actor.id is not None  # resolve_scope refused None
    covs = resolved.coverages(session)  # read with the scope, for every block
    current, previous = load_periods(session, resolved, period, covs)
    totals = Comparison(current.totals(resolved.sources), previous.totals(resolved.sources))
    return DashboardNumbers(actor.id, resolved, period, covs, current, previous, totals)


def dashboard(
    session: Session,
    *,
    actor: User | None,
    scope: Scope,
    period: Period,
    top: TopRequest = TopRequest(),
) -> Dashboard:
    return complete_dashboard(
        session,
        actor=actor,
        numbers=dashboard_numbers(session, actor=actor, scope=scope, period=period),
        top=top,
    )


def complete_dashboard(
    session: Session,
    *,
    actor: User | None,
    numbers: DashboardNumbers,
    top: TopRequest = TopRequest(),
) -> Dashboard:
    """Every block of the dashboard whose numbers were read for ``actor``."""
    actor = require_active(actor)
    if actor.id != numbers.actor_id:
        raise PermissionDenied("Эти данные прочитаны для другого пользователя.")
    resolved, period, covs = numbers.scope, numbers.period, numbers.coverages
    current, previous = numbers.current, numbers.previous
    spark = sparklines(session, resolved, period, covs)
    day_series = series(session, resolved, period, covs=covs)
    return Dashboard(
        scope=resolved,
        period=period,
        timezone=get_settings().timezone,
        history_start=day_series.first_day,
        totals=numbers.totals,
        series=day_series,
        sources=tuple(
            SourceLine(source, totals, spark[source.id], previous)
            for source, totals in zip(resolved.sources, current.each(resolved.sources), strict=True)
        ),
        top=publications_page(
            session,
            resolved,
            period,
            sort=top.sort,
            descending=top.descending,
            page=top.page,
            page_size=top.page_size,
            total=current.publications(),
        ),
        heatmap=heatmap_of(session, resolved, period),
        members=members_of(day_series),
        rollup=_rollup(session, actor, resolved, current, previous),
    )


def _rollup(
    session: Session,
    actor: User,
    resolved: ResolvedScope,
    current: PeriodData,
    previous: PeriodData,
) -> tuple[OwnerRollup, ...]:
    if actor.role not in (Role.DIRECTOR, Role.ADMIN) or not resolved.owners:
        return ()
    by_owner: dict[int, list[SourceRef]] = {}
    for source in resolved.sources:
        for owner in resolved.owners.get(source.id, ()):
            by_owner.setdefault(owner, []).append(source)
    users = session.exec(select(User).where(User.id.in_(sorted(by_owner)))).all()
    names = {u.id: u.name or u.email for u in users}
    return tuple(
        OwnerRollup(
            user_id=owner,
            name=names.get(owner, str(owner)),
            sources=len(mine),
            current=current.totals(mine),
            previous=previous.totals(mine),
        )
        for owner, mine in sorted(by_owner.items(), key=lambda kv: names.get(kv[0], "").casefold())
    )


def dashboard_for(
    session: Session,
    *,
    actor: User | None,
    filters: DashboardFilters,
    top: TopRequest = TopRequest(),
) -> tuple[Dashboard, DashboardFilters, list[str]]:
    """The dashboard of URL filters (see ``numbers_for``)."""
    numbers, applied, messages = numbers_for(session, actor=actor, filters=filters)
    board = complete_dashboard(
        session,
        actor=actor,
        numbers=numbers,
        top=top,
    )
    return board, applied, messages


def numbers_for(
    session: Session, *, actor: User | None, filters: DashboardFilters
) -> tuple[DashboardNumbers, DashboardFilters, list[str]]:
    """The dashboard's numbers for URL filters. A filter the actor may not use (someone
    else's source, user or team) is dropped with a message; the filters actually applied
    come back."""
    messages: list[str] = []
    while True:
        try:
            numbers = dashboard_numbers(
                session, actor=actor, scope=filters.scope(), period=filters.period
            )
            return numbers, filters, messages
        except PermissionDenied as exc:
            if filters.source_ids:
                messages.append(f"{exc} Фильтр источников не применён.")
                filters = filters.without_sources()
            elif filters.user_id is not None or filters.team_id is not None:
                messages.append(f"{exc} Показаны ваши источники.")
                filters = replace(filters, user_id=None, team_id=None)
            else:
                raise
