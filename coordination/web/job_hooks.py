"""Counting the requests in flight for background jobs (``jobs/foreground.py``): the
Flask side, so the jobs package stays free of Flask."""

from __future__ import annotations

from flask import Flask, g

from ..jobs import foreground


def _started() -> None:
    foreground.request_began()
    g._counted_request = True


def _ended(_exc: BaseException | None = None) -> None:
    if g.pop("_counted_request", False):  # a request aborted before its start hook
        foreground.request_done()


def init_app(app: Flask) -> None:
    app.before_request(_started)
    app.teardown_request(_ended)
