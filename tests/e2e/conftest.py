"""Browser fixtures: one real demo server per module, Debian's Chromium through
Playwright (sync API), and a log of everything the pages ask the network for.

Playwright cannot download its own browsers here, so it drives /usr/bin/chromium
(or COORDINATION_TEST_CHROMIUM); without it the tests skip, under CI=true they fail.
The server runs on a temporary SQLite file, or on a fresh PostgreSQL database
when COORDINATION_TEST_DATABASE_URL is set (see the ``databases`` fixture).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ..support import Databases, ServerProcess, need_chromium, start_server

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def demo_database(directory: Any, databases: Databases, name: str = "e2e") -> str:
    """A database URL for a demo server: a fresh PostgreSQL database when
    COORDINATION_TEST_DATABASE_URL is set, else a new SQLite file.

    ``directory`` is a pytest ``tmp_path_factory`` (a fresh folder named ``name``
    is made in it) or a plain folder.
    """
    if os.environ.get("COORDINATION_TEST_DATABASE_URL"):
        return databases.postgres()
    if isinstance(directory, Path):
        folder = directory / name
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = directory.mktemp(name)
    return f"sqlite:///{folder / 'db.sqlite'}"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: Any, databases: Databases) -> Iterator[ServerProcess]:
    """One real ``coordination serve --demo`` process shared by a test module."""
    url = demo_database(tmp_path_factory, databases, "e2e")
    server = start_server(database_url=url, instance=tmp_path_factory.mktemp("e2e-inst"),
                          demo=True)
    server.database_url = url  # type: ignore[attr-defined]
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
    """Every URL the pages of the attached contexts asked for (documents, scripts,
    styles, images, fetches and WebSockets), and every uncaught script error."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.page_errors: list[str] = []

    def attach(self, context: Any) -> None:
        context.on("request", lambda req: self.urls.append(req.url))
        # WebSockets are not "requests" to Playwright; watch them on every page too.
        context.on("page", self._watch_page)

    def _watch_page(self, page: Any) -> None:
        page.on("websocket", lambda ws: self.urls.append(ws.url))
        page.on("pageerror", lambda err: self.page_errors.append(f"{page.url}: {err}"))

    def foreign(self) -> list[str]:
        """URLs that would leave the machine (anything not 127.0.0.1/localhost)."""
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if (parts.scheme not in ("http", "https", "ws", "wss")
                    or parts.hostname not in LOCAL_HOSTS):
                out.append(url)
        return out


@pytest.fixture
def requests_seen() -> RequestLog:
    """A request log for one test (attach contexts to it yourself)."""
    return RequestLog()


@pytest.fixture(scope="module")
def network() -> RequestLog:
    """A request log shared by every context ``new_context`` opens in a module."""
    return RequestLog()


@pytest.fixture
def new_context(browser: Any, network: RequestLog) -> Iterator[Callable[..., Any]]:
    """Factory for browser contexts that report to ``network``; all closed afterwards."""
    opened: list[Any] = []

    def factory(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1400, "height": 900})
        context = browser.new_context(**options)
        network.attach(context)
        opened.append(context)
        return context

    yield factory
    for context in opened:
        context.close()
