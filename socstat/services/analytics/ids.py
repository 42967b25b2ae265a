"""``column IN (ids)`` for the scope's source ids, cheap to build and to send."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import Boolean, Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class IdsIn(ColumnElement[bool]):
    """``column IN (ids)``: one array parameter on PostgreSQL (``= ANY(%(p)s)``), an
    expanding IN elsewhere. Hundreds of ids as separate parameters or literals made each
    statement long and unique, so neither SQLAlchemy's nor psycopg's statement cache hit
    and converting them cost more than the query took."""

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("array", InternalTraversal.dp_clauseelement),
        ("expanding", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, ids: list[int]) -> None:
        self.array = column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
        self.expanding = column.in_(bindparam(None, list(ids), type_=Integer, expanding=True))


@compiles(IdsIn)
def _ids_in_default(element: IdsIn, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.expanding, **kw))


@compiles(IdsIn, "postgresql")
def _ids_in_postgresql(element: IdsIn, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.array, **kw))


def ids_in(column: Any, ids: list[int]) -> ColumnElement[bool]:
    return IdsIn(column, ids)
