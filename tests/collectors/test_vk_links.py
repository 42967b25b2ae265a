"""Link parsing: every accepted form, garbage, and property-based round trips."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socstat.collectors.base import LinkError
from socstat.collectors.vk.links import ParsedLink, format_link, parse_link

GROUP = ParsedLink(group_id=123)
NAME = ParsedLink(screen_name="good_news")


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("vk.com/good_news", NAME),
        ("https://vk.com/good_news", NAME),
        ("http://vk.com/good_news", NAME),
        ("https://www.vk.com/good_news/", NAME),
        ("https://m.vk.com/good_news", NAME),
        ("m.vk.com/good_news///", NAME),
        ("vk.ru/good_news", NAME),
        ("https://vk.ru/good_news?from=search#top", NAME),
        ("  https://VK.com/Good_News  ", NAME),
        ("good_news", NAME),
        ("@good_news", NAME),
        ("vk.com/good_news/photos", NAME),
        ("club123", GROUP),
        ("public123", GROUP),
        ("event123", GROUP),
        ("https://vk.com/club123", GROUP),
        ("vk.com/public123/", GROUP),
        ("https://m.vk.com/event123?z=1", GROUP),
        ("123", GROUP),
        ("-123", GROUP),
        ("  -123 ", GROUP),
        ("https://vk.com/wall-123_45", GROUP),
        ("vk.com/video-123_456", GROUP),
        ("https://vk.com/clip-123_9", GROUP),
        ("vk.com/anna.smirnova", ParsedLink(screen_name="anna.smirnova")),
        ("club123abc", ParsedLink(screen_name="club123abc")),
    ],
)
def test_accepted_forms(link: str, expected: ParsedLink) -> None:
    assert parse_link(link) == expected


@pytest.mark.parametrize(
    ("link", "fragment"),
    [
        ("", "Пустая ссылка"),
        ("   ", "Пустая ссылка"),
        ("https://youtube.com/channel/abc", "не во ВКонтакте"),
        ("youtube.com", "не во ВКонтакте"),
        ("https://t.me/durov", "не во ВКонтакте"),
        ("vk.com/", "нет адреса сообщества"),
        ("https://vk.com", "нет адреса сообщества"),
        ("vk.com", "нет адреса сообщества"),
        ("ftp://vk.com/club1", "не похожа"),
        ("vk.com/id777", "профиль пользователя"),
        ("https://vk.com/wall777_1", "профиль пользователя"),
        ("vk.com/пример", "латинские буквы"),
        ("good news", "латинские буквы"),
        ("a" * 65, "латинские буквы"),
        ("club0", "неверный номер"),
        ("0", "неверный номер"),
        ("club١٢٣", "латинские буквы"),
        ("١٢٣", "латинские буквы"),
        ("-١٢٣", "латинские буквы"),
        ("vk.com/wall-١٢٣_1", "латинские буквы"),
        ("..", "латинские буквы"),
        ("vk.com/good..news", "латинские буквы"),
        ("vk.com/.good", "латинские буквы"),
        ("https://vk.com/good_news\n/photos", "латинские буквы"),
        ("https://vk.com/club123\n/x", "латинские буквы"),
    ],
)
def test_garbage_raises_link_error_naming_the_link(link: str, fragment: str) -> None:
    with pytest.raises(LinkError) as info:
        parse_link(link)
    message = str(info.value)
    assert fragment in message
    if link.strip():
        assert link.strip()[:40] in message


def test_parsed_link_requires_exactly_one_value() -> None:
    with pytest.raises(ValueError):
        ParsedLink()
    with pytest.raises(ValueError):
        ParsedLink(group_id=1, screen_name="x")


_RESERVED = re.compile(
    r"^(?:club|public|event|id|wall|photo|video|clip|album)\d|^\d+$|^-", re.IGNORECASE
)
screen_names = st.from_regex(r"\A[a-z][a-z0-9_.]{0,40}[a-z0-9_]\Z").filter(
    lambda name: not _RESERVED.match(name) and "." not in name[-7:] and ".." not in name
)
group_ids = st.integers(min_value=1, max_value=10**12)
prefixes = st.sampled_from(["", "http://", "https://", "HTTPS://"])
hosts = st.sampled_from(["vk.com", "m.vk.com", "www.vk.com", "vk.ru", "VK.COM", "m.vk.ru"])
suffixes = st.sampled_from(["", "/", "//", "?w=wall-1_2", "#section", "/?a=1&b=2#x", "/photos"])
spaces = st.sampled_from(["", " ", "  ", "\t", "\n"])


@given(prefixes, hosts, screen_names, suffixes, spaces, spaces)
@settings(max_examples=200, deadline=None)
def test_screen_name_links_round_trip(
    prefix: str, host: str, name: str, suffix: str, left: str, right: str
) -> None:
    link = f"{left}{prefix}{host}/{name}{suffix}{right}"
    assert parse_link(link) == ParsedLink(screen_name=name.lower())
    assert parse_link(format_link(parse_link(link))) == parse_link(link)


@given(
    group_ids,
    st.sampled_from(["club{}", "public{}", "event{}", "{}", "-{}", "wall-{}_7", "video-{}_1"]),
    st.booleans(),
    prefixes,
    hosts,
    suffixes,
)
@settings(max_examples=200, deadline=None)
def test_group_id_links_round_trip(
    gid: int, template: str, as_url: bool, prefix: str, host: str, suffix: str
) -> None:
    segment = template.format(gid)
    link = f"{prefix}{host}/{segment}{suffix}" if as_url else segment
    assert parse_link(link) == ParsedLink(group_id=gid)
    assert parse_link(format_link(ParsedLink(group_id=gid))) == ParsedLink(group_id=gid)


@given(st.text(max_size=200))
@settings(max_examples=500, deadline=None)
def test_arbitrary_text_parses_or_raises_link_error(text: str) -> None:
    try:
        parsed = parse_link(text)
    except LinkError as exc:
        assert str(exc)
    else:
        assert (parsed.group_id is None) != (parsed.screen_name is None)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=60).map(lambda s: "vk.com/" + s))
@settings(max_examples=300, deadline=None)
def test_arbitrary_vk_paths_parse_or_raise_link_error(text: str) -> None:
    try:
        parsed = parse_link(text)
    except LinkError as exc:
        assert "vk.com/" in str(exc) or "Пустая" in str(exc)
    else:
        assert parsed.group_id or parsed.screen_name


_CANONICAL_NAME = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*")


@given(st.text(max_size=80))
@settings(max_examples=500, deadline=None)
def test_whatever_is_accepted_is_canonical_ascii(text: str) -> None:
    try:
        parsed = parse_link(text)
    except LinkError:
        return
    if parsed.screen_name is not None:
        assert _CANONICAL_NAME.fullmatch(parsed.screen_name), parsed.screen_name
    else:
        assert parsed.group_id is not None and 0 < parsed.group_id < 2**53


non_ascii_digits = st.characters(categories=["Nd"]).filter(lambda ch: not ch.isascii())


@given(screen_names, st.integers(min_value=0, max_value=42), non_ascii_digits)
@settings(max_examples=200, deadline=None)
def test_a_non_ascii_digit_anywhere_is_rejected(name: str, where: int, digit: str) -> None:
    where %= len(name) + 1
    with pytest.raises(LinkError):
        parse_link(f"vk.com/{name[:where]}{digit}{name[where:]}")
    with pytest.raises(LinkError):
        parse_link(f"club{digit}{digit}")


@given(screen_names, st.sampled_from(["\n", "\r\n", "..", "\x00", "\u2028"]))
@settings(max_examples=200, deadline=None)
def test_newlines_and_double_dots_inside_a_name_are_rejected(name: str, bad: str) -> None:
    with pytest.raises(LinkError):
        parse_link(f"https://vk.com/{name}{bad}/photos")
    with pytest.raises(LinkError):
        parse_link(f"vk.com/{name[:1]}{bad}{name[1:]}")
