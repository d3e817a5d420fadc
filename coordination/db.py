"""Engine, sessions and the unit of work every service runs its change in.

SQLite is the embedded default and PostgreSQL the scaled-out one; the quirks
that make SQLite behave under several writer threads (WAL, a busy timeout and
``BEGIN IMMEDIATE`` for writes so two writers never deadlock on lock upgrade)
live here so nothing else has to know which database it talks to.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_OPTION = "coordination_write"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, PostgreSQL must agree."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    """Create the engine with the per-dialect settings that keep writers safe."""
    if url.startswith("sqlite"):
        # Pooled: opening a connection runs the PRAGMAs and re-reads the schema,
        # which cost more than the rest of a small write (measured by the fanout bench).
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=10,
            max_overflow=40,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class Database:
    """Holds the engine and the session factory; bound once by ``create_app``."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        # SQLite has one writer at a time; waiting on its busy handler sleeps in
        # growing steps, so threads of one process queue on this lock instead.
        self._sqlite_writer = threading.RLock()

    def init(self, url: str) -> None:
        self.engine = make_engine(url)
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def factory(self) -> sessionmaker[Session]:
        if self._factory is None:
            raise RuntimeError("database not initialised")
        return self._factory

    def new_session(self) -> Session:
        if self._factory is None:
            raise RuntimeError("database not initialised")
        return self._factory()

    def dispose(self) -> None:
        if self.engine is not None:
            self.engine.dispose()

    @property
    def dialect(self) -> str:
        assert self.engine is not None
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction for one service call: commit on success, roll back on error.

        The session is opened for writing before anything runs so SQLite takes its
        write lock up front; events appended inside are published after commit.
        """
        serialise = self.dialect == "sqlite"
        if serialise:
            self._sqlite_writer.acquire()
        session = self.new_session()
        try:
            session.connection(execution_options={WRITE_OPTION: True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            if serialise:
                self._sqlite_writer.release()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A short read-only session for services that only query."""
        session = self.new_session()
        try:
            yield session
        finally:
            session.close()  # ends the transaction; loaded objects stay readable


def utcnow() -> datetime:
    return datetime.now(UTC)
