"""What every ``coordination`` subcommand needs: the app, the migrated database, a clean exit.

Kept apart from cli.py so the command groups registered on it (epi_cli.py,
plans/commands.py) can use them without importing cli.py back: cli.py
imports those groups to register them.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from .config import ConfigError


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"coordination: {message}", err=True)
    sys.exit(code)


def make_app():  # type: ignore[no-untyped-def]
    from . import create_app

    try:
        return create_app()
    except ConfigError as exc:
        fail(str(exc))


def migrate_db() -> None:
    from sqlalchemy.exc import OperationalError

    from . import migrate

    try:
        migrate.upgrade()
    except OperationalError as exc:
        fail(f"COORDINATION_DATABASE_URL: cannot use the database ({exc.orig})")
