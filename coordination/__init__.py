"""coordination: emergency response and medical-support coordination.

``create_app`` is the one way to build the application, for ``serve``, the
CLI, gunicorn (``coordination:create_app()``) and the tests alike.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g, has_app_context

from . import events, runtime
from .config import ROOT, ConfigError, load_settings, redact
from .extensions import babel, csrf, db, login_manager, socketio

PACKAGE = ROOT / "coordination"
_handlers_registered = False


def _current_config() -> Mapping[str, Any] | None:
    """The configuration of the app whose context is active: what ``runtime`` reads."""
    return current_app.config if has_app_context() else None


def _context_scratch() -> dict[str, Any] | None:
    """A dict on ``g``: lives as long as the active request or app context."""
    if not has_app_context():
        return None
    found: dict[str, Any] = g.setdefault("_coordination_scratch", {})
    return found


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app; raises ConfigError with a one-line message on a wrong setting."""
    settings = load_settings(test_config)
    app = Flask(
        __name__,
        instance_path=str(settings.instance_path),
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        COORDINATION=settings,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE / "translations"),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)

    runtime.install(_current_config, _context_scratch)
    db.dispose()
    db.init(settings.database_url)  # type: ignore[arg-type]
    events.install(db.factory)
    if settings.redis_url:
        _check_redis(settings.redis_url)

    from .realtime import handlers, publisher
    from .realtime.packet import JsonFirstPacket

    global _handlers_registered
    if not _handlers_registered:
        handlers.register()
        _handlers_registered = True
    # One line per Redis outage is enough; the libraries would log every emit, twice.
    logging.getLogger("socketio.server").setLevel(logging.WARNING)
    logging.getLogger("engineio.server").setLevel(logging.WARNING)
    # Flask-SocketIO keeps the previous app's queue manager in server_options.
    socketio.server_options.pop("client_manager", None)
    queue: dict[str, Any] = {}
    if settings.redis_url:
        from .realtime.redis_queue import ResilientRedisManager

        queue["client_manager"] = ResilientRedisManager(
            settings.redis_url, channel=settings.socketio_channel  # type: ignore[arg-type]
        )
    socketio.init_app(
        app,
        async_mode="threading",
        logger=False,
        engineio_logger=False,
        serializer=JsonFirstPacket,  # one JSON pass per emit (realtime/packet.py)
        ping_interval=25,
        ping_timeout=settings.ping_timeout_seconds,
        **queue,
    )
    events.set_publisher(publisher.publish)

    from .i18n import init_i18n
    from .web import register_web, shedding

    shedding.init_app(app)
    from .web import job_hooks

    job_hooks.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    init_i18n(app, babel)
    register_web(app)
    from .web.transport import SecureTransport

    app.wsgi_app = SecureTransport(app.wsgi_app)  # type: ignore[method-assign]
    if settings.proxy_count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    return app


def start_background_work(app: Flask) -> None:
    """What each serving process runs beside requests: fan-out, head ticker, drill injects,
    the escalation sweep, outbound notification delivery and the job worker (imports);
    all persisted, so any number of processes may run them."""
    from .alerts.watch import watcher
    from .drills import scheduler as drill_scheduler
    from .incident_reports.schedule import runner as report_schedule
    from .jobs import service as jobs
    from .realtime.handlers import head_ticker
    from .realtime.publisher import fanout
    from .roster.escalation import deliverer, sweeper

    fanout.start()
    socketio.start_background_task(head_ticker, app.config["COORDINATION"].head_interval_seconds)
    socketio.start_background_task(drill_scheduler.run, app)
    socketio.start_background_task(sweeper)
    socketio.start_background_task(deliverer)
    socketio.start_background_task(watcher, app)
    from .stock import import_jobs  # noqa: F401 - registers its job handler

    socketio.start_background_task(jobs.worker, app)
    socketio.start_background_task(report_schedule, app)


def _check_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        raise ConfigError(
            f"COORDINATION_REDIS_URL: cannot reach {redact(url)} ({exc})"
        ) from None


__all__ = ["ConfigError", "create_app", "start_background_work"]
