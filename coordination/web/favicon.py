"""The site icon at /favicon.ico, for browsers and tools that ask there.

Pages link /static/favicon.svg themselves (templates/base.html); this answers
the conventional path too, so no page load ends in a 404 in the console.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory

from .access import public

bp = Blueprint("favicon", __name__)


@bp.route("/favicon.ico")
@public
def favicon() -> Response:
    resp = send_from_directory(current_app.static_folder or "static", "favicon.svg",
                               mimetype="image/svg+xml", max_age=86400)
    return resp
