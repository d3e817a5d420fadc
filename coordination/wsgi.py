"""Entry point for production servers: ``gunicorn -w 1 --threads 100 coordination.wsgi:app``.

Run ``coordination init-db`` before starting; one gunicorn worker per process
(Socket.IO state is per process), several processes share Redis.
"""

from __future__ import annotations

import sys

from . import ConfigError, create_app, start_background_work

try:
    app = create_app()
except ConfigError as exc:
    print(f"coordination: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
start_background_work(app)
