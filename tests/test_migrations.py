"""Migrations run on SQLite and PostgreSQL, up and down, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from coordination import migrate
from coordination.db import make_engine
from coordination.models import metadata


def test_schema_matches_models_and_downgrades_cleanly(database_url, app):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade_engine(engine)
        assert "events" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
