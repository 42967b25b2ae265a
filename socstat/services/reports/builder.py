"""Building a report's content from ``services/analytics`` — the only source of its numbers.

The owner's rights decide the scope (checked again at generation: a source the owner no
longer may read fails the report with the reason, it is never silently dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from socstat.models import Report, Role, User, utcnow
from socstat.services.analytics import (
    AnalyticsError,
    Comparison,
    Period,
    PeriodKind,
    PublicationSort,
    ResolvedScope,
    Scope,
    SourceRef,
    Totals,
    resolve_scope,
)
from socstat.services.analytics.items import publications_page
from socstat.services.analytics.rows import SourceDay, source_days
from socstat.services.analytics.series import series
from socstat.services.analytics.totals import PeriodData, load_period, source_comparisons
from socstat.services.authz import require_active
from socstat.services.reports.data import (
    KIND_LABELS,
    REPORT_KIND_LABELS,
    SHEET_DAYS,
    ChartPoint,
    DayRow,
    PublicationRow,
    ReportData,
    RollupRow,
    SourceRow,
    SummaryRow,
)
from socstat.services.reports.definitions import definitions
from socstat.services.reports.generation import ReportError, resolve_period
from socstat.settings import get_settings

TOP_PUBLICATIONS = 100
_PERIOD_KINDS = {"daily": PeriodKind.DAY, "weekly": PeriodKind.WEEK, "monthly": PeriodKind.MONTH}
_STATUS_LABELS = {
    "active": "активно",
    "closed": "закрытое сообщество",
    "private": "частное сообщество",
    "deleted": "сообщество удалено",
    "banned": "сообщество заблокировано",
    "wall_disabled": "стена закрыта",
    "error": "ошибка сбора",
}


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    start: date | None
    end: date | None
    scope: dict[str, Any]


def _analytics_scope(owner: User, scope: dict[str, Any]) -> Scope:
    """A report's stored scope as an analytics scope. Without a team or explicit sources an
    admin's report covers their own sources (not every source of the installation)."""
    source_ids = scope.get("source_ids")
    team_id = scope.get("team_id")
    own = owner.role == Role.ADMIN and team_id is None and not source_ids
    return Scope(
        user_id=owner.id if own else None,
        team_id=team_id,
        source_ids=tuple(source_ids) if source_ids else None,
        tags=tuple(scope.get("tags") or ()),
    )


def _resolve(session: Session, owner: User, scope: dict[str, Any]) -> ResolvedScope:
    try:
        resolved = resolve_scope(session, actor=owner, scope=_analytics_scope(owner, scope))
    except AnalyticsError as exc:
        raise ReportError(str(exc)) from None
    if not resolved.sources:
        raise ReportError(
            "В отчёте нет ни одного источника: добавьте сообщества или смените фильтр."
        )
    return resolved


def check_scope(session: Session, *, actor: User, scope: dict[str, Any]) -> None:
    """ReportError / PermissionDenied now rather than a failed report later."""
    _resolve(session, actor, scope)


def build_request_data(
    session: Session, *, actor: User | None, request: ReportRequest, now: datetime | None = None
) -> ReportData:
    """A report's content for a request (the CLI; the UI's preview)."""
    user = require_active(actor)
    now = now or utcnow()
    today = now.astimezone(get_settings().tz).date()
    start, end = resolve_period(request.kind, start=request.start, end=request.end, today=today)
    return build_data(
        session,
        owner=user,
        kind=request.kind,
        start=start,
        end=end,
        scope=request.scope,
        now=now,
    )


def build_report_data(
    session: Session, *, report: Report, owner: User | None, now: datetime | None = None
) -> ReportData:
    if owner is None:
        raise ReportError("Владелец отчёта удалён.")
    return build_data(
        session,
        owner=require_active(owner),
        kind=report.kind,
        start=report.period_start,
        end=report.period_end,
        scope=dict(report.scope or {}),
        now=now or utcnow(),
    )


def build_data(
    session: Session,
    *,
    owner: User,
    kind: str,
    start: date,
    end: date,
    scope: dict[str, Any],
    now: datetime,
) -> ReportData:
    resolved = _resolve(session, owner, scope)
    try:
        period = Period(start, end, _PERIOD_KINDS.get(kind, PeriodKind.CUSTOM))
    except AnalyticsError as exc:
        raise ReportError(str(exc)) from None
    previous = period.previous()
    current, before = (
        load_period(session, resolved, period),
        load_period(session, resolved, previous),
    )
    overall = Comparison(current.totals(resolved.sources), before.totals(resolved.sources))
    per_source = source_comparisons(resolved.sources, current, before)
    days = source_days(session, resolved, period)
    page = publications_page(
        session, resolved, period, sort=PublicationSort.LIKES, page_size=TOP_PUBLICATIONS
    )
    settings = get_settings()
    refs = {s.id: s for s in resolved.sources}
    day_rows = [_day_row(d, refs[d.source_id]) for d in days]
    notes = _notes(per_source, day_rows, [s for s in resolved.sources])
    filters = _filter_lines(scope, resolved)
    return ReportData(
        title=REPORT_KIND_LABELS.get(kind, kind),
        kind=kind,
        period_start=period.start,
        period_end=period.end,
        previous_start=previous.start,
        previous_end=previous.end,
        timezone=settings.timezone,
        scope_label=_scope_label(session, owner, scope, resolved),
        filters=filters,
        generated_at=now.astimezone(settings.tz),
        summary=_summary(overall.current, overall.previous),
        sources=[_source_row(c.source, c.current, c.previous) for c in per_source],
        days=day_rows,
        publications=[
            PublicationRow(
                published_at=p.published_at.astimezone(settings.tz),
                source=p.source_name,
                vk_id=refs[p.source_id].external_id if p.source_id in refs else "",
                kind=p.kind,
                text=p.text,
                likes=p.likes,
                reposts=p.reposts,
                comments=p.comments,
                views=p.views,
                er_post=p.er_post,
                er_view=p.er_view,
                url=p.url,
            )
            for p in page.items
        ],
        chart=[
            ChartPoint(
                day=point.start,
                publications=point.publications,
                reactions=_reactions(point.likes.value, point.reposts.value, point.comments.value),
                views=point.views.value,
            )
            for point in series(session, resolved, period).points
        ],
        notes=notes,
        rollup=_rollup(session, owner, resolved, current, before),
        definitions=definitions(
            period_label=f"{period.start:%d.%m.%Y} — {period.end:%d.%m.%Y}",
            previous_label=f"{previous.start:%d.%m.%Y} — {previous.end:%d.%m.%Y}",
            timezone=settings.timezone,
            scope_label=_scope_label(session, owner, scope, resolved),
            filters=filters,
            generated_at=now.astimezone(settings.tz),
            notes=notes,
        ),
    )


def _engagement(totals: Totals) -> dict[str, int | float | None]:
    """The reaction, view and ER figures a source row and a rollup row both carry."""
    return {
        "likes": totals.likes.value,
        "reposts": totals.reposts.value,
        "comments": totals.comments.value,
        "views": totals.views.value,
        "er_post": totals.er_post.value,
        "er_view": totals.er_view.value,
    }


def _rollup(
    session: Session, owner: User, resolved: ResolvedScope, current: PeriodData, before: PeriodData
) -> list[RollupRow]:
    """Per analyst (a director's or admin's report over several people's sources)."""
    if owner.role not in (Role.DIRECTOR, Role.ADMIN):
        return []
    by_owner: dict[int, list[SourceRef]] = {}
    for source in resolved.sources:
        for user_id in resolved.owners.get(source.id, ()):
            by_owner.setdefault(user_id, []).append(source)
    if len(by_owner) < 2:
        return []
    users = session.exec(select(User).where(col(User.id).in_(sorted(by_owner)))).all()
    names = {u.id: u.name or u.email for u in users}
    rows = []
    for user_id, mine in sorted(by_owner.items(), key=lambda kv: names.get(kv[0], "").casefold()):
        now, then = current.totals(mine), before.totals(mine)
        rows.append(
            RollupRow(
                name=names.get(user_id, str(user_id)),
                sources=len(mine),
                publications=now.publications,
                **_engagement(now),
                members_delta=now.members_delta.value,
                previous_publications=then.publications,
            )
        )
    return rows


def _reactions(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _summary(current: Totals, previous: Totals) -> list[SummaryRow]:
    def row(key: str, label: str, pick: Any, ratio: bool = False) -> SummaryRow:
        return SummaryRow(key, label, pick(current), pick(previous), ratio)

    return [
        row("posts", "Посты", lambda t: t.posts),
        row("videos", "Видео", lambda t: t.videos),
        row("clips", "Клипы", lambda t: t.clips),
        row("likes", "Лайки", lambda t: t.likes.value),
        row("reposts", "Репосты", lambda t: t.reposts.value),
        row("comments", "Комментарии", lambda t: t.comments.value),
        row("views", "Просмотры", lambda t: t.views.value),
        row("er_post", "Средний ERpost", lambda t: t.er_post.value, True),
        row("er_view", "Средний ERview", lambda t: t.er_view.value, True),
        row("er_day", "Средний ERday", lambda t: t.er_day.value, True),
        row("members", "Подписчики (на конец периода)", lambda t: t.members_end.value),
        row("members_delta", "Изменение подписчиков", lambda t: t.members_delta.value),
    ]


def _source_row(source: SourceRef, current: Totals, previous: Totals) -> SourceRow:
    return SourceRow(
        source_id=source.id,
        name=source.name,
        vk_id=source.external_id,
        url=source.url,
        status=_STATUS_LABELS.get(source.status, source.status),
        posts=current.posts,
        videos=current.videos,
        clips=current.clips,
        **_engagement(current),
        members=current.members_end.value,
        members_delta=current.members_delta.value,
    )


def _day_row(day: SourceDay, source: SourceRef) -> DayRow:
    return DayRow(
        day=day.day,
        source=source.name,
        vk_id=source.external_id,
        kind=day.kind,
        count=day.count,
        likes=day.likes,
        reposts=day.reposts,
        comments=day.comments,
        views=day.views,
        views_unknown=day.views_unknown,
    )


def _notes(
    per_source: Sequence[Any], days: Sequence[DayRow], sources: Sequence[SourceRef]
) -> list[str]:
    """A note for every unknown or partial figure, naming the source and the reason."""
    notes = []
    for item in per_source:
        name, current = item.source.name, item.current
        if item.source.status in _STATUS_LABELS and item.source.status != "active":
            notes.append(f"«{name}»: {_STATUS_LABELS[item.source.status]} — публикации недоступны.")
        if current.publications is None:
            notes.append(f"«{name}»: за период нет собранных данных — показатели неизвестны.")
        for label, figure in (
            ("лайки", current.likes),
            ("репосты", current.reposts),
            ("комментарии", current.comments),
            ("просмотры", current.views),
        ):
            if figure.unknown:
                notes.append(
                    f"«{name}»: {label} неизвестны для {figure.unknown} публикаций "
                    "(VK их не отдал) — суммы только по известным."
                )
        if current.members_end.value is None:
            notes.append(
                f"«{name}»: число подписчиков за период неизвестно — ERpost и ERday не считаются."
            )
    empty = sum(v is None for row in days for v in row.values())
    unknown_days = sum(row.count is None for row in days)
    if empty:
        notes.append(
            f"В листе «{SHEET_DAYS}» {empty} пустых ячеек — значение неизвестно "
            f"(из них строк без данных о публикациях: {unknown_days}; это дни вне собранной "
            "истории или недоступные стены, а не нули)."
        )
    return notes


def _filter_lines(scope: dict[str, Any], resolved: ResolvedScope) -> list[str]:
    lines = [f"Источников: {len(resolved.sources)}"]
    if scope.get("source_ids"):
        lines.append("Источники выбраны: " + ", ".join(s.name for s in resolved.sources))
    if scope.get("tags"):
        lines.append("Теги: " + ", ".join(scope["tags"]))
    lines.append("Типы публикаций: " + ", ".join(KIND_LABELS[k] for k in resolved.kinds))
    return lines


def _scope_label(
    session: Session, owner: User, scope: dict[str, Any], resolved: ResolvedScope
) -> str:
    who = owner.name or owner.email
    if scope.get("team_id") is not None:
        return f"команда (отчёт {who}), источников: {len(resolved.sources)}"
    if scope.get("source_ids") or scope.get("tags"):
        return f"выбранные источники {who}: {len(resolved.sources)}"
    if owner.role == Role.DIRECTOR:
        return f"источники {who} и команды: {len(resolved.sources)}"
    return f"источники {who}: {len(resolved.sources)}"


@dataclass(frozen=True)
class ReportOptions:
    """What the report builder offers the actor: their sources and tags."""

    sources: list[tuple[int, str]]
    tags: list[str]


def report_options(session: Session, *, actor: User | None) -> ReportOptions:
    from socstat.models import Subscription
    from socstat.services.analytics import parse_tags

    user = require_active(actor)
    resolved = resolve_scope(session, actor=user, scope=_analytics_scope(user, {}))
    subs = session.exec(select(Subscription.tags).where(Subscription.user_id == user.id)).all()
    tags = sorted({tag for text in subs for tag in parse_tags(text)}, key=str.casefold)
    return ReportOptions(sources=[(s.id, s.name) for s in resolved.sources], tags=tags)
