"""Pure functions: VK JSON objects → collector dataclasses (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from socstat.collectors.base import CommunityInfo, ContentRecord, CounterReading

GROUP_FIELDS = (
    "members_count,counters,photo_200,screen_name,is_closed,type,deactivated,"
    "clips_count,videos_count"
)
TEXT_PREVIEW = 200

STATUS_REASONS = {
    "active": "",
    "closed": "закрытое сообщество: стена доступна только участникам",
    "private": "частное сообщество: стена доступна только участникам",
    "deleted": "сообщество удалено",
    "banned": "сообщество заблокировано ВКонтакте",
    "wall_disabled": "стена сообщества отключена",
}


def as_int(value: Any) -> int | None:
    """An int from VK's int/float/str values; None when absent or not a number."""
    if type(value) is int:  # nearly every value: exact, and no float round trip
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def count_of(value: Any) -> int | None:
    """``{"count": N}`` → N; a bare number → itself; absent → None."""
    if isinstance(value, dict):
        return as_int(value.get("count"))
    return as_int(value)


def utc(timestamp: Any) -> datetime:
    return datetime.fromtimestamp(as_int(timestamp) or 0, UTC)


def groups_of(response: Any) -> list[dict[str, Any]]:
    """groups.getById result in the 5.199 ``{"groups": [...]}`` shape or the old bare list."""
    if isinstance(response, dict):
        response = response.get("groups") or []
    if not isinstance(response, list):
        return []
    return [group for group in response if isinstance(group, dict)]


def group_status(group: dict[str, Any]) -> str:
    deactivated = group.get("deactivated")
    if deactivated in ("deleted", "banned"):
        return str(deactivated)
    if deactivated:
        return "deleted"
    return {1: "closed", 2: "private"}.get(as_int(group.get("is_closed")) or 0, "active")


def counter_reading(group: dict[str, Any], posts: int | None = None) -> CounterReading:
    counters = group.get("counters") if isinstance(group.get("counters"), dict) else {}

    def pick(name: str, fallback: str | None = None) -> int | None:
        value = as_int(counters.get(name))
        if value is None and fallback:
            value = as_int(group.get(fallback))
        return value

    return CounterReading(
        members=as_int(group.get("members_count")),
        posts=posts,
        videos=pick("videos", "videos_count"),
        clips=pick("clips", "clips_count"),
        clips_views=pick("clips_views"),
        clips_likes=pick("clips_likes"),
        clips_followers=pick("clips_followers"),
        photos=pick("photos"),
        articles=pick("articles"),
    )


def community_info(
    group: dict[str, Any], status: str | None = None, posts: int | None = None
) -> CommunityInfo:
    gid = as_int(group.get("id")) or 0
    screen_name = str(group.get("screen_name") or f"club{gid}")
    status = status or group_status(group)
    return CommunityInfo(
        external_id=str(gid),
        screen_name=screen_name,
        name=str(group.get("name") or screen_name),
        url=f"https://vk.com/{screen_name}",
        photo_url=str(group.get("photo_200") or ""),
        community_type=str(group.get("type") or ""),
        members_count=as_int(group.get("members_count")),
        status=status,
        status_reason=STATUS_REASONS.get(status, ""),
        counters=counter_reading(group, posts),
    )


def post_record(item: dict[str, Any]) -> ContentRecord:
    return ContentRecord(
        kind="post",
        external_id=str(as_int(item.get("id"))),
        published_at=utc(item.get("date")),
        likes=count_of(item.get("likes")),
        reposts=count_of(item.get("reposts")),
        comments=count_of(item.get("comments")),
        views=count_of(item.get("views")),
        is_pinned=bool(item.get("is_pinned")),
        is_ad=bool(item.get("marked_as_ads")),
        is_repost=bool(item.get("copy_history")),
        text_preview=str(item.get("text") or "")[:TEXT_PREVIEW],
    )


def media_records(item: dict[str, Any], owner_id: int) -> list[ContentRecord]:
    """Clip/video records for the community's own clips and videos attached to a post."""
    records = []
    for attachment in item.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        kind, obj = _media_of(attachment)
        if obj is None or as_int(obj.get("owner_id")) != owner_id or as_int(obj.get("id")) is None:
            continue
        records.append(media_record(kind, obj, item.get("date")))
    return records


def _media_of(attachment: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    kind = attachment.get("type")
    obj = attachment.get(kind) if isinstance(kind, str) else None
    if not isinstance(obj, dict):
        return "", None
    if kind == "clip":
        return "clip", obj
    if kind == "video":
        return ("clip" if obj.get("type") == "short_video" else "video"), obj
    return "", None


def media_record(kind: str, obj: dict[str, Any], fallback_date: Any = None) -> ContentRecord:
    date = obj.get("date") if obj.get("date") is not None else fallback_date
    return ContentRecord(
        kind=kind,
        external_id=f"{as_int(obj.get('owner_id'))}_{as_int(obj.get('id'))}",
        published_at=utc(date),
        likes=count_of(obj.get("likes")),
        reposts=count_of(obj.get("reposts")),
        comments=count_of(obj.get("comments")),
        views=count_of(obj.get("views")),
        text_preview=str(obj.get("title") or "")[:TEXT_PREVIEW],
    )
