"""Room names on the socket: every room is scoped by context.

A client of the live context and one of a drill run never share a room, so a
drill event cannot reach a live screen even by a wrong audience.
"""

from __future__ import annotations

EVERYONE = "*"


def scoped(context: str, room: str) -> str:
    return f"{context}/{room}"


def everyone(context: str) -> str:
    """Every connection of a context; server-only (heads), never joinable."""
    return scoped(context, EVERYONE)
