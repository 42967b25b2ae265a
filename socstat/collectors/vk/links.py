"""Parse the ways people write a VK community link into a group id or a screen name.

Accepted: ``vk.com/<name>``, ``m.vk.com/...``, ``vk.ru/...``, ``vkontakte.ru/...``, with or
without scheme and ``www.``, with trailing slashes, query strings and fragments, with
surrounding spaces; ``club123`` / ``public123`` / ``event123`` → id 123; a bare number or
``-123`` → id 123; links to community content (``wall-123_45``, ``video-123_7``, ...) →
the owning community 123; ``@name`` → name. Anything else → a screen name to resolve
through ``utils.resolveScreenName``. Malformed input raises :class:`LinkError` with a
Russian message that quotes the link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from socstat.collectors.base import LinkError

MAX_SCREEN_NAME = 64
MAX_GROUP_ID = 2**53

_HOST = re.compile(r"(?:www\.)?(?:m\.)?(?:vk\.com|vk\.ru|vkontakte\.ru)", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# Explicit ASCII classes and fullmatch only: \d would accept other scripts' digits and "$"
# a trailing newline.
_SCREEN_NAME = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")
_PREFIXED_ID = re.compile(r"(?:club|public|event)([0-9]{1,16})", re.IGNORECASE)
_NUMBER = re.compile(r"-?([0-9]{1,16})")
_CONTENT = re.compile(
    r"(?:wall|photo|video|clip|topic|album|albums|videos|clips|photos|board|market|docs)"
    r"-([0-9]{1,16})(?:_[0-9]+)?",
    re.IGNORECASE,
)
_USER_CONTENT = re.compile(
    r"(?:id|wall|photo|video|clip|album)[0-9]{1,16}(?:_[0-9]+)?", re.IGNORECASE
)
_DOMAIN_LIKE = re.compile(r"[\w-]+(?:\.[\w-]+)*\.(?:[a-z]{2,6}|рф)", re.IGNORECASE)
_TLDS = frozenset(
    [
        "com",
        "ru",
        "net",
        "org",
        "io",
        "me",
        "tv",
        "be",
        "by",
        "kz",
        "ua",
        "su",
        "info",
        "biz",
        "pro",
        "app",
        "dev",
        "club",
        "online",
        "site",
        "xyz",
        "рф",
    ]
)


@dataclass(frozen=True)
class ParsedLink:
    """Exactly one of ``group_id`` / ``screen_name`` is set."""

    group_id: int | None = None
    screen_name: str | None = None

    def __post_init__(self) -> None:
        if (self.group_id is None) == (self.screen_name is None):
            raise ValueError("exactly one of group_id and screen_name must be set")


def parse_link(link: str) -> ParsedLink:
    """Parse ``link``; raises LinkError (Russian message naming the link)."""
    if not isinstance(link, str):
        raise LinkError(f"Ссылка {link!r} не распознана: ожидается текст")
    text = link.strip()
    if not text:
        raise LinkError("Пустая ссылка: укажите адрес сообщества ВКонтакте, например vk.com/club1")
    if _SCHEME.match(text) or "/" in text or "\\" in text:
        return _parse_url(link, text)
    if _looks_like_domain(text):
        if _HOST.fullmatch(text.split(":", 1)[0].rstrip(".")):
            raise LinkError(f"В ссылке «{_short(link)}» нет адреса сообщества")
        raise LinkError(f"Ссылка «{_short(link)}» ведёт не во ВКонтакте")
    return _parse_segment(link, text.removeprefix("@"))


def _parse_url(link: str, text: str) -> ParsedLink:
    rest = _SCHEME.sub("", text, count=1) if _SCHEME.match(text) else text
    scheme = text[: len(text) - len(rest)].lower()
    if scheme and scheme not in ("http://", "https://"):
        raise LinkError(f"Ссылка «{_short(link)}» не похожа на адрес сообщества ВКонтакте")
    rest = re.split(r"[?#]", rest, maxsplit=1)[0]
    host, _, path = rest.partition("/")
    host = host.split(":", 1)[0].rstrip(".")
    if not _HOST.fullmatch(host):
        raise LinkError(f"Ссылка «{_short(link)}» ведёт не во ВКонтакте")
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        raise LinkError(f"В ссылке «{_short(link)}» нет адреса сообщества")
    return _parse_segment(link, segments[0])


def _parse_segment(link: str, segment: str) -> ParsedLink:
    for pattern in (_PREFIXED_ID, _NUMBER, _CONTENT):
        match = pattern.fullmatch(segment)
        if match:
            return _group(link, int(match.group(1)))
    if _USER_CONTENT.fullmatch(segment):
        raise LinkError(
            f"Ссылка «{_short(link)}» ведёт на профиль пользователя, а не на сообщество"
        )
    if len(segment) > MAX_SCREEN_NAME or not _SCREEN_NAME.fullmatch(segment):
        raise LinkError(
            f"«{_short(link)}» не похоже на адрес сообщества ВКонтакте: короткое имя может "
            f"содержать только латинские буквы, цифры, «_» и «.» (до {MAX_SCREEN_NAME} символов)"
        )
    return ParsedLink(screen_name=segment.lower())


def _group(link: str, group_id: int) -> ParsedLink:
    if not 0 < group_id < MAX_GROUP_ID:
        raise LinkError(f"В ссылке «{_short(link)}» неверный номер сообщества")
    return ParsedLink(group_id=group_id)


def _looks_like_domain(text: str) -> bool:
    if not _DOMAIN_LIKE.fullmatch(text):
        return False
    host = text.split(":", 1)[0].rstrip(".")
    if _HOST.fullmatch(host):
        return True  # "vk.com" alone: no community in it
    return host.rsplit(".", 1)[-1].lower() in _TLDS


def _short(link: str, limit: int = 80) -> str:
    text = link.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_link(parsed: ParsedLink) -> str:
    """A canonical short form (``club123`` or the screen name), the inverse of parse_link."""
    if parsed.group_id is not None:
        return f"club{parsed.group_id}"
    return parsed.screen_name or ""
