"""HTML pages and the JSON API: thin adapters over the services."""

from __future__ import annotations

from .setup import register_web

__all__ = ["register_web"]
