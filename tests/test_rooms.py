"""Who may be in which room: roles, oneself, and subject rooms domains register."""

from __future__ import annotations

import pytest

from coordination.auth.principal import (
    Principal,
    _room_kinds,
    can_join,
    can_see,
    register_room_kind,
)
from coordination.auth.roles import Role

OP = Principal(kind="user", id=7, name="op", display_name="op", roles=frozenset({Role.OPERATOR}))
DEVICE = Principal(kind="token", id=7, name="t", display_name="t", roles=frozenset({Role.LIAISON}))


@pytest.mark.parametrize(("principal", "room", "ok"), [
    (OP, "role:operator", True), (OP, "role:admin", False), (OP, "role:nonsense", False),
    (OP, "user:7", True), (OP, "user:8", False), (OP, "token:7", False),
    (DEVICE, "token:7", True), (DEVICE, "user:7", False), (DEVICE, "role:liaison", True),
    (OP, "*", False), (OP, "incident:1", False), (OP, "", False),
])
def test_builtin_rooms(principal, room, ok):
    assert can_join(principal, room) is ok


def test_registered_subject_rooms_use_their_domain_rule():
    register_room_kind("incident", lambda p, ident: Role.OPERATOR in p.roles and ident.isdigit())
    try:
        assert can_join(OP, "incident:42")
        assert not can_join(OP, "incident:abc")
        assert not can_join(OP, "incident:")
        assert not can_join(DEVICE, "incident:42")
        assert can_see(OP, ["role:admin", "incident:42"])
    finally:
        _room_kinds.pop("incident")
    with pytest.raises(ValueError):
        register_room_kind("role", lambda p, i: True)
