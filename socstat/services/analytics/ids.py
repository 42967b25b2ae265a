"""``column IN (ids)`` for the scope's source ids, cheap to build and to send."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Boolean, Integer, any_, bindparam, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class IdsIn(ColumnElement[bool]):
    """``column IN (ids)``: on PostgreSQL ``= ANY(CAST(ARRAY[…] AS INTEGER[]))``, the ids
    written into the statement as one array; an expanding IN elsewhere.

    Hundreds of ids as separate parameters made every statement long and slow to convert
    (neither SQLAlchemy's nor psycopg's statement cache hit). As one array *parameter*
    they were cheap, but psycopg prepares a statement run five times and PostgreSQL then
    plans it once for any array and any dates, guessing ten ids and a narrow range: the
    dashboard became several times slower from the sixth call on. Written into the
    statement (with the period's dates, see ``query.in_period``), the plan is always made
    for the actual scope and period. They are written as SQL text, part of the statement's
    cache key, not as a literal parameter: that one was rendered anew, id by id, on every
    execution of a statement SQLAlchemy had compiled and kept."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("array", InternalTraversal.dp_clauseelement),
        ("expanding", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, ids: list[int]) -> None:
        ids = [int(i) for i in ids]  # ints only: written into the statement as they are
        array = literal_column(f"ARRAY[{','.join(map(str, ids))}]::integer[]")
        self.array = column == any_(array)
        self.expanding = column.in_(bindparam(None, ids, type_=Integer, expanding=True))


@compiles(IdsIn)
def _ids_in_default(element: IdsIn, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.expanding, **kw))


@compiles(IdsIn, "postgresql")
def _ids_in_postgresql(element: IdsIn, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.array, **kw))


def ids_in(column: Any, ids: list[int]) -> ColumnElement[bool]:
    return IdsIn(column, ids)
