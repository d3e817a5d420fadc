"""Commands for CAP alerts, road networks, epidemic zones and reporting deadlines.

Registered on the ``coordination`` group by cli.py (one line there):

    coordination import-cap FILE            create an incident from a CAP 1.2 alert
    coordination import-roads FILE          replace the road network (GeoPackage, GeoJSON, .pbf)
    coordination zones refresh DISEASE      follow the confirmed cases of a disease
    coordination deadlines show [--at T]    the reporting rule set in force
    coordination deadlines check [FILE]     validate a reporting-rules file
    coordination warnings check [FILE]      validate an early-warning rules file
    coordination warnings show [--at T]     the early-warning rule set in force
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from .cli_common import fail, make_app, migrate_db
from .errors import CoordinationError


def _fail_with(exc: CoordinationError, name: str) -> None:
    for reason in exc.details or []:
        click.echo(f"{name}: {reason}", err=True)
    fail(str(exc.message), 1)


@click.command("import-cap")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
def import_cap(path: str) -> None:
    """Create an incident from a CAP 1.2 alert file; an invalid alert changes nothing."""
    app = make_app()
    migrate_db()
    from .events import Actor
    from .incidents import cap_service

    file = Path(path)
    with app.app_context():
        try:
            body = cap_service.import_cap(data=file.read_bytes(), actor=Actor.system("cli"))
        except CoordinationError as exc:
            _fail_with(exc, file.name)
    done = {"created": "Created", "updated": "Updated", "cancelled": "Cancelled"}
    click.echo(f"{done[body['cap']['action']]} incident #{body['id']} ({body['type']}, "
               f"{body['disease'] or '-'}) at {body['lon']:.5f},{body['lat']:.5f}; report "
               f"deadline {body['report_deadline'] or 'none'} ({body['deadline_rule']}).")
    if body["cap"]["unclassified"]:
        click.echo("The alert names no known disease: an operator must classify the incident.")


@click.command("import-roads")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--layer", default=None, help="Layer of a GeoPackage with several.")
@click.option("--speed-field", default=None, help="Column with km/h (default: guessed).")
@click.option("--class-field", default=None,
              help="Column with the road class (highway, fclass, 国道/省道…).")
@click.option("--oneway-field", default=None, help="Column with yes/no/-1.")
@click.option("--default-speed", type=click.FloatRange(1, 200), default=None,
              help="km/h for lines with neither a speed nor a known class.")
@click.option("--name", default=None, help="A name for this network (default: the file name).")
def import_roads(path: str, layer: str | None, speed_field: str | None,
                 class_field: str | None, oneway_field: str | None,
                 default_speed: float | None, name: str | None) -> None:
    """Replace the road network used for ETAs; any bad feature rejects the whole file."""
    app = make_app()
    migrate_db()
    from .events import Actor
    from .geo import roads

    file = Path(path)
    with app.app_context():
        try:
            body = roads.import_roads(path=file, actor=Actor.system("cli"), name=name,
                                      layer=layer, speed_field=speed_field,
                                      class_field=class_field, oneway_field=oneway_field,
                                      default_speed=default_speed)
        except CoordinationError as exc:
            _fail_with(exc, file.name)
    click.echo(f"Imported {body['segments']} road lines ({body['length_km']} km): "
               f"{body['nodes']} nodes, {body['arcs']} one-way arcs.")


@click.group("zones")
def zones_group() -> None:
    """Epidemic points and zones (疫点/疫区)."""


@zones_group.command("refresh")
@click.argument("disease")
def zones_refresh(disease: str) -> None:
    """Bring the disease's zones in step with its confirmed cases (a version per change)."""
    app = make_app()
    migrate_db()
    from .events import Actor
    from .incidents import zones

    with app.app_context():
        try:
            changed = zones.refresh_zones(disease=disease, actor=Actor.system("cli"))
        except CoordinationError as exc:
            _fail_with(exc, disease)
    if not changed:
        click.echo("The zones already follow every confirmed case.")
    for z in changed:
        click.echo(f"Zone #{z['id']} version {z['version']}: {z['cases']} cases, "
                   f"{z['point_places']} places in the epidemic point, population in the "
                   f"zone {z['zone_population']}.")


@click.group("deadlines")
def deadlines_group() -> None:
    """Reporting deadlines (versioned rules in incidents/data/reporting_rules.yaml)."""


@deadlines_group.command("show")
@click.option("--at", "at", default=None, help="ISO time with offset (default: now).")
def deadlines_show(at: str | None) -> None:
    """Print the rule set in force at a time."""
    from .incidents import deadlines

    try:
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
        if when.tzinfo is None:
            raise ValueError("give the time with its offset, e.g. 2026-03-01T08:00:00+08:00")
        click.echo(json.dumps(deadlines.describe(when), ensure_ascii=False, indent=2))
    except (ValueError, LookupError) as exc:
        fail(str(exc), 1)


@deadlines_group.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
def deadlines_check(path: str | None) -> None:
    """Validate a reporting-rules file (default: the shipped one)."""
    from .incidents.deadlines import RULES_FILE, ReportingRules

    try:
        rules = ReportingRules.load(Path(path) if path else RULES_FILE)
    except ValueError as exc:
        fail(str(exc), 1)
    click.echo(f"OK: {len(rules.data.rule_sets)} rule sets.")


@click.group("warnings")
def warnings_group() -> None:
    """Early-warning rules (versioned, in incidents/data/warning_rules.yaml)."""


@warnings_group.command("check")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
def warnings_check(path: str | None) -> None:
    """Validate an early-warning rules file (default: the one in force); errors as file:line."""
    from .alerts import warning_rules

    file = Path(path) if path else warning_rules.rules_path()
    loaded = warning_rules.parse(file.read_text(encoding="utf-8"), name=str(file))
    if not loaded.ok or loaded.model is None:
        for error in loaded.errors:
            click.echo(str(error), err=True)
        fail(f"{len(loaded.errors)} error(s); the rules in force stay as they were.", 1)
    rules = sum(len(rs.rules) for rs in loaded.model.rule_sets)
    click.echo(f"OK: {len(loaded.model.rule_sets)} rule sets, {rules} rules.")


@warnings_group.command("show")
@click.option("--at", "at", default=None, help="ISO time with offset (default: now).")
def warnings_show(at: str | None) -> None:
    """Print the early-warning rule set in force at a time."""
    from .alerts import warning_rules

    try:
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
        if when.tzinfo is None:
            raise ValueError("give the time with its offset, e.g. 2026-03-01T08:00:00+08:00")
    except ValueError as exc:
        fail(str(exc), 1)
    rules = warning_rules.in_force()
    found = rules.for_time(when) if rules is not None else None
    if found is None:
        fail("no early-warning rule set is in force at that time", 1)
    click.echo(json.dumps(found.model_dump(mode="json"), ensure_ascii=False, indent=2))


def register(main: click.Group) -> None:
    for command in (import_cap, import_roads, zones_group, deadlines_group, warnings_group):
        main.add_command(command)
