"""Fixtures: app → client → signed-in users, on SQLite or (when
COORDINATION_TEST_DATABASE_URL is set) on a fresh PostgreSQL database per test."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coordination import create_app, migrate
from coordination.auth import service as auth_service
from coordination.auth.principal import Principal
from coordination.events import Actor
from coordination.extensions import db

from .support import Databases, csrf_from

PG_URL = os.environ.get("COORDINATION_TEST_DATABASE_URL") or None
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    dbs = Databases(PG_URL)
    yield dbs
    dbs.drop_all()


@pytest.fixture
def database_url(databases: Databases, tmp_path: Path) -> str:
    """A fresh, migrated database for one test."""
    if PG_URL:
        return databases.postgres()
    return databases.sqlite(tmp_path)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (and so its own ``g``), as in a server.

    The ``app`` fixture keeps an app context open for service calls; without this,
    every test request would reuse it and leak Babel's locale, the signed-in user
    and the CSRF token from one request (or client) to the next.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    application = create_app({
        "instance_path": tmp_path / "instance",
        "database_url": database_url,
        "secret_key": "test",
        "redis_url": None,
    })
    application.config["TESTING"] = True
    application.test_client_class = IsolatedClient
    migrate.upgrade()
    with application.app_context():
        yield application
    db.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_names = itertools.count(1)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Principal]:
    """Factory: make_user("operator", "admin", username=...)."""

    def factory(*roles: str, username: str | None = None, password: str = PASSWORD,
                **kw: Any) -> Principal:
        name = username or f"{(roles or ('user',))[0]}{next(_names)}"
        return auth_service.create_user(
            username=name, display_name=kw.pop("display_name", name), password=password,
            roles=list(roles), actor=Actor.system("test"), **kw,
        )

    return factory


class Auth:
    """Signs a test client in through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> Any:
        page = self.client.get("/login")
        resp = self.client.post("/login", data={
            "username": username, "password": password, "csrf_token": csrf_from(page.text),
        })
        home = self.client.get("/me")
        if home.status_code == 200:
            self.csrf = csrf_from(home.text)
        return resp

    def post_json(self, url: str, body: Any) -> Any:
        return self.client.post(url, json=body, headers={"X-CSRFToken": self.csrf})


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)
