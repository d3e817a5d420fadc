"""Nothing a page serves points at another host, and vendored code carries its licence."""

from __future__ import annotations

import re
from pathlib import Path

from .support import ROOT_DIR

EXTERNAL = re.compile(
    r"""(?:src|href|action)\s*=\s*["']\s*(?:[a-z][a-z0-9+.-]*:)?//(?!127\.0\.0\.1|localhost)"""
    r"""|url\(\s*["']?\s*(?:https?:)?//(?!127\.0\.0\.1|localhost)"""
    r"""|@import\s+["']?(?:https?:)?//""",
    re.IGNORECASE,
)
STATIC = ROOT_DIR / "static"


def _page_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static":
            yield rule.rule


def test_no_served_page_references_another_host(client, auth, make_user, app):
    make_user("operator", "liaison", "logistics", "trainer", "admin", username="all")
    auth.login("all")
    checked = []
    for path in _page_routes(app):
        resp = client.get(path)
        if resp.mimetype not in ("text/html", "text/css", "application/javascript"):
            continue
        body = resp.get_data(as_text=True)
        assert not EXTERNAL.search(body), f"{path} references another host"
        checked.append(path)
    assert {"/ops", "/login", "/admin/audit"} <= set(checked)


def test_no_static_file_loads_from_another_host():
    offenders = []
    for path in STATIC.rglob("*"):
        if path.suffix not in (".css", ".js", ".html"):
            continue
        text = path.read_text(errors="replace")
        # Licence headers and comments may mention URLs; loading them may not.
        if path.suffix == ".css" and re.search(r"url\(\s*[\"']?(?:https?:)?//", text):
            offenders.append(str(path))
        if path.suffix == ".css" and re.search(r"@import\s+[\"']?(?:https?:)?//", text):
            offenders.append(str(path))
        # (Leaflet's attribution is a link, href=, which loads nothing.)
        if path.suffix == ".js" and re.search(r"""\bsrc\s*=\s*["'](?:https?:)?//""", text):
            offenders.append(str(path))
    assert offenders == []


def test_every_vendored_library_has_its_licence_and_is_listed():
    vendor = STATIC / "vendor"
    listing = (vendor / "README.md").read_text()
    libraries = [d for d in vendor.iterdir() if d.is_dir()]
    assert libraries
    for lib in libraries:
        assert any(p.name.upper().startswith(("LICENSE", "LICENCE")) for p in lib.iterdir()), lib
        name, _, version = lib.name.rpartition("-")
        assert name in listing and version in listing, f"{lib.name} missing from vendor/README.md"


def test_templates_use_no_cdn():
    for path in (ROOT_DIR / "templates").rglob("*.html"):
        assert not EXTERNAL.search(Path(path).read_text()), path
