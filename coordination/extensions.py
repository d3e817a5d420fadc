"""Extension objects, created unbound and bound by ``create_app``.

One app is bound per process at a time (tests build a fresh one per test).
"""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from .db import Database

db = Database()
socketio = SocketIO()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()
