"""The command room may have no internet: nothing a page or a static file serves
loads from another host, every local asset a page names is really there, and
each vendored library carries its licence.

A reference "to another host" is an absolute URL (http://, https://, ws://,
wss://) or a protocol-relative one (//host) whose host is not 127.0.0.1 or
localhost, in a place a browser would load it from: src=, href=, srcset=,
action=, url(...) or @import. Served pages and our own static files are held to
more: no absolute URL to another host anywhere in them, inline scripts included.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .support import ROOT_DIR

STATIC = ROOT_DIR / "static"
VENDOR = STATIC / "vendor"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
TEXT_TYPES = ("text/html", "text/css", "application/javascript", "text/javascript",
              "image/svg+xml")
CHECKED_SUFFIXES = (".css", ".js", ".mjs", ".html", ".svg")

_URL = r"""(?P<url>[^\s"'<>()]*)"""
# A URL in a place a browser loads (or, for href/action, navigates) from.
LOADING = [
    ("attr", re.compile(r"""(?<![\w-])(?P<attr>src|href|srcset|action|formaction|poster|data)"""
                        r"""\s*=\s*\\?["'`]?\s*""" + _URL, re.IGNORECASE)),
    ("url(", re.compile(r"""url\(\s*\\?["']?\s*""" + _URL, re.IGNORECASE)),
    ("@import", re.compile(r"""@import\s+(?:url\(\s*)?["']?\s*""" + _URL, re.IGNORECASE)),
]
# Any absolute URL at all, and string literals that start a protocol-relative one.
ABSOLUTE = re.compile(r"""\b(?:https?|wss?|ftp)://[^\s"'`<>()\\]+""", re.IGNORECASE)
PROTOCOL_RELATIVE_LITERAL = re.compile(r"""["'`]//[a-z0-9][^\s"'`]*""", re.IGNORECASE)
# XML namespace names look like URLs but are never fetched.
NAMESPACES = frozenset({
    "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink", "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/XML/1998/namespace",
})
# Links (an <a href> a person would have to click) inside vendored code: they load
# nothing, but each one is a dead end offline, so every one is listed here on purpose.
VENDORED_LINKS = {
    ("leaflet-1.9.4/leaflet.js", "https://leafletjs.com"),  # the attribution's "Leaflet"
}


def foreign_host(url: str) -> str | None:
    """The other host ``url`` points at, or None when it stays on this machine."""
    url = url.strip().strip("\\")
    if url.startswith("//"):
        host = urlsplit("http:" + url).hostname
    elif re.match(r"[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        host = urlsplit(url).hostname
    else:
        return None  # relative, absolute-path, data:, blob:, javascript:, mailto: …
    return None if host in LOCAL_HOSTS else (host or url)


def loading_references(text: str) -> Iterator[tuple[str, str, int]]:
    """(context, URL, offset) for each URL in a loading position."""
    for kind, pattern in LOADING:
        for m in pattern.finditer(text):
            context = m.group("attr").lower() if kind == "attr" else kind
            for url in m.group("url").split(","):  # srcset lists
                yield context, url.strip().split(" ")[0], m.start()


def offences(text: str, *, strict: bool) -> list[str]:
    found = [f"{ctx}={url}" for ctx, url, _ in loading_references(text) if foreign_host(url)]
    if strict:
        found += [url for url in ABSOLUTE.findall(text)
                  if url.rstrip("/.;,") not in NAMESPACES and foreign_host(url)]
        found += [lit for lit in PROTOCOL_RELATIVE_LITERAL.findall(text)
                  if foreign_host(lit[1:])]
    return found


def local_paths(text: str) -> set[str]:
    """Same-server absolute paths (/static/…) a page loads."""
    return {urlsplit(url).path for ctx, url, _ in loading_references(text)
            if ctx in ("src", "href", "srcset") and url.startswith("/static/")}


def static_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file() and p.suffix in CHECKED_SUFFIXES)


def fetch(client, path: str):
    resp = client.get(path)
    body = resp.get_data(as_text=True)
    resp.close()
    return resp, body


# --- served pages --------------------------------------------------------------


def _page_routes(app) -> list[str]:
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static")


def _scan_pages(client, paths: list[str]) -> tuple[dict[str, list[str]], set[str], list[str]]:
    bad: dict[str, list[str]] = {}
    assets: set[str] = set()
    html_pages = []
    for path in paths:
        resp, body = fetch(client, path)
        assert resp.status_code < 500, (path, resp.status_code)
        csp = resp.headers.get("Content-Security-Policy", "")
        if re.search(r"(?:https?:|wss?:)?//", csp):
            bad.setdefault(path, []).append(f"Content-Security-Policy: {csp}")
        if resp.mimetype not in TEXT_TYPES:
            continue
        if resp.mimetype == "text/html" and resp.status_code != 302:
            html_pages.append(path)
        found = offences(body, strict=True)
        if found:
            bad.setdefault(path, []).extend(found)
        assets |= local_paths(body)
    return bad, assets, html_pages


def test_no_served_page_references_another_host(client, auth, make_user, app):
    make_user("operator", "liaison", "logistics", "trainer", "admin", username="everyone")
    make_user("liaison", username="liaison-only")  # for the overview: "/" sends operators to /ops
    routes = _page_routes(app) + ["/no-such-page"]  # and the error page

    bad, assets, pages = _scan_pages(client, routes)  # signed out: login and error pages
    assert "/login" in pages
    for user in ("everyone", "liaison-only"):
        auth.login(user)
        more_bad, more_assets, more_pages = _scan_pages(client, routes)
        for path, found in more_bad.items():
            bad.setdefault(path, []).extend(found)
        assets |= more_assets
        pages += more_pages
        client.post("/logout", data={"csrf_token": auth.csrf})

    assert bad == {}
    assert {"/", "/ops", "/me", "/admin/users", "/admin/tokens", "/admin/audit",
            "/facilities", "/no-such-page"} <= set(pages)
    # What the pages name is really here, vendored libraries included.
    assert any(a.startswith("/static/vendor/") for a in assets)
    missing = [a for a in sorted(assets) if client.get(a).status_code != 200]
    assert missing == []


def test_pages_forbid_other_hosts_by_policy(client):
    csp = client.get("/login").headers.get("Content-Security-Policy", "")
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert directives.get("default-src") == "'self'", csp
    for name, sources in directives.items():
        assert not re.search(r"(?:https?:|wss?:)?//|\*", sources), (name, sources)


# --- static files ------------------------------------------------------------------


@pytest.mark.parametrize("path", static_files(), ids=lambda p: str(p.relative_to(STATIC)))
def test_static_file_loads_nothing_from_another_host(client, path: Path):
    rel = path.relative_to(STATIC).as_posix()
    resp, body = fetch(client, "/static/" + rel)
    assert resp.status_code == 200
    vendored = path.is_relative_to(VENDOR)
    found = offences(body, strict=not vendored)
    if vendored:
        # Licence headers and comments may mention URLs; loading them may not. A link
        # for a person to click is tolerated only when listed in VENDORED_LINKS.
        lib_rel = path.relative_to(VENDOR).as_posix()
        found = [f for f in found
                 if not (f.startswith("href=")
                         and (lib_rel, f[len("href="):]) in VENDORED_LINKS
                         and _is_anchor(body, f[len("href="):]))]
    assert found == [], rel

    if path.suffix == ".css":
        # Images and fonts a style sheet names are served too.
        for _, url, _ in loading_references(body):
            if url and not url.startswith(("data:", "#")) and not foreign_host(url):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), url))
                assert client.get("/static/" + target).status_code == 200, (rel, url)


def _is_anchor(body: str, url: str) -> bool:
    return re.search(r"<a\s[^>]*href=\\?[\"']" + re.escape(url), body) is not None


def test_listed_vendored_links_still_exist():
    """Keep VENDORED_LINKS honest: drop an entry when the library stops carrying it."""
    for rel, url in VENDORED_LINKS:
        assert url in (VENDOR / rel).read_text(errors="replace"), (rel, url)


def test_the_checker_catches_what_it_should():
    for text in ('<script src="https://cdn.example.com/x.js">',
                 "<link href='//cdn.example.com/a.css'>",
                 "a { background: url( https://example.com/a.png ) }",
                 '@import "//fonts.example.com/f.css";',
                 '<img srcset="/a.png 1x, https://example.com/b.png 2x">',
                 'fetch("https://api.example.com/")', 'io("//example.com")',
                 '<img src="http://localhost.example.com/a.png">'):
        assert offences(text, strict=True), text
    for text in ('<script src="/static/js/live.js">', '<a href="http://127.0.0.1:5000/ops">',
                 "a { background: url(images/layers.png) }", '<img src="data:image/png;base64,AA">',
                 '<svg xmlns="http://www.w3.org/2000/svg">', "// a comment\n",
                 '<a href="http://localhost/x">', '<a href="#top">'):
        assert not offences(text, strict=True), text


# --- licences ------------------------------------------------------------------------


def test_every_vendored_library_has_its_licence_and_is_listed():
    listing = (VENDOR / "README.md").read_text()
    libraries = sorted(d for d in VENDOR.iterdir() if d.is_dir())
    assert libraries
    for lib in libraries:
        licences = [p for p in lib.iterdir()
                    if p.is_file() and p.name.upper().startswith(("LICENSE", "LICENCE"))]
        assert licences, f"{lib.name} has no LICENSE file"
        assert all(p.stat().st_size > 100 for p in licences), f"{lib.name}: empty LICENSE"
        name, _, version = lib.name.rpartition("-")
        assert name and re.fullmatch(r"\d+(\.\d+)*", version), f"{lib.name}: name-version"
        assert f"| {name} | {version} |" in listing, f"{lib.name} missing from vendor/README.md"
    # Nothing vendored outside a library folder, where no licence would sit next to it.
    loose = [p.name for p in VENDOR.iterdir() if p.is_file() and p.name != "README.md"]
    assert loose == []


def test_templates_use_no_cdn():
    bad = {}
    for path in sorted((ROOT_DIR / "templates").rglob("*.html")):
        found = offences(path.read_text(), strict=True)
        if found:
            bad[str(path.relative_to(ROOT_DIR))] = found
    assert bad == {}
