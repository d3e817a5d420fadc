"""``coordination plans validate [PATH…]``: check plan files like a linter does.

Prints every error as ``file:line: field: message`` (so editors and CI jump to
it) and exits 1 when any file is invalid. Stock item codes are checked against
the catalogue when the configured database has one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .loader import load_file, plan_files


def _catalogue() -> frozenset[str] | None:
    """The live stock catalogue's item codes, or None when there is no usable database."""
    try:
        from sqlalchemy import inspect

        from .. import create_app
        from ..extensions import db
        from .registry import catalogue_codes

        app = create_app()
        with app.app_context():
            assert db.engine is not None
            if "stock_items" not in inspect(db.engine).get_table_names():
                return None
            return catalogue_codes()
    except Exception:  # noqa: BLE001 - no database means "skip the catalogue check"
        return None


@click.group("plans")
def plans_group() -> None:
    """Contingency plans (the YAML files in plans/)."""


@plans_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--catalogue/--no-catalogue", default=True, show_default=True,
              help="Check item codes against the database's stock catalogue, if it has one.")
def validate(paths: tuple[Path, ...], catalogue: bool) -> None:
    """Check plan files (default: the plans folder) against the schema and cross-references."""
    from .registry import plans_dir

    files = plan_files(list(paths) or [plans_dir()])
    codes = _catalogue() if catalogue else None
    bad = 0
    for path in files:
        result = load_file(path, catalogue=codes)
        for error in result.errors:
            click.echo(str(error))
        bad += not result.ok
    checked = "checked against the stock catalogue" if codes else "no stock catalogue loaded"
    click.echo(f"{len(files) - bad} of {len(files)} plan files valid ({checked}).",
               err=True)
    if bad or not files:
        sys.exit(1)
