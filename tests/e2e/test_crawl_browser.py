"""Every page each demo role reaches from its menu (and one click further), in zh-CN and
English, as a new user sees it: no error status, no console error, nothing wider than
the window (1280 and 1920 px; the phone pages at 390 px), no snake_case code in the visible text
(codes an administrator types are shown in <code>, beside their names)."""

from __future__ import annotations

from typing import Any

import pytest

from .crawl import ROLES, Crawl, crawl_role

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# The command room is being rebuilt on another branch (issue 13); its findings are
# reported there rather than fixed here.
ELSEWHERE = ("/ops",)


def test_every_menu_page_of_every_role_is_clean(demo_server, browser: Any) -> None:
    crawl = Crawl()
    for role in ROLES:
        crawl_role(browser, demo_server.url, role, crawl=crawl)
    for role in ROLES:
        for locale in ("zh_CN", "en"):
            assert len(crawl.pages[(role, locale)]) >= 3, (role, locale)
    problems = [str(p) for p in crawl.problems
                if not any(p.path.startswith(e) for e in ELSEWHERE)]
    assert not problems, "\n".join(problems)
