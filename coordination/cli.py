"""The ``coordination`` command: serve, init-db, demo-data, create-user, create-token."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cli_common import fail as _fail
from .cli_common import make_app as _app
from .cli_common import migrate_db as _migrate
from .errors import CoordinationError


def _print_accounts(accounts: list) -> None:  # type: ignore[type-arg]
    if not accounts:
        click.echo("Demo accounts already exist (passwords as printed when first created).")
    from .demo import ACCOUNTS

    click.echo("Demo accounts (username / password / roles):")
    for acct in ACCOUNTS:
        click.echo(f"  {acct.username:<10} {acct.password:<16} {', '.join(acct.roles)}")


@click.group()
def main() -> None:
    """Emergency response and medical-support coordination."""


@main.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema."""
    _app()
    _migrate()
    click.echo("Database is at the newest schema.")


@main.command("demo-data")
def demo_data() -> None:
    """Load the Ulanqab demo set and one account per role."""
    app = _app()
    _migrate()
    from .demo import load_demo

    with app.app_context():
        _print_accounts(load_demo(situation=True))


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Load the demo set first; it keeps moving.")
@click.option("--still", is_flag=True, help="With --demo: a frozen copy (nothing moves).")
@click.option("--demo-step", default=180.0, show_default=True, type=click.FloatRange(5, 3600),
              help="With --demo: seconds between steps of the demo's story.")
def serve(host: str, port: int, demo: bool, still: bool, demo_step: float) -> None:
    """Migrate, then serve HTTP and Socket.IO (development server; see README for production)."""
    app = _app()
    _migrate()
    from . import start_background_work
    from .extensions import socketio

    if demo:
        from .demo import load_demo

        with app.app_context():
            _print_accounts(load_demo(situation=True))
    start_background_work(app)
    if demo and not still:
        from .demo import motion

        socketio.start_background_task(motion.run, app, step_seconds=demo_step)
    click.echo(f"Serving on http://{host}:{port}/ (Ctrl-C to stop)")
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False,
                 log_output=False)


@main.command("create-user")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--display-name", default="", help="Full name shown to others.")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line).")
def create_user(name: str, roles: tuple[str, ...], display_name: str, password_stdin: bool) -> None:
    """Create an account."""
    app = _app()
    _migrate()
    password = sys.stdin.readline().rstrip("\r\n")
    from .auth import service
    from .events import Actor

    with app.app_context():
        try:
            user = service.create_user(
                username=name, display_name=display_name or name, password=password,
                roles=list(roles), actor=Actor.system("cli"),
            )
        except CoordinationError as exc:
            _fail(str(exc.message), 1)
    click.echo(f"Created {user.name} with roles {', '.join(sorted(r.value for r in user.roles))}.")


@main.command("create-token")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--drill", "drill_run", type=click.IntRange(1), default=None,
              help="Bind the token to this drill run: it may then act in the run's context "
                   "(header X-Coordination-Context).")
def create_token(name: str, roles: tuple[str, ...], drill_run: int | None) -> None:
    """Create an API token for a device or integration; it is printed once."""
    app = _app()
    _migrate()
    from .auth import service
    from .events import Actor

    with app.app_context():
        try:
            context = _bindable(drill_run) if drill_run is not None else None
            token, secret = service.create_token(name=name, roles=list(roles),
                                                 actor=Actor.system("cli"))
            if drill_run is not None and context is not None:
                _bind(token, drill_run, context)
        except CoordinationError as exc:
            _fail(str(exc.message), 1)
    click.echo(secret)
    click.echo("Keep it now: it is stored hashed and cannot be shown again.", err=True)


def _bindable(run_id: int) -> str:
    """The run's context; refused before a token exists if the run is missing or ended."""
    from flask_babel import lazy_gettext as _l

    from .drills import service as drills
    from .errors import Conflict

    run = drills.get_run(run_id=run_id)
    if run["status"] == "ended":
        raise Conflict(_l("This drill has ended."))
    return str(run["context"])


def _bind(token, run_id: int, context: str) -> None:  # type: ignore[no-untyped-def]
    """Join the new token to the run; if that fails after all, revoke it again."""
    from .auth import service
    from .drills import participants
    from .events import Actor

    try:
        participants.join(run_id=run_id, actor=Actor(kind="token", id=token.id, name=token.name),
                          roles=list(token.roles))
    except CoordinationError:
        service.revoke_token(token_id=token.id, actor=Actor.system("cli"))
        raise
    click.echo(f"Bound to drill run {run_id}: send the header X-Coordination-Context: {context}",
               err=True)


@main.command("simulate-units")
@click.option("--interval", default=3.0, show_default=True, type=click.FloatRange(0.2, 600),
              help="Seconds between position reports.")
@click.option("--once", is_flag=True, help="Report one step and exit.")
@click.option("--max-steps", default=20000, show_default=True, type=click.IntRange(1),
              help="Stop after this many steps (Ctrl-C stops earlier).")
@click.option("--time-scale", default=5.0, show_default=True, type=click.FloatRange(0.1, 100),
              help="Simulated driving seconds per real second, so the demo visibly moves.")
def simulate_units(interval: float, once: bool, max_steps: int, time_scale: float) -> None:
    """Move available demo ambulances along plausible paths (Ctrl-C to stop)."""
    app = _app()
    _migrate()
    from .units.simulate import run

    with app.app_context():
        try:
            run(region=app.config["COORDINATION"].region, interval=interval, once=once,
                max_steps=max_steps, time_scale=time_scale, echo=click.echo)
        except RuntimeError as exc:
            _fail(str(exc), 1)
        except CoordinationError as exc:
            _fail(str(exc.message), 1)


@main.group("stock")
def stock_group() -> None:
    """Emergency stockpiles: import counts and receipts."""


@stock_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--depot", default=None, help="Depot code for rows without a depot column.")
@click.option("--kind", type=click.Choice(["receipt", "count"]), default="receipt",
              show_default=True, help="Receipts add stock; counts reconcile the book.")
def stock_import(path: str, depot: str | None, kind: str) -> None:
    """Import a CSV or XLSX file; any bad row rejects the whole file (nothing is committed)."""

    app = _app()
    _migrate()
    from .events import Actor
    from .stock import service as stock

    file = Path(path)
    with app.app_context():
        try:
            result = stock.import_stock(content=file.read_bytes(), filename=file.name,
                                        kind=stock.ImportKind(kind), default_depot=depot,
                                        actor=Actor.system("cli"))
        except CoordinationError as exc:
            for problem in exc.details or []:
                click.echo(f"{file.name}: row {problem['row']}, {problem['field']}: "
                           f"{problem['message']}", err=True)
            _fail(str(exc.message), 1)
    click.echo(f"Imported {result['rows']} {kind} rows from {file.name}.")


@main.group("drills")
def drills_group() -> None:
    """Drill scenarios in plans/drills/: validate them, list and run them."""


@drills_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def drills_validate(paths: tuple[Path, ...]) -> None:
    """Check scenario files (default: plans/drills/); print every error as file:line: field."""
    from .config import Settings
    from .drills.loader import load_file, scenario_files

    root = Settings().plans_path
    files = scenario_files(paths or [root / "drills"])
    if not files:
        _fail("no scenario files found", 1)
    bad = 0
    for path in files:
        loaded = load_file(path)
        for err in loaded.errors:
            click.echo(str(err), err=True)
        if loaded.ok and loaded.model is not None:
            sc = loaded.model
            click.echo(f"{path}: ok ({sc.id} v{sc.version}, {len(sc.injects)} injects)")
        else:
            bad += 1
    if bad:
        _fail(f"{bad} of {len(files)} scenario files are not valid", 1)


@main.command("import-layer")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--kind", required=True,
              help="A facility kind (fever_clinic, isolation_point, ...) or 'places'.")
@click.option("--crs", "crs", type=click.Choice(["wgs84", "gcj02", "bd09"]), default=None,
              help="The coordinates' datum: wgs84 (default, or the file's own CRS), gcj02 "
                   "(AMap/Gaode, Tencent) or bd09 (Baidu Maps); converted to WGS-84.")
@click.option("--gcj02", is_flag=True, help="Same as --crs gcj02.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def import_layer(path: str, kind: str, crs: str | None, gcj02: bool, dry_run: bool) -> None:
    """Import a GeoJSON, GeoPackage, zipped Shapefile or CSV layer; any bad row imports nothing."""
    from pathlib import Path

    app = _app()
    _migrate()
    from .events import Actor
    from .geo import layers

    file = Path(path)
    with app.app_context():
        try:
            result = layers.import_layer(
                content=file.read_bytes(), filename=file.name, kind=kind,
                actor=Actor.system("cli"), region=app.config["COORDINATION"].region,
                source=layers.Source(crs or ("gcj02" if gcj02 else "wgs84")), dry_run=dry_run)
        except CoordinationError as exc:
            for problem in exc.details or []:
                click.echo(f"{file.name}: row {problem['row']}, {problem['field']}: "
                           f"{problem['message']}", err=True)
            _fail(str(exc.message), 1)
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} {result['rows']} {kind} rows from {file.name} ({result['crs']}): "
               f"{result['created']} created, {result['updated']} updated.")
    cols = result["columns"]
    if cols["unused"]:
        click.echo("Columns not used: " + ", ".join(cols["unused"]))
    for name in cols["missing"]:
        kept = cols["kept"].get(name, 0)
        click.echo(f"No column for {name}" + (f": kept as stored for {kept} existing rows"
                                              if kept else ""))
    for name, n in cols["cleared"].items():
        click.echo(f"Empty {name} cells clear the stored value of {n} existing rows")


@main.command("export-layer")
@click.argument("kind")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of standard output.")
def export_layer(kind: str, output: str | None) -> None:
    """Write a layer (a facility kind, 'places' or 'units') as RFC 7946 GeoJSON."""
    import json
    from pathlib import Path

    app = _app()
    _migrate()
    from .geo.layer_export import export_layer as export

    with app.app_context():
        try:
            body = export(kind=kind)
        except CoordinationError as exc:
            _fail(str(exc.message), 1)
    text = json.dumps(body, ensure_ascii=False)
    if output is None:
        click.echo(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {len(body['features'])} features to {output}.", err=True)
from .plans.commands import plans_group  # noqa: E402 - registered after main is defined

main.add_command(plans_group)
from .epi_cli import register as _register_epi  # noqa: E402 - CAP, roads, zones, deadlines

_register_epi(main)


if __name__ == "__main__":
    main()
