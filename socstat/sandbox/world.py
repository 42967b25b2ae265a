"""A generated, deterministic VK world: communities, wall posts, videos and clips.

Everything is a pure function of ``(seed, community count, history start)`` and the
world clock ``now``:

* Communities are created eagerly (metadata only); their content is generated lazily,
  one Moscow day at a time, and cached.
* The posting schedule is defined for every Moscow day independently of ``now``: the
  posts of day ``d`` of community ``g`` depend only on ``(seed, g, d)``. A post "exists"
  once its ``date <= now``; history starts at Moscow midnight ``days`` days before the
  initial clock, so advancing the clock makes new posts appear.
* Engagement (likes, reposts, comments, views) grows after publication as a
  deterministic function of ``(post, now)`` and saturates after 7 days.
* Posts published before ``views_since`` (history start + 20 % of the history) carry no
  ``views`` at all (like VK's old posts).

Moscow time is UTC+3 (no DST since 2014).
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from socstat.sandbox.jsonenc import Raw, dumps

MSK = timezone(timedelta(hours=3), "MSK")
MSK_OFFSET = 3 * 3600
DAY = 86400
ID_BASE_DAY = 18000  # 2019-04-14; post ids are (day - ID_BASE_DAY) * 64 + n
SATURATION_SECONDS = 7 * DAY
STANDALONE_SLOT = 63

USERS: dict[str, int] = {
    "durov": 1,
    "ivan_petrov": 100500,
    "anna.smirnova": 200600,
    "id777": 777,
}

_ADJ = ("city", "good", "daily", "moscow", "fresh", "smart", "happy", "retro", "urban", "green")
_NOUN = ("news", "memes", "recipes", "sport", "music", "travel", "cinema", "books", "tech", "art")
_WORDS = ("сегодня", "новости", "конкурс", "видео", "рецепт", "анонс", "итоги", "фото", "лайк")

_TEXTS = tuple(
    " ".join(_WORDS[(n * 7 + k * 3) % len(_WORDS)] for k in range(n % 13)) for n in range(64)
)


def msk_day(ts: float) -> int:
    """Moscow day number (days since 1970-01-01 MSK) of a unix timestamp."""
    return int((ts + MSK_OFFSET) // DAY)


def day_start(day: int) -> int:
    """Unix timestamp of Moscow midnight starting ``day``."""
    return day * DAY - MSK_OFFSET


def day_date(day: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(days=day)).strftime("%Y-%m-%d")


def date_day(text: str) -> int:
    return (datetime.strptime(text, "%Y-%m-%d") - datetime(1970, 1, 1)).days


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _mix(*parts: int) -> int:
    acc = 1469598103934665603
    for part in parts:
        acc = ((acc ^ (part & 0xFFFFFFFFFFFF)) * 1099511628211) % (1 << 64)
    return acc


def grow(final: int, age: float, tau: float) -> int:
    """Engagement after ``age`` seconds: 0 before publication, ``final`` after 7 days."""
    if age <= 0:
        return 0
    if age >= SATURATION_SECONDS:
        return final
    return int(final * (1.0 - math.exp(-age / tau)))


@dataclass(frozen=True, slots=True)
class Engagement:
    likes: int
    reposts: int
    comments: int
    views: int

    def at(self, age: float) -> tuple[int, int, int, int]:
        """(likes, reposts, comments, views) ``age`` seconds after publication."""
        if age >= SATURATION_SECONDS:
            return self.likes, self.reposts, self.comments, self.views
        return (
            grow(self.likes, age, 18 * 3600),
            grow(self.reposts, age, 24 * 3600),
            grow(self.comments, age, 20 * 3600),
            grow(self.views, age, 10 * 3600),
        )


@dataclass(frozen=True, slots=True)
class Media:
    """A video or a clip. ``kind`` is video|clip; ``form`` is the wall attachment form."""

    id: int
    owner_id: int
    date: int
    title: str
    kind: str
    form: str  # "video" (normal video), "clip" or "short_video" (clip forms)
    on_wall: bool
    duration: int
    engagement: Engagement

    @property
    def vk_type(self) -> str:
        return "video" if self.kind == "video" else "short_video"


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    owner_id: int
    date: int
    text: str
    photos: int
    link: str | None
    media: tuple[Media, ...]  # owned by the community
    foreign_video: Media | None  # a video of another community attached (not counted)
    copy_history: dict | None
    ads: int
    has_views: bool
    engagement: Engagement


@dataclass(frozen=True, slots=True)
class Community:
    id: int
    screen_name: str
    name: str
    type: str  # group|page|event
    status: str  # open|closed|private|deleted|banned|wall_disabled
    is_closed: int
    deactivated: str | None
    wall_enabled: bool
    members_base: int
    rate: float
    has_pinned: bool
    articles: int

    @property
    def has_content(self) -> bool:
        return self.deactivated is None and self.wall_enabled

    @property
    def wall_accessible(self) -> bool:
        return self.has_content and self.is_closed == 0


@dataclass
class Content:
    """Lazily generated content of one community (ascending by date)."""

    posts: list[Post] = field(default_factory=list)
    post_dates: list[int] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    media_dates: list[int] = field(default_factory=list)
    until_day: int = -1
    pinned: Post | None = None
    pinned_searched: bool = False


_SPECIAL = ("closed", "private", "deleted", "banned", "wall_disabled", "event")


class World:
    """The generated world. ``start`` is the unix time at which history begins."""

    def __init__(self, seed: int, communities: int, days: int, initial_now: float) -> None:
        self.seed = seed
        self.days = days
        self.first_day = msk_day(initial_now) - days
        self.start = day_start(self.first_day)
        self.views_since = day_start(self.first_day + max(1, round(days * 0.2)))
        self.communities: list[Community] = []
        self.by_id: dict[int, Community] = {}
        self.by_name: dict[str, Community] = {}
        self._content: dict[int, Content] = {}
        self._items: dict[tuple[int, int], tuple[int, Raw]] = {}
        self._deleted: dict[int, dict[int, float]] = {}  # gid -> post id -> deleted at
        self._build_communities(communities)

    # ----------------------------------------------------------------- communities
    def _build_communities(self, count: int) -> None:
        rng = random.Random(_mix(self.seed, 1))
        ids: set[int] = set()
        while len(ids) < count:
            ids.add(rng.randint(1_000, 230_000_000))
        for index, gid in enumerate(sorted(ids, key=lambda g: _mix(self.seed, g))):
            community = self._make_community(index, gid, rng)
            self.communities.append(community)
            self.by_id[gid] = community
            self.by_name[community.screen_name] = community

    def _pick_status(self, index: int, rng: random.Random) -> str:
        if 1 <= index <= len(_SPECIAL):
            return _SPECIAL[index - 1]
        roll = rng.random()
        for status, share in zip(_SPECIAL, (0.03, 0.02, 0.02, 0.01, 0.02, 0.05), strict=True):
            if roll < share:
                return status
            roll -= share
        return "open"

    def _make_community(self, index: int, gid: int, rng: random.Random) -> Community:
        status = self._pick_status(index, rng)
        vk_type = "event" if status == "event" else rng.choice(("group", "page", "page"))
        prefix = {"group": "club", "page": "public", "event": "event"}[vk_type]
        screen_name = f"{prefix}{gid}"
        if rng.random() >= 0.25:
            candidate = f"{rng.choice(_ADJ)}_{rng.choice(_NOUN)}"
            if candidate in self.by_name:
                candidate = f"{candidate}{gid % 1000}"
            if candidate not in self.by_name:
                screen_name = candidate
        members = int(rng.lognormvariate(9.0, 1.5)) + 50
        return Community(
            id=gid,
            screen_name=screen_name,
            name=screen_name.replace("_", " ").title(),
            type=vk_type,
            status="open" if status == "event" else status,
            is_closed={"closed": 1, "private": 2}.get(status, 0),
            deactivated=status if status in ("deleted", "banned") else None,
            wall_enabled=status != "wall_disabled",
            members_base=members,
            rate=rng.uniform(1.0, 7.0),
            has_pinned=rng.random() < 0.3,
            articles=rng.randint(0, 40),
        )

    def resolve(self, name: str) -> tuple[str, int] | None:
        """utils.resolveScreenName: (type, object_id) or None."""
        name = name.strip().lower()
        if name in USERS:
            return "user", USERS[name]
        community = self.by_name.get(name) or self._by_prefixed_id(name)
        if community is None:
            return None
        return community.type, community.id

    def _by_prefixed_id(self, name: str) -> Community | None:
        for prefix in ("club", "public", "event"):
            rest = name.removeprefix(prefix)
            if rest != name and rest.isdigit():
                return self.by_id.get(int(rest))
        return None

    # ----------------------------------------------------------------- content
    def content(self, gid: int, now: float) -> Content:
        """Content of a community generated at least up to the Moscow day of ``now``."""
        content = self._content.get(gid)
        if content is None:
            content = self._content[gid] = Content(until_day=self.first_day - 1)
        target = msk_day(now)
        community = self.by_id[gid]
        if content.until_day < target and community.has_content:
            for day in range(content.until_day + 1, target + 1):
                self._generate_day(community, day, content)
        content.until_day = max(content.until_day, target)
        if not content.pinned_searched and community.has_pinned:
            content.pinned = next((p for p in content.posts if p.date >= self.start), None)
            content.pinned_searched = content.pinned is not None or target > self.first_day + 7
        return content

    def posts(self, gid: int, now: float) -> tuple[list[Post], Post | None]:
        """Posts on the wall at ``now``: published by then and not deleted (ascending),
        and the pinned post if any."""
        posts, pinned = self.published_posts(gid, now)
        deleted = self._deleted.get(gid)
        if not deleted:
            return posts, pinned
        gone = {pid for pid, at in deleted.items() if at <= now}
        posts = [p for p in posts if p.id not in gone]
        return posts, (None if pinned is not None and pinned.id in gone else pinned)

    def published_posts(self, gid: int, now: float) -> tuple[list[Post], Post | None]:
        """Posts with ``date <= now`` (ascending), deleted ones included, and the pinned."""
        content = self.content(gid, now)
        cut = bisect.bisect_right(content.post_dates, now)
        pinned = content.pinned if content.pinned and content.pinned.date <= now else None
        return content.posts[:cut], pinned

    def delete_posts(self, gid: int, post_ids: list[int], now: float) -> int:
        """Delete posts of a community at ``now`` (as its admins would); returns how many
        existed. Media attached to them stay (VK keeps clips and videos)."""
        existing = {p.id for p in self.published_posts(gid, now)[0]}
        deleted = self._deleted.setdefault(gid, {})
        count = 0
        for post_id in post_ids:
            if post_id in existing and post_id not in deleted:
                deleted[post_id] = now
                count += 1
        return count

    def media(self, gid: int, now: float) -> list[Media]:
        content = self.content(gid, now)
        return content.media[: bisect.bisect_right(content.media_dates, now)]

    def _generate_day(self, community: Community, day: int, content: Content) -> None:
        rng = random.Random(_mix(self.seed, community.id, day))
        base = day_start(day)
        for number, offset in enumerate(self._schedule(community, rng), start=1):
            post = self._make_post(community, rng, (day - ID_BASE_DAY) * 64 + number, base + offset)
            content.posts.append(post)
            content.post_dates.append(post.date)
            for item in post.media:
                self._add_media(content, item)
        for slot, kind in enumerate(("video", "clip")):
            if rng.random() < (0.15 if kind == "video" else 0.2):
                media_id = ((day - ID_BASE_DAY) * 64 + STANDALONE_SLOT) * 4 + slot
                date = base + rng.randint(9 * 3600, 22 * 3600)
                self._add_media(content, self._make_media(community, rng, media_id, date, kind))

    @staticmethod
    def _add_media(content: Content, item: Media) -> None:
        index = bisect.bisect_right(content.media_dates, item.date)
        content.media.insert(index, item)
        content.media_dates.insert(index, item.date)

    @staticmethod
    def _schedule(community: Community, rng: random.Random) -> list[int]:
        """Seconds after Moscow midnight of the day's posts, ascending."""
        if rng.random() < 0.12:
            return []
        count = max(1, min(50, round(rng.gauss(community.rate, community.rate / 3))))
        offsets = [rng.randint(8 * 3600, 23 * 3600 + 40 * 60) for _ in range(count)]
        if rng.random() < 0.1:
            offsets.append(23 * 3600 + 55 * 60 + rng.randint(0, 59))
        if rng.random() < 0.1:
            offsets.append(5 * 60 + rng.randint(0, 59))
        return sorted(offsets)

    def _make_post(self, community: Community, rng: random.Random, pid: int, date: int) -> Post:
        reach = community.members_base * rng.uniform(0.02, 0.3) + rng.randint(5, 50)
        ads = 1 if rng.random() < 0.05 else 0
        copy_history = self._make_repost(community, rng, date) if rng.random() < 0.1 else None
        media: list[Media] = []
        photos, link, foreign = 0, None, None
        if copy_history is None:
            photos = rng.randint(1, 3) if rng.random() < 0.55 else 0
            if rng.random() < 0.12:
                media.append(self._make_media(community, rng, pid * 4, date, "clip", True))
            if rng.random() < 0.1:
                media.append(self._make_media(community, rng, pid * 4 + 1, date, "video", True))
            if rng.random() < 0.06:
                link = f"https://example.com/{community.screen_name}/{pid}"
            if rng.random() < 0.02:
                foreign = self._make_foreign_video(community, rng, date)
        likes = int(reach * rng.uniform(0.01, 0.08) * (0.4 if ads else 1.0))
        return Post(
            id=pid,
            owner_id=-community.id,
            date=date,
            text=_TEXTS[rng.randrange(len(_TEXTS))],
            photos=photos,
            link=link,
            media=tuple(media),
            foreign_video=foreign,
            copy_history=copy_history,
            ads=ads,
            has_views=date >= self.views_since,
            engagement=Engagement(
                likes=likes,
                reposts=int(likes * rng.uniform(0.02, 0.2)),
                comments=int(likes * rng.uniform(0.01, 0.3)),
                views=int(reach),
            ),
        )

    def _make_media(
        self,
        community: Community,
        rng: random.Random,
        media_id: int,
        date: int,
        kind: str,
        on_wall: bool = False,
    ) -> Media:
        views = int(community.members_base * rng.uniform(0.05, 0.6)) + rng.randint(10, 300)
        likes = int(views * rng.uniform(0.01, 0.1))
        form = "video" if kind == "video" else rng.choice(("clip", "short_video"))
        return Media(
            id=media_id,
            owner_id=-community.id,
            date=date,
            title=f"{'Клип' if kind == 'clip' else 'Видео'} {media_id}",
            kind=kind,
            form=form,
            on_wall=on_wall,
            duration=rng.randint(5, 59) if kind == "clip" else rng.randint(60, 3600),
            engagement=Engagement(
                likes=likes,
                reposts=int(likes * rng.uniform(0.01, 0.2)),
                comments=int(likes * rng.uniform(0.01, 0.2)),
                views=views,
            ),
        )

    def _other_id(self, community: Community, rng: random.Random) -> int:
        other = self.communities[rng.randrange(len(self.communities))].id if self.communities else 1
        return other if other != community.id else other + 1

    def _make_foreign_video(self, community: Community, rng: random.Random, date: int) -> Media:
        other = self._other_id(community, rng)
        return Media(
            id=rng.randint(1, 10**6),
            owner_id=-other,
            date=date - rng.randint(3600, 5 * DAY),
            title="Чужое видео",
            kind="video",
            form="video",
            on_wall=True,
            duration=rng.randint(60, 600),
            engagement=Engagement(likes=rng.randint(10, 999), reposts=5, comments=7, views=5000),
        )

    def _make_repost(self, community: Community, rng: random.Random, date: int) -> dict:
        other = self._other_id(community, rng)
        original: dict = {
            "id": rng.randint(1, 10**6),
            "owner_id": -other,
            "from_id": -other,
            "date": date - rng.randint(3600, 3 * DAY),
            "post_type": "post",
            "text": "Оригинальная запись",
            "attachments": [],
        }
        if rng.random() < 0.4:
            original["attachments"].append(photo_attachment(-other, rng.randint(1, 10**6)))
        if rng.random() < 0.3:
            video = self._make_foreign_video(community, rng, date)
            original["attachments"].append({"type": "video", "video": media_object(video, date)})
        return original

    def item(self, post: Post, now: float) -> Raw:
        """The encoded wall item of ``post`` at ``now`` (cached; final after 7 days)."""
        key = (post.owner_id, post.id)
        stamp = -1 if now - post.date >= SATURATION_SECONDS else int(now)
        cached = self._items.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        raw = Raw(dumps(post_item(post, stamp if stamp >= 0 else post.date + SATURATION_SECONDS)))
        self._items[key] = (stamp, raw)
        return raw

    def warm(self, now: float) -> int:
        """Generate every community's content up to ``now`` and encode its wall items, the
        work a first collection otherwise makes the sandbox do on the fly (a benchmark warms
        the sandbox first: VK's own work is not on the machine being measured). Returns
        how many posts are on the walls."""
        posts = 0
        for community in self.communities:
            if not community.has_content:
                continue
            on_wall, _pinned = self.posts(community.id, now)
            for post in on_wall:
                self.item(post, now)
            posts += len(on_wall)
        return posts

    # ----------------------------------------------------------------- counters & truth
    def members(self, community: Community, now: float) -> int:
        elapsed_days = max(0.0, (now - self.start) / DAY)
        return community.members_base + int(elapsed_days * (community.members_base * 0.002 + 1))

    def counters(self, community: Community, now: float) -> dict[str, int]:
        videos = clips = clips_views = clips_likes = 0
        photos = 0
        for item in self.media(community.id, now):
            if item.kind == "video":
                videos += 1
                continue
            clips += 1
            likes, _, _, views = item.engagement.at(now - item.date)
            clips_views += views
            clips_likes += likes
        if community.has_content:
            photos = sum(p.photos for p in self.posts(community.id, now)[0])
        return {
            "videos": videos,
            "clips": clips,
            "clips_views": clips_views,
            "clips_likes": clips_likes,
            "clips_followers": community.members_base // 10,
            "photos": photos,
            "articles": community.articles,
        }

    def truth_days(self, community: Community, now: float, first: int, last: int) -> list[dict]:
        """Per Moscow day aggregates for days ``first..last`` (inclusive)."""
        days = {day: _empty_day(day) for day in range(first, last + 1)}
        if not community.has_content:
            return list(days.values())
        posts, _ = self.published_posts(community.id, now)
        on_wall = {p.id for p in self.posts(community.id, now)[0]}
        lo = bisect.bisect_left([p.date for p in posts], day_start(first))
        for post in posts[lo:]:
            entry = days.get(msk_day(post.date))
            if entry is None:
                break
            if post.id in on_wall:
                _add(entry["posts"], post.engagement.at(now - post.date), post.has_views)
            for item in post.media:
                key = "videos" if item.kind == "video" else "clips"
                _add(entry[key], item.engagement.at(now - item.date), True)
        return list(days.values())


def _empty_day(day: int) -> dict:
    def block() -> dict[str, int]:
        return {"count": 0, "likes": 0, "reposts": 0, "comments": 0, "views": 0, "views_unknown": 0}

    return {"date": day_date(day), "posts": block(), "videos": block(), "clips": block()}


def _add(block: dict[str, int], values: tuple[int, int, int, int], has_views: bool) -> None:
    likes, reposts, comments, views = values
    block["count"] += 1
    block["likes"] += likes
    block["reposts"] += reposts
    block["comments"] += comments
    if has_views:
        block["views"] += views
    else:
        block["views_unknown"] += 1


# --------------------------------------------------------------------- VK JSON shapes
def photo_attachment(owner_id: int, photo_id: int) -> dict:
    return {
        "type": "photo",
        "photo": {
            "id": photo_id,
            "owner_id": owner_id,
            "album_id": -7,
            "sizes": [
                {"type": "x", "width": 604, "height": 403, "url": "https://example.com/p.jpg"}
            ],
        },
    }


def media_object(item: Media, now: float) -> dict:
    likes, reposts, comments, views = item.engagement.at(now - item.date)
    return {
        "id": item.id,
        "owner_id": item.owner_id,
        "date": item.date,
        "title": item.title,
        "duration": item.duration,
        "views": views,
        "likes": {"count": likes, "user_likes": 0},
        "reposts": {"count": reposts, "user_reposted": 0},
        "comments": comments,
        "type": item.vk_type,
    }


def media_attachment(item: Media, now: float) -> dict:
    obj = media_object(item, now)
    if item.form == "clip":
        return {"type": "clip", "clip": obj}
    return {"type": "video", "video": obj}


def post_item(post: Post, now: float, pinned: bool = False) -> dict:
    likes, reposts, comments, views = post.engagement.at(now - post.date)
    attachments = [photo_attachment(post.owner_id, post.id * 10 + n) for n in range(post.photos)]
    attachments.extend(media_attachment(item, now) for item in post.media)
    if post.foreign_video is not None:
        attachments.append(media_attachment(post.foreign_video, now))
    if post.link:
        attachments.append({"type": "link", "link": {"url": post.link, "title": "Ссылка"}})
    item: dict = {
        "id": post.id,
        "owner_id": post.owner_id,
        "from_id": post.owner_id,
        "date": post.date,
        "marked_as_ads": post.ads,
        "post_type": "post",
        "text": post.text,
        "attachments": attachments,
        "comments": {"count": comments, "can_post": 1},
        "likes": {"count": likes, "user_likes": 0, "can_like": 1},
        "reposts": {"count": reposts, "user_reposted": 0},
    }
    if post.has_views:
        item["views"] = {"count": views}
    if post.copy_history is not None:
        item["copy_history"] = [post.copy_history]
    if pinned:
        item["is_pinned"] = 1
    return item
