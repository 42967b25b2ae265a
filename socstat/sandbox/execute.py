"""A safe parser for the batching subset of VKScript used with ``execute``.

Accepted programs (whitespace and newlines anywhere, trailing ``;`` optional)::

    return API.wall.get({"owner_id": -1, "count": 100});
    return [API.wall.get({owner_id: -1}), API.groups.getById({"group_ids": "1,2"})];

Object keys may be quoted (single or double quotes) or bare identifiers; values may be
strings, integers, floats, negative numbers, ``true``/``false``/``null`` and arrays of
those (arrays become comma-joined strings as VK would receive them). Nothing is ever
evaluated. Anything else raises :class:`ExecuteSyntaxError` (the server answers error 12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLS = 25

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[\[\]{}(),.:;])
    )""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "/": "/"}


class ExecuteSyntaxError(ValueError):
    """The code is outside the supported VKScript subset."""


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, str]


@dataclass(frozen=True)
class Program:
    calls: list[ApiCall]
    is_list: bool


def _tokenize(code: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(code):
        if code[pos:].strip() == "":
            break
        match = _TOKEN.match(code, pos)
        if match is None:
            raise ExecuteSyntaxError(f"unexpected character at {pos}: {code[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _unquote(text: str) -> str:
    body, out, index = text[1:-1], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            nxt = body[index + 1]
            if nxt == "u" and index + 5 < len(body):
                out.append(chr(int(body[index + 2 : index + 6], 16)))
                index += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


class _Parser:
    def __init__(self, code: str) -> None:
        self.tokens = _tokenize(code)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("eof", "")

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        tok_kind, tok_value = self.peek()
        if (value is not None and tok_value != value) or (kind is not None and tok_kind != kind):
            raise ExecuteSyntaxError(
                f"expected {value or kind}, got {tok_value or 'end of code'!r}"
            )
        self.pos += 1
        return tok_value

    def accept(self, value: str) -> bool:
        if self.peek()[1] == value and self.peek()[0] == "punct":
            self.pos += 1
            return True
        return False

    def program(self) -> Program:
        if self.take(kind="name") != "return":
            raise ExecuteSyntaxError("code must start with 'return'")
        if self.accept("["):
            calls = [] if self.accept("]") else self.call_list()
            program = Program(calls=calls, is_list=True)
        else:
            program = Program(calls=[self.call()], is_list=False)
        self.accept(";")
        if self.peek()[0] != "eof":
            raise ExecuteSyntaxError(f"unexpected {self.peek()[1]!r} after return expression")
        return program

    def call_list(self) -> list[ApiCall]:
        calls = [self.call()]
        while self.accept(","):
            if self.accept("]"):
                return calls
            calls.append(self.call())
        self.take("]")
        return calls

    def call(self) -> ApiCall:
        if self.take(kind="name") != "API":
            raise ExecuteSyntaxError("expected API.<method>(...)")
        parts = []
        while self.accept("."):
            parts.append(self.take(kind="name"))
        if len(parts) < 2:
            raise ExecuteSyntaxError("method name must look like section.method")
        self.take("(")
        params = {} if self.peek()[1] == ")" else self.object()
        self.take(")")
        return ApiCall(method=".".join(parts), params=params)

    def object(self) -> dict[str, str]:
        self.take("{")
        result: dict[str, str] = {}
        while not self.accept("}"):
            kind, value = self.peek()
            if kind not in ("name", "string"):
                raise ExecuteSyntaxError(f"bad object key {value!r}")
            self.pos += 1
            key = _unquote(value) if kind == "string" else value
            self.take(":")
            converted = self.value()
            if converted is not None:
                result[key] = converted
            if not self.accept(","):
                self.take("}")
                break
        return result

    def value(self) -> str | None:
        kind, value = self.peek()
        if kind == "punct" and value == "[":
            self.pos += 1
            items: list[str] = []
            while not self.accept("]"):
                item = self.value()
                if item is not None:
                    items.append(item)
                if not self.accept(","):
                    self.take("]")
                    break
            return ",".join(items)
        self.pos += 1
        if kind == "number":
            return value
        if kind == "string":
            return _unquote(value)
        if kind == "name" and value in ("true", "false"):
            return "1" if value == "true" else "0"
        if kind == "name" and value == "null":
            return None
        raise ExecuteSyntaxError(f"unsupported value {value!r}")


def parse(code: str) -> Program:
    """Parse ``code``; raises ExecuteSyntaxError. The 25-call limit is checked by the caller."""
    if not code or not code.strip():
        raise ExecuteSyntaxError("empty code")
    return _Parser(code).program()
