"""Migrations: empty database → head equals the models (no drift) → base is empty again."""

import os

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import socstat.models  # noqa: F401
from socstat.migrations import alembic_config, downgrade_database, upgrade_database
from tests.dbutil import (
    PG_DEFAULT,
    create_scratch_database,
    drop_scratch_database,
    postgres_answers,
)


def _backends() -> list[str]:
    backends = ["sqlite"]
    if postgres_answers() or os.environ.get("CI"):
        backends.append("postgresql")
    return backends


@pytest.fixture(params=_backends())
def empty_database(request, tmp_path):
    base = f"sqlite:///{tmp_path}/base.db" if request.param == "sqlite" else PG_DEFAULT
    url = create_scratch_database(base)
    yield url
    drop_scratch_database(url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_downgrade_empties(empty_database):
    upgrade_database(empty_database)
    assert _tables(empty_database) - {"alembic_version"} == set(SQLModel.metadata.tables)
    command.check(alembic_config(empty_database))  # raises on any drift
    downgrade_database(empty_database)
    assert _tables(empty_database) - {"alembic_version"} == set()
