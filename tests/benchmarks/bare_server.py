"""The fan-out benchmark's baseline: a bare python-socketio server, none of our app.

Same stack as ``coordination serve`` (python-socketio in ``threading`` mode,
simple-websocket, the werkzeug threaded dev server, which closes every HTTP
connection after one request), minus Flask, auth, the database and the event
log. Each ``POST /emit`` with the same JSON body the duty-log route takes builds
a message of the same shape as a real ``dutylog.posted`` event (``seq`` unique
across the ``--stride`` servers, as the event log's is), stamps ``ts`` just
before the emit, and emits it as ``"event"`` to the same three rooms our
publisher uses. Connecting clients are placed in the same rooms an operator
token gets. With ``--redis`` it uses a ``RedisManager`` on the given channel,
like our two-process mode.

    python -m tests.benchmarks.bare_server --port 5100 --token T
        [--redis URL --channel C --index 0 --stride 2]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import socketio
from werkzeug.serving import run_simple

CONTEXT = "live"
# What events.append + publisher.publish address for a dutylog.posted event.
EMIT_ROOMS = [f"{CONTEXT}/role:admin", f"{CONTEXT}/role:operator", f"{CONTEXT}/role:trainer"]
# What an operator token joins on connect (principal.rooms() + everyone).
JOIN_ROOMS = [f"{CONTEXT}/role:operator", f"{CONTEXT}/token:1", f"{CONTEXT}/*"]


def build(token: str, redis_url: str | None, channel: str, index: int = 0,
          stride: int = 1) -> Any:
    manager = socketio.RedisManager(redis_url, channel=channel) if redis_url else None
    sio = socketio.Server(async_mode="threading", client_manager=manager,
                          logger=False, engineio_logger=False)
    counter = itertools.count(1 + index, stride)  # unique across ``stride`` servers
    lock = threading.Lock()

    @sio.on("connect")
    def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        if not isinstance(auth, dict) or auth.get("token") != token:
            raise socketio.exceptions.ConnectionRefusedError("authentication required")
        for room in JOIN_ROOMS:
            sio.enter_room(sid, room)
        return True

    def emit_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/api/health":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        if path != "/emit" or environ.get("REQUEST_METHOD") != "POST":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with lock:
            seq = next(counter)
        now = datetime.now(UTC)
        entry = {
            "id": seq, "category": body.get("category", "info"), "text": body.get("text", ""),
            "area": body.get("area"), "author": "token:bench-driver",
            "logged_at": now.isoformat(),
        }
        message = {
            "seq": seq,
            "context": CONTEXT,
            "type": "dutylog.posted",
            "at": now.isoformat(),
            "ts": time.time(),
            "actor": {"kind": "token", "id": 2, "name": "token:bench-driver"},
            "subject": {"type": "dutylog", "id": str(seq)},
            "payload": entry,
        }
        sio.emit("event", message, to=EMIT_ROOMS)
        out = json.dumps(entry).encode()
        start_response("201 CREATED", [("Content-Type", "application/json"),
                                       ("Content-Length", str(len(out)))])
        return [out]

    return socketio.WSGIApp(sio, emit_app)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--redis", default=None)
    parser.add_argument("--channel", default="bench-bare")
    parser.add_argument("--index", type=int, default=0, help="this server's number, from 0")
    parser.add_argument("--stride", type=int, default=1, help="how many servers share clients")
    args = parser.parse_args()
    # Request lines are logged as under `coordination serve` (werkzeug's default;
    # Flask-SocketIO's log_output=False has no effect in threading mode).
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = build(args.token, args.redis, args.channel, args.index, args.stride)
    print(f"bare server on http://{args.host}:{args.port}/", flush=True)
    # What Flask-SocketIO's socketio.run() does in threading mode: app.run(threaded=True).
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
