"""Roles, permissions and the one table that maps one to the other.

Pages, JSON routes and socket events all ask ``allowed(principal, permission)``;
nothing else decides access, so the table-driven access test can walk it.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    OPERATOR = "operator"
    LIAISON = "liaison"
    LOGISTICS = "logistics"
    TRAINER = "trainer"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.OPERATOR: _l("Command-room operator"),
    Role.LIAISON: _l("Liaison officer"),
    Role.LOGISTICS: _l("Logistics"),
    Role.TRAINER: _l("Trainer"),
    Role.ADMIN: _l("Administrator"),
}


class Permission(StrEnum):
    VIEW_OPS = "ops.view"
    POST_DUTY_LOG = "dutylog.post"
    READ_DUTY_LOG = "dutylog.read"
    READ_EVENTS = "events.read"
    VIEW_AUDIT = "audit.view"
    MANAGE_USERS = "users.manage"
    MANAGE_TOKENS = "tokens.manage"
    OWN_SETTINGS = "settings.own"
    VIEW_AREAS = "areas.view"
    VIEW_MAP = "map.view"
    REPORT_CAPACITY = "facilities.report"
    REPORT_POSITIONS = "units.track"
    UPDATE_UNIT_STATUS = "units.status"
    VIEW_ROSTER = "roster.view"  # roster: who is on duty
    MANAGE_ROSTER = "roster.manage"  # roster: agencies, officers, rotations, chains
    VIEW_TASKS = "tasks.view"  # roster: every task, its chain, stats
    MANAGE_TASKS = "tasks.manage"  # roster: create, jump, cancel tasks
    OWN_TASKS = "tasks.own"  # roster: "my tasks" of a liaison officer
    VIEW_STOCK_CATALOGUE = "stock.catalogue"
    VIEW_STOCK = "stock.view"
    MANAGE_STOCK = "stock.manage"
    REQUEST_STOCK = "stock.request"
    RUN_DRILLS = "drills.run"
    JOIN_DRILLS = "drills.join"
    IMPORT_LAYERS = "layers.import"
    VIEW_COVERAGE = "coverage.view"
    VIEW_PLANS = "plans.view"
    ACTIVATE_PLANS = "plans.activate"
    VIEW_PLAN_ERRORS = "plans.errors"
    VIEW_READINESS = "plans.readiness"
    VIEW_INCIDENTS = "incidents.view"
    MANAGE_INCIDENTS = "incidents.manage"
    VIEW_CONTACTS = "contacts.view"
    MANAGE_CONTACTS = "contacts.manage"
    ACK_ALERTS = "alerts.ack"


_ALL = frozenset(Role)

GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW_OPS: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    Permission.POST_DUTY_LOG: frozenset({Role.OPERATOR}),
    Permission.READ_DUTY_LOG: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    Permission.READ_EVENTS: _ALL,
    Permission.VIEW_AUDIT: frozenset({Role.ADMIN}),
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.MANAGE_TOKENS: frozenset({Role.ADMIN}),
    Permission.OWN_SETTINGS: _ALL,
    Permission.VIEW_AREAS: _ALL,
    Permission.VIEW_MAP: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    # Facility staff report with the operator role until a facility role exists.
    Permission.REPORT_CAPACITY: frozenset({Role.OPERATOR}),
    # Trackers are API tokens with the operator role (`create-token tracker-01 --role operator`).
    Permission.REPORT_POSITIONS: frozenset({Role.OPERATOR}),
    Permission.UPDATE_UNIT_STATUS: frozenset({Role.OPERATOR}),
    # roster: liaison officers see the duty board and answer their own tasks only.
    Permission.VIEW_ROSTER: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN, Role.LIAISON}),
    Permission.MANAGE_ROSTER: frozenset({Role.ADMIN}),
    Permission.VIEW_TASKS: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    Permission.MANAGE_TASKS: frozenset({Role.OPERATOR, Role.TRAINER}),
    Permission.OWN_TASKS: frozenset({Role.LIAISON}),
    # Depots and items are what a request names, so everyone may read the catalogue;
    # requesters who cannot VIEW_STOCK see only their own requests.
    Permission.VIEW_STOCK_CATALOGUE: _ALL,
    Permission.VIEW_STOCK: frozenset({Role.LOGISTICS, Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    Permission.MANAGE_STOCK: frozenset({Role.LOGISTICS}),
    Permission.REQUEST_STOCK: frozenset({Role.LIAISON, Role.OPERATOR, Role.LOGISTICS}),
    # Trainers write and run drills; every role plays in them from its usual pages.
    Permission.RUN_DRILLS: frozenset({Role.TRAINER}),
    Permission.JOIN_DRILLS: _ALL,
    # GIS layer import rewrites what every map shows: the command room's GIS officer works
    # under the operator role (as facility staff do), and the administrator sets up a
    # deployment's base layers. Exporting needs only VIEW_MAP.
    Permission.IMPORT_LAYERS: frozenset({Role.OPERATOR, Role.ADMIN}),
    # Planners: the command room's own staff and drill controllers, who read the map too.
    Permission.VIEW_COVERAGE: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    # Plans are read by everyone who works a response; operators activate them (trainers
    # in their drill contexts); only admins see the files that failed validation.
    Permission.VIEW_PLANS: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN, Role.LIAISON,
                                      Role.LOGISTICS}),
    Permission.ACTIVATE_PLANS: frozenset({Role.OPERATOR, Role.TRAINER}),
    Permission.VIEW_PLAN_ERRORS: frozenset({Role.ADMIN}),
    Permission.VIEW_READINESS: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN,
                                          Role.LOGISTICS}),
    Permission.VIEW_INCIDENTS: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    # Logging, dispatch, status and the five clocks; integrations use operator tokens.
    Permission.MANAGE_INCIDENTS: frozenset({Role.OPERATOR}),
    # A close contact's own record (full ID number) is personal data: operators only.
    Permission.VIEW_CONTACTS: frozenset({Role.OPERATOR}),
    Permission.MANAGE_CONTACTS: frozenset({Role.OPERATOR}),
    Permission.ACK_ALERTS: frozenset({Role.OPERATOR, Role.TRAINER}),
}


# --- the context axis -------------------------------------------------------------------
# A grant holds in a context kind (live, or a drill run). These permissions touch no
# context's data (accounts, tokens, one's own settings, the audit log, the drill list and
# console, the plan files), so the context a request names does not matter to them.
CONTEXT_FREE: frozenset[Permission] = frozenset({
    Permission.MANAGE_USERS, Permission.MANAGE_TOKENS, Permission.OWN_SETTINGS,
    Permission.VIEW_AUDIT, Permission.VIEW_PLAN_ERRORS, Permission.RUN_DRILLS,
    Permission.JOIN_DRILLS, Permission.VIEW_AREAS,
})
# Roles whose grants hold in live for reading only: trainers change data in drills.
LIVE_READ_ONLY: frozenset[Role] = frozenset({Role.TRAINER})
# Roles that act in any drill run without joining it: the controllers who run them.
DRILL_CONTROLLERS: frozenset[Role] = GRANTS[Permission.RUN_DRILLS]


def parse_roles(values: list[str]) -> frozenset[Role]:
    """Turn role names into roles, raising ValueError naming the first unknown one."""
    roles: set[Role] = set()
    for value in values:
        try:
            roles.add(Role(value.strip().lower()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {value!r} (known: {known})") from None
    return frozenset(roles)
