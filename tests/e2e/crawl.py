"""Walk every page a demo role reaches from its menu, as a new user would, and collect
what a person should never see: an error status, a console error, a page wider than
the window (1280 and 1920 px; 390 px for the phone pages), or a snake_case code in the
visible text.

Used by ``test_crawl_browser.py``; ``python -m tests.e2e.crawl BASE_URL [SHOT_DIR]`` runs
it against a running server and prints the problems (with screenshots if asked).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

ROLES = ("operator", "liaison", "logistics", "trainer", "admin")
LOCALES = {"zh_CN": "中文", "en": "English"}
DESKTOP = {"width": 1280, "height": 900}
WIDE = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
# Pages made for a phone (the liaison's tasks): checked at 390 px as well.
PHONE_PAGES = ("/my/tasks",)
# Links not to follow: downloads, feeds, machine endpoints, and pages that change state.
SKIP = re.compile(r"(\.(pdf|xlsx|csv|ics|geojson|json|zip|gpkg)(\?|$))|^/api/|^/static/|"
                  r"/logout|/locale|/calendar/|/download|format=")
SNAKE = re.compile(r"(?<![\w./:@-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@-])")
# Elements whose text is a code on purpose: what an administrator types (shown beside
# its name), file column names, source text.
VISIBLE_TEXT_JS = """() => {
  // innerText (laid out: table cells apart) of the page without the code elements.
  const hidden = [];
  document.querySelectorAll('code, kbd, pre, textarea, [data-code], .leaflet-container')
    .forEach(e => { hidden.push([e, e.style.display]); e.style.display = 'none'; });
  const text = document.body.innerText;
  hidden.forEach(([e, d]) => { e.style.display = d; });
  return text;
}"""
OVERFLOW_JS = """() => {
  const w = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > w + 1)
    out.push('page ' + document.documentElement.scrollWidth + 'px wide in a ' + w + 'px window');
  document.querySelectorAll('.card, section').forEach(card => {
    const over = card.scrollWidth - card.clientWidth;
    if (over > 2 && getComputedStyle(card).overflowX === 'visible') {
      const what = card.id ? '#' + card.id
        : (card.querySelector('h1,h2,h3')?.innerText || card.className);
      out.push('card "' + what.slice(0, 40) + '" overflows by ' + over + 'px');
    }
  });
  return out;
}"""


@dataclass
class Problem:
    role: str
    locale: str
    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.role} {self.locale} {self.path}: {self.what}"


@dataclass
class Crawl:
    pages: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # (locale, path) already checked by an earlier role: the same template, not loaded twice.
    checked: set[tuple[str, str]] = field(default_factory=set)


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", f"{username}-demo")
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/login" not in url)


def set_locale(page: Any, locale: str) -> None:
    page.click(f".locale-form button[value={locale}]")
    page.wait_for_load_state("load")


def _local_links(page: Any, base: str, selector: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
    out = []
    for href in hrefs:
        url, _ = urldefrag(href)
        parts = urlsplit(url)
        if not url.startswith(base) or SKIP.search(parts.path + ("?" + parts.query
                                                                if parts.query else "")):
            continue
        path = parts.path + ("?" + parts.query if parts.query else "")
        out.append(path)
    return out


def _sample(paths: Iterable[str]) -> list[str]:
    """One page per URL shape (``/plans/<id>`` once per id is fine, ``/incidents/<n>``
    once): numbers are the same template over and over."""
    seen: set[str] = set()
    out = []
    for p in paths:
        shape = re.sub(r"\d+", "N", p.split("?")[0])
        if shape in seen:
            continue
        seen.add(shape)
        out.append(p)
    return out


def check_page(page: Any, role: str, locale: str, path: str, status: int | None,
               errors: list[str], crawl: Crawl) -> None:
    if status is not None and status >= 400:
        crawl.problems.append(Problem(role, locale, path, f"HTTP {status}"))
    for e in errors:
        crawl.problems.append(Problem(role, locale, path, f"console: {e[:200]}"))
    for o in page.evaluate(OVERFLOW_JS):
        crawl.problems.append(Problem(role, locale, path, o))
    text = page.evaluate(VISIBLE_TEXT_JS)
    codes = sorted(set(SNAKE.findall(text)))
    if codes:
        crawl.problems.append(Problem(role, locale, path, "codes on screen: "
                                      + ", ".join(codes[:12])))


def crawl_role(browser: Any, base: str, role: str, *, depth: int = 1,
               shots: Path | None = None, crawl: Crawl | None = None) -> Crawl:
    """Every page of the role's menu and the pages those link to (``depth`` clicks)."""
    crawl = crawl or Crawl()
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, role)
    for locale in LOCALES:
        set_locale(page, locale)
        menu = _sample(_local_links(page, base, "nav.mainnav a"))
        todo = [(p, 0) for p in ["/", *menu]]
        seen: set[str] = set()
        while todo:
            path, level = todo.pop(0)
            if path in seen:
                continue
            seen.add(path)
            if (locale, path) in crawl.checked and path != "/":
                continue
            crawl.checked.add((locale, path))
            errors.clear()
            try:
                resp = page.goto(base + path, wait_until="load", timeout=30000)
            except Exception as exc:  # noqa: BLE001 - a page that never loads is a finding
                crawl.problems.append(Problem(role, locale, path, f"did not load: {exc}"))
                continue
            page.wait_for_timeout(150)
            check_page(page, role, locale, path, resp.status if resp else None, errors, crawl)
            if shots is not None:
                name = re.sub(r"[^\w]+", "_", path).strip("_") or "home"
                page.screenshot(path=str(shots / f"{role}-{locale}-{name}.png"), full_page=True)
            page.set_viewport_size(WIDE)  # the same page on a wall screen: no reload needed
            for o in page.evaluate(OVERFLOW_JS):
                crawl.problems.append(Problem(role, locale, path + " @1920px", o))
            page.set_viewport_size(DESKTOP)
            if any(path.startswith(p) for p in PHONE_PAGES):
                page.set_viewport_size(PHONE)
                page.wait_for_timeout(100)
                for o in page.evaluate(OVERFLOW_JS):
                    crawl.problems.append(Problem(role, locale, path + " @390px", o))
                if shots is not None:
                    page.screenshot(path=str(shots / f"{role}-{locale}-phone.png"),
                                    full_page=True)
                page.set_viewport_size(DESKTOP)
            if level < depth:
                links = _sample(_local_links(page, base, "main a[href]"))
                todo += [(p, level + 1) for p in links if p not in seen]
        crawl.pages[(role, locale)] = seen
    context.close()
    return crawl


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    base = argv[1].rstrip("/")
    shots = Path(argv[2]) if len(argv) > 2 else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)
    roles = argv[3].split(",") if len(argv) > 3 else ROLES
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        crawl = Crawl()
        for role in roles:
            crawl_role(browser, base, role, shots=shots, crawl=crawl)
        browser.close()
    for key, pages in crawl.pages.items():
        print(key, len(pages), "pages")
    for p in crawl.problems:
        print(p)
    return 1 if crawl.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
