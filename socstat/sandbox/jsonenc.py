"""Fast JSON encoding with pre-encoded fragments (cached wall items)."""

from __future__ import annotations

import json
import re
from typing import Any

_PLACEHOLDER = re.compile(rb'"\\u0000(\d+)\\u0000"')


class Raw:
    """An already encoded JSON value (UTF-8 bytes) to embed verbatim."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON; plain values only (no Raw)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def encode(data: Any) -> bytes:
    """Compact UTF-8 JSON of ``data``, which may contain :class:`Raw` fragments anywhere."""
    fragments: list[bytes] = []

    def default(value: Any) -> str:
        if isinstance(value, Raw):
            fragments.append(value.data)
            return f"\x00{len(fragments) - 1}\x00"
        raise TypeError(f"not JSON serializable: {type(value).__name__}")

    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=default).encode()
    if not fragments:
        return text
    return _PLACEHOLDER.sub(lambda match: fragments[int(match[1])], text)
