"""The principal a request or socket acts as: a user or an API token.

Flask-Login needs an object with ``is_authenticated`` and ``get_id``; the rest
of the app needs roles and an Actor for the event log. A principal is a frozen
snapshot read per request, so a revoked token or a removed role takes effect at
the next request, not the next login.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ..events import Actor
from .roles import CONTEXT_FREE, DRILL_CONTROLLERS, GRANTS, LIVE_READ_ONLY, Permission, Role


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" or "token"
    id: int
    name: str
    display_name: str
    roles: frozenset[Role]
    locale: str | None = None

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def actor(self) -> Actor:
        return Actor(kind=self.kind, id=self.id, name=self.name, display=self.display_name)

    def has(self, role: Role) -> bool:
        return role in self.roles

    def rooms(self) -> list[str]:
        """The rooms this principal is placed in on connect."""
        own = [f"role:{r.value}" for r in sorted(self.roles)]
        own.append(f"{self.kind}:{self.id}")
        return own


def allowed(principal: Principal | None, permission: Permission) -> bool:
    """The one permission check: pages, JSON routes and socket events all call it."""
    if principal is None or not principal.is_authenticated:
        return False
    return bool(principal.roles & GRANTS[permission])



@dataclass(frozen=True)
class Where:
    """The context a request works in, as the resolver (web/context.py) found it.

    ``member`` says whether the caller joined this drill run (or is a token bound
    to it); ``exists`` is False when a caller named a context that is no run.
    """

    name: str
    kind: str  # ContextKind: "live" or "drill"
    exists: bool = True
    ended: bool = False
    member: bool = False


LIVE_WHERE = Where(name="live", kind="live")


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the reason code, the HTTP status, the message."""

    reason: str
    status: int
    message: Any


REFUSALS = {
    "role": (403, _l("Your role does not allow this.")),
    "trainer_live": (403, _l("Trainers act in drills only: join a drill to change data; "
                             "in live work you may only read.")),
    "join_first": (403, _l("Join the drill first (on the Drills page): only its players "
                           "work in it.")),
    "leave_first": (403, _l("This session works in a drill: leave the drill first to work "
                            "in live.")),
    "ended": (403, _l("This drill has ended; it accepts no more changes.")),
    "no_context": (404, _l("No such drill or context.")),
}


def refusal(reason: str) -> Refusal:
    status, message = REFUSALS[reason]
    return Refusal(reason=reason, status=status, message=message)


def permit(principal: Principal | None, permission: Permission, where: Where, *,
           write: bool) -> Refusal | None:
    """The one decision, per context kind: None to allow, or why not.

    A role's grant holds in live and in drills alike, except that trainers only
    read in live; in a drill only its joined players (and the trainers running
    drills) act, and an ended run takes no writes. Permissions that touch no
    context's data ignore the context.
    """
    if not allowed(principal, permission):
        return refusal("role")
    assert principal is not None
    if permission in CONTEXT_FREE:
        return None
    if not where.exists:
        return refusal("no_context")
    if where.kind != "drill":
        if write and not (principal.roles - LIVE_READ_ONLY) & GRANTS[permission]:
            return refusal("trainer_live")
        return None
    if not where.member and not principal.roles & DRILL_CONTROLLERS:
        return refusal("join_first")
    if write and where.ended:
        return refusal("ended")
    return None


RoomCheck = Callable[[Principal, str], bool]
_room_kinds: dict[str, RoomCheck] = {}


def register_room_kind(kind: str, check: RoomCheck) -> None:
    """Let a domain add subject rooms ("incident:42"), with its own access rule.

    The rule gets the principal and the id after the colon; rooms of kinds no
    domain registered are refused.
    """
    if kind in ("role", "user", "token", "*"):
        raise ValueError(f"room kind {kind!r} is reserved")
    _room_kinds[kind] = check


def can_join(principal: Principal, room: str) -> bool:
    """Whether a principal may be in ``room`` (and so see events addressed to it)."""
    kind, _, ident = room.partition(":")
    if kind == "role":
        try:
            return Role(ident) in principal.roles
        except ValueError:
            return False
    if kind in ("user", "token"):
        return kind == principal.kind and ident == str(principal.id)
    check = _room_kinds.get(kind)
    return bool(ident) and check is not None and check(principal, ident)


def can_see(principal: Principal, audience: Sequence[str]) -> bool:
    return any(can_join(principal, room) for room in audience)
