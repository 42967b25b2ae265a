"""VK API method implementations over the generated world (no HTTP here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from socstat.sandbox.config import TokenSpec
from socstat.sandbox.world import USERS, Community, Post, World, media_object, post_item

USER_IDS = frozenset(USERS.values())


class VKError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


ERR_PARAM = 100
MSG_PARAM = "One of the parameters specified was missing or invalid"


@dataclass
class CallContext:
    world: World
    now: float
    token: TokenSpec


Handler = Callable[[CallContext, dict[str, str]], object]


def _int_param(params: dict[str, str], name: str, default: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        if default is None:
            raise VKError(ERR_PARAM, f"{MSG_PARAM}: {name} is undefined")
        return default
    try:
        return int(float(raw))
    except ValueError:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: {name} not integer") from None


def _owner_community(ctx: CallContext, params: dict[str, str]) -> Community | None:
    """The community of ``owner_id`` (negative); None for a known user; error otherwise."""
    owner_id = _int_param(params, "owner_id")
    if owner_id > 0:
        if owner_id in USER_IDS:
            return None
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: owner_id is incorrect")
    community = ctx.world.by_id.get(-owner_id)
    if community is None:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: owner_id is incorrect")
    return community


def _check_wall(community: Community) -> None:
    """The error wall.get/video.get give for a community that cannot be read."""
    if community.deactivated == "banned":
        raise VKError(15, "Access denied: group is blocked")
    if community.deactivated == "deleted":
        raise VKError(15, "Access denied: group is deactivated")
    if community.is_closed:
        raise VKError(15, "Access denied: this wall available only for community members")
    if not community.wall_enabled:
        raise VKError(15, "Access denied: wall is disabled")


def resolve_screen_name(ctx: CallContext, params: dict[str, str]) -> object:
    name = params.get("screen_name", "").strip()
    if not name:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: screen_name is undefined")
    found = ctx.world.resolve(name)
    if found is None:
        return []
    return {"type": found[0], "object_id": found[1]}


def _lookup_group(world: World, ref: str) -> Community:
    ref = ref.strip()
    community = None
    if ref.lstrip("-").isdigit():
        community = world.by_id.get(abs(int(ref)))
    else:
        resolved = world.resolve(ref)
        if resolved and resolved[0] != "user":
            community = world.by_id.get(resolved[1])
    if community is None:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: group_ids is invalid ({ref})")
    return community


def _group_object(ctx: CallContext, community: Community, fields: set[str]) -> dict:
    obj: dict = {
        "id": community.id,
        "name": community.name if community.deactivated is None else "DELETED",
        "screen_name": community.screen_name,
        "type": community.type,
        "is_closed": community.is_closed,
        "photo_50": f"https://example.com/g{community.id}_50.jpg",
        "photo_100": f"https://example.com/g{community.id}_100.jpg",
        "photo_200": f"https://example.com/g{community.id}_200.jpg",
    }
    if community.deactivated:
        obj["deactivated"] = community.deactivated
        return obj
    counters = (
        ctx.world.counters(community, ctx.now)
        if fields & {"counters", "clips_count", "videos_count"}
        else {}
    )
    if "members_count" in fields:
        obj["members_count"] = ctx.world.members(community, ctx.now)
    if "counters" in fields:
        obj["counters"] = counters
    if "clips_count" in fields:
        obj["clips_count"] = counters["clips"]
    if "videos_count" in fields:
        obj["videos_count"] = counters["videos"]
    if "activity" in fields:
        obj["activity"] = "Сообщество"
    if "description" in fields:
        obj["description"] = f"Демо-сообщество {community.screen_name}"
    return obj


def groups_get_by_id(ctx: CallContext, params: dict[str, str]) -> object:
    raw = params.get("group_ids") or params.get("group_id") or ""
    refs = [ref for ref in raw.split(",") if ref.strip()]
    if not refs:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: group_ids is undefined")
    if len(refs) > 500:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: too many group_ids")
    fields = {f.strip() for f in params.get("fields", "").split(",") if f.strip()}
    groups = [_group_object(ctx, _lookup_group(ctx.world, ref), fields) for ref in refs]
    return {"groups": groups, "profiles": []}


def wall_get(ctx: CallContext, params: dict[str, str]) -> object:
    count = _int_param(params, "count", 20)
    offset = _int_param(params, "offset", 0)
    if count < 0 or count > 100 or offset < 0:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: count must be within [0, 100]")
    community = _owner_community(ctx, params)
    if community is None:
        return {"count": 0, "items": []}
    _check_wall(community)
    if params.get("filter", "all") not in ("all", "owner", ""):
        return {"count": 0, "items": []}
    posts, pinned = ctx.world.posts(community.id, ctx.now)
    return {"count": len(posts), "items": _wall_page(ctx, posts, pinned, offset, count)}


def _wall_page(
    ctx: CallContext, posts: list[Post], pinned: Post | None, offset: int, count: int
) -> list:
    """Page of [pinned] + other posts newest first; ``posts`` is ascending by date."""
    total = len(posts)
    items: list[dict] = []
    pinned_desc = total  # position of the pinned post in newest-first order
    start = offset
    if pinned is not None:
        pinned_desc = total - 1 - next(i for i, p in enumerate(posts) if p.id == pinned.id)
        if offset == 0 and count > 0:
            items.append(post_item(pinned, ctx.now, pinned=True))
        start = max(0, offset - 1)
    index = start
    while len(items) < count:
        desc = index if index < pinned_desc else index + 1
        if desc >= total:
            break
        items.append(ctx.world.item(posts[total - 1 - desc], ctx.now))
        index += 1
    return items


def wall_get_by_id(ctx: CallContext, params: dict[str, str]) -> object:
    """Posts named ``<owner>_<id>`` that are on their wall now; others are left out."""
    refs = [ref.strip() for ref in params.get("posts", "").split(",") if ref.strip()]
    if not refs:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: posts is undefined")
    if len(refs) > 100:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: too many posts")
    wanted: dict[int, set[int]] = {}
    for ref in refs:
        owner, _, post = ref.partition("_")
        try:
            wanted.setdefault(int(owner), set()).add(int(post))
        except ValueError:
            raise VKError(ERR_PARAM, f"{MSG_PARAM}: posts is invalid ({ref})") from None
    items: list = []
    for owner_id, post_ids in wanted.items():
        community = ctx.world.by_id.get(-owner_id) if owner_id < 0 else None
        if community is None or not community.wall_accessible:
            continue
        posts, _ = ctx.world.posts(community.id, ctx.now)
        items.extend(ctx.world.item(p, ctx.now) for p in posts if p.id in post_ids)
    return {"items": items}


def video_get(ctx: CallContext, params: dict[str, str]) -> object:
    if not ctx.token.video_right:
        raise VKError(15, "Access denied: no access to call this method")
    count = _int_param(params, "count", 100)
    offset = _int_param(params, "offset", 0)
    if count < 0 or count > 200 or offset < 0:
        raise VKError(ERR_PARAM, f"{MSG_PARAM}: count must be within [0, 200]")
    community = _owner_community(ctx, params)
    if community is None:
        return {"count": 0, "items": []}
    if community.deactivated or community.is_closed:
        _check_wall(community)
    media = ctx.world.media(community.id, ctx.now)
    newest = media[::-1][offset : offset + count]
    return {"count": len(media), "items": [media_object(item, ctx.now) for item in newest]}


METHODS: dict[str, Handler] = {
    "utils.resolveScreenName": resolve_screen_name,
    "groups.getById": groups_get_by_id,
    "wall.get": wall_get,
    "wall.getById": wall_get_by_id,
    "video.get": video_get,
}
