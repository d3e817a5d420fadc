"""A drill in Chromium: the trainer prepares and starts a run, a player joins it, and
every page they open carries the EXERCISE banner, until they leave; the console
shows injects firing without a reload, and nothing loads from another host."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..support import ServerProcess, start_server
from .conftest import RequestLog, demo_database

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "drills" / "basic.yaml"


@pytest.fixture(scope="module")
def drill_server(tmp_path_factory: Any, databases: Any) -> Iterator[ServerProcess]:
    plans = tmp_path_factory.mktemp("plans")
    (plans / "drills").mkdir()
    shutil.copy(FIXTURE, plans / "drills" / "basic.yaml")
    url = demo_database(tmp_path_factory, databases, "drill-e2e")
    server = start_server(database_url=url, instance=tmp_path_factory.mktemp("drill-inst"),
                          demo=True, extra_env={"COORDINATION_PLANS_PATH": str(plans)})
    yield server
    server.stop()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(f"{username}-demo")
    page.locator("main form button[type=submit].primary").click()
    page.wait_for_url(lambda url: "/login" not in url)


def test_banner_on_every_page_of_a_run(new_context: Any, drill_server: ServerProcess,
                                       network: RequestLog) -> None:
    base = drill_server.url
    trainer = new_context().new_page()
    sign_in(trainer, base, "trainer")
    trainer.goto(base + "/drills")
    row = trainer.locator("#drill-scenarios tr", has_text="basic.yaml")
    row.locator("input[name=speed]").fill("60")
    row.locator("button[type=submit]").click()
    trainer.wait_for_url("**/drills/runs/*")
    trainer.locator("button[data-action=start]").click()
    trainer.wait_for_selector("#drill-console[data-status=running]")
    # The console follows the scheduler without a reload: inject 1 is due a minute in.
    trainer.wait_for_selector('#injects tr[data-status="fired"]', timeout=20_000)

    player = new_context().new_page()
    sign_in(player, base, "operator")
    assert player.locator("#exercise-banner").count() == 0
    player.goto(base + "/drills")
    player.locator("#drill-runs button", has_text="").first.click()
    pages = ["/ops", "/me", "/drills", "/facilities"]
    for path in pages:
        player.goto(base + path)
        banner = player.locator("#exercise-banner")
        assert banner.is_visible(), path
        assert "演练" in banner.inner_text() and "EXERCISE" in banner.inner_text()
    # The live channel of /ops is the drill's: the feed shows the fired inject.
    player.goto(base + "/ops")
    player.wait_for_selector('#feed-list li[data-type="drill.inject_fired"]', timeout=20_000)
    player.locator("#exercise-banner button").click()
    player.wait_for_load_state()
    assert player.locator("#exercise-banner").count() == 0
    player.goto(base + "/ops")
    assert player.locator("#exercise-banner").count() == 0
    assert player.locator('#feed-list li[data-type="drill.inject_fired"]').count() == 0
    assert network.foreign() == []
    assert network.page_errors == []
