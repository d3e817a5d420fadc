"""The principal a request or socket acts as: a user or an API token.

Flask-Login needs an object with ``is_authenticated`` and ``get_id``; the rest
of the app needs roles and an Actor for the event log. A principal is a frozen
snapshot read per request, so a revoked token or a removed role takes effect at
the next request, not the next login.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..events import Actor
from .roles import GRANTS, Permission, Role


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


def can_see(principal: Principal, audience: list[str] | tuple[str, ...]) -> bool:
    return any(can_join(principal, room) for room in audience)
