"""Browser fixtures: one real demo server per module and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from ..support import Databases, ServerProcess, need_chromium, start_server

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def demo_database(tmp_path_factory: Any, databases: Databases, name: str) -> str:
    if os.environ.get("COORDINATION_TEST_DATABASE_URL"):
        return databases.postgres()
    return f"sqlite:///{tmp_path_factory.mktemp(name) / 'db.sqlite'}"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: Any, databases: Databases) -> Iterator[ServerProcess]:
    url = demo_database(tmp_path_factory, databases, "e2e")
    server = start_server(database_url=url, instance=tmp_path_factory.mktemp("e2e-inst"),
                          demo=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class RequestLog:
    """Every URL a page asked for, to prove nothing left the machine."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def attach(self, context: Any) -> None:
        context.on("request", lambda req: self.urls.append(req.url))
        # WebSockets are not "requests" to Playwright; watch them on every page too.
        context.on("page", lambda page: page.on("websocket", lambda ws: self.urls.append(ws.url)))

    def foreign(self) -> list[str]:
        from urllib.parse import urlsplit

        return [u for u in self.urls
                if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                and urlsplit(u).hostname not in ("127.0.0.1", "localhost")]


@pytest.fixture
def requests_seen() -> RequestLog:
    return RequestLog()
