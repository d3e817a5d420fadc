"""The running app's configuration, for the core to read without importing Flask.

Services are called from routes, socket handlers, the CLI and the drill
scheduler alike; the few that depend on a setting (the region, the ETA model,
the plans folder, the time zone) read it here. The app factory installs the
lookup when it builds the app (``create_app``), so the core never touches
Flask's globals; outside an app (a script, a test of a pure function) there is
no configuration and callers fall back to their defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .config import Settings

Lookup = Callable[[], Mapping[str, Any] | None]


def _none() -> Mapping[str, Any] | None:
    return None


def _none_scratch() -> dict[str, Any] | None:
    return None


_lookup: Lookup = _none
_scratch: Callable[[], dict[str, Any] | None] = _none_scratch


def install(lookup: Lookup, scratch: Callable[[], dict[str, Any] | None] | None = None) -> None:
    """Set how the current app's configuration is found (the app factory calls this), and
    where a per-request scratch dict lives."""
    global _lookup, _scratch
    _lookup = lookup
    if scratch is not None:
        _scratch = scratch


def scratch() -> dict[str, Any] | None:
    """A dict that lives as long as the current request or app context (None outside one):
    for what a page reads many times and that cannot change while it renders."""
    return _scratch()


def app_config() -> Mapping[str, Any] | None:
    """The current app's configuration mapping, or None outside an app."""
    return _lookup()


def settings() -> Settings | None:
    """The current app's settings (``COORDINATION_*``), or None outside an app."""
    config = app_config()
    return config["COORDINATION"] if config is not None else None


class AppLike(Protocol):
    """What a background worker (drill scheduler, alert watcher, demo motion) needs of
    the app: a context to run in, for the database and the settings."""

    def app_context(self) -> AbstractContextManager[Any]: ...


def current_settings() -> Settings:
    """The settings of the app whose context is active; a worker outside one is a bug."""
    found = settings()
    if found is None:
        raise RuntimeError("no app context: create_app installs the settings")
    return found
