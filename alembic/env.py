"""Alembic environment wired to the SQLModel metadata and socstat's settings."""

from alembic import context
from sqlmodel import SQLModel

import socstat.models  # noqa: F401  (registers every table)
from socstat.db import make_engine
from socstat.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().effective_database_url


def _include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """An object the models create on one dialect only (``ddl_if``) is compared there only."""
    only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
    return only is None or only == context.get_bind().dialect.name


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=_include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
