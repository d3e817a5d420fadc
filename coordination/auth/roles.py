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
    VIEW_STOCK_CATALOGUE = "stock.catalogue"
    VIEW_STOCK = "stock.view"
    MANAGE_STOCK = "stock.manage"
    REQUEST_STOCK = "stock.request"
    VIEW_INCIDENTS = "incidents.view"
    MANAGE_INCIDENTS = "incidents.manage"
    VIEW_CONTACTS = "contacts.view"
    MANAGE_CONTACTS = "contacts.manage"


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
    # Depots and items are what a request names, so everyone may read the catalogue;
    # requesters who cannot VIEW_STOCK see only their own requests.
    Permission.VIEW_STOCK_CATALOGUE: _ALL,
    Permission.VIEW_STOCK: frozenset({Role.LOGISTICS, Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    Permission.MANAGE_STOCK: frozenset({Role.LOGISTICS}),
    Permission.REQUEST_STOCK: frozenset({Role.LIAISON, Role.OPERATOR, Role.LOGISTICS}),
    Permission.VIEW_INCIDENTS: frozenset({Role.OPERATOR, Role.TRAINER, Role.ADMIN}),
    # Logging, dispatch, status and the five clocks; integrations use operator tokens.
    Permission.MANAGE_INCIDENTS: frozenset({Role.OPERATOR}),
    # A close contact's own record (full ID number) is personal data: operators only.
    Permission.VIEW_CONTACTS: frozenset({Role.OPERATOR}),
    Permission.MANAGE_CONTACTS: frozenset({Role.OPERATOR}),
}


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
