"""Queue, claim and run background jobs; the worker loop every serving process runs.

A request that would take seconds (a 50,000-row import) only queues a job row and
answers 202; a worker thread (started with the other background loops in
``start_background_work``) runs it. Several processes may serve one database: a job is
*claimed* with a conditional ``UPDATE … WHERE status = 'queued'`` (or an expired lease),
so exactly one process gets it, and a handler's final write marks the job done in the
same transaction, conditional on still holding the lease, so a job is applied once even
if a process died and another took it over.

Messages are rendered in the language of the person who queued the job (its
``locale``), as a request of theirs would have.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..errors import Conflict, CoordinationError, NotFound, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..gcpause import collector_paused
from ..runtime import AppLike
from . import foreground
from .models import ACTIVE, Job, JobStatus

log = logging.getLogger(__name__)

#: How long a claim holds without a sign of life; every progress report renews it.
LEASE = timedelta(seconds=60)
#: How often an idle worker looks for jobs queued by another process.
POLL_SECONDS = 1.0
#: Retryable faults (connection lost, database locked, disk full) are tried this often.
MAX_ATTEMPTS = 3
#: A progress row is written at most this often (each is its own short transaction).
PROGRESS_EVERY = timedelta(seconds=0.25)
#: Bad rows kept in a rejected job's result (the count is in ``errors``).
MAX_PROBLEMS = 1000

WORKER = f"{socket.gethostname()[:40]}:{os.getpid()}"
_WAKE = threading.Event()

Handler = Callable[["JobRun"], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}


class LostLease(Exception):
    """Another worker took this job over (ours was presumed dead): drop our work."""


def register(kind: str, handler: Handler) -> None:
    """Name the function that runs jobs of ``kind`` (it gets a ``JobRun``)."""
    HANDLERS[kind] = handler


def new_id() -> str:
    return secrets.token_hex(16)


def _now() -> datetime:
    from ..db import utcnow

    return utcnow()


def submit(*, context: str, kind: str, actor: Actor, params: dict[str, Any],
           content: bytes | None = None, key: str | None = None,
           locale: str | None = None) -> dict[str, Any]:
    """Queue a job and wake this process's worker; what ``job_view`` says of it."""
    if kind not in HANDLERS:
        raise ValidationFailed(_l("Unknown kind of job."))
    now = _now()
    job = Job(id=new_id(), context=context, kind=kind, key=key,
              status=JobStatus.QUEUED.value, phase="queued",
              params={**params, "locale": locale}, content=content,
              actor={"kind": actor.kind, "id": actor.id, "name": actor.name,
                     "display": actor.display},
              rows_total=0, rows_done=0, errors=0, attempts=0, created_at=now, updated_at=now)
    with db.unit_of_work() as s:
        s.add(job)
    _WAKE.set()
    return job_view(job)


def active_with_key(s: Session, *, context: str, kind: str, key: str) -> Job | None:
    """A queued or running job of the same content, if one is under way."""
    return s.scalar(select(Job).where(Job.context == context, Job.kind == kind,
                                      Job.key == key, Job.status.in_(ACTIVE))
                    .order_by(Job.created_at).limit(1))


def get_job(*, job_id: str, context: str, kind: str | None = None) -> dict[str, Any]:
    with db.reading() as s:
        job = s.get(Job, job_id) if len(job_id) <= 32 else None
        if job is None or job.context != context or (kind is not None and job.kind != kind):
            raise NotFound(_l("No such import job."))
        return job_view(job)


def recent_jobs(*, context: str, kind: str, limit: int = 10) -> list[dict[str, Any]]:
    with db.reading() as s:
        return [job_view(j) for j in s.scalars(
            select(Job).where(Job.context == context, Job.kind == kind)
            .order_by(Job.created_at.desc()).limit(limit))]


def job_view(job: Job) -> dict[str, Any]:
    """What the API answers and the page shows of a job (never its content)."""
    params = {k: v for k, v in (job.params or {}).items() if k != "locale"}
    return {"job": job.id, "kind": job.kind, "status": job.status, "phase": job.phase,
            "finished": job.status not in ACTIVE, "rows_total": job.rows_total,
            "rows_done": job.rows_done, "errors": job.errors, "message": job.message,
            "result": job.result, "params": params,
            "actor": (job.actor or {}).get("display") or (job.actor or {}).get("name"),
            "created_at": job.created_at.isoformat() if job.created_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


# --- running -------------------------------------------------------------------------


@dataclass
class JobRun:
    """One claimed job as its handler sees it."""

    id: str
    context: str
    kind: str
    params: dict[str, Any]
    content: bytes
    actor: Actor
    attempt: int
    _last_write: datetime | None = field(default=None, repr=False)
    _last_phase: str | None = field(default=None, repr=False)

    def progress(self, phase: str, *, total: int | None = None, done: int | None = None,
                 errors: int | None = None, force: bool = False) -> None:
        """Record how far the job is (on a new phase, else at most every
        ``PROGRESS_EVERY``) and renew the lease; first step aside while requests are
        being served, so a big job never makes the rest of the deployment slow."""
        foreground.step_aside()
        now = _now()
        if not force and phase == self._last_phase and self._last_write is not None \
                and now - self._last_write < PROGRESS_EVERY:
            return
        self._last_write, self._last_phase = now, phase
        values: dict[str, Any] = {"phase": phase, "updated_at": now, "lease_until": now + LEASE}
        if total is not None:
            values["rows_total"] = total
        if done is not None:
            values["rows_done"] = done
        if errors is not None:
            values["errors"] = errors
        with db.unit_of_work() as s:
            res = s.execute(_owned(s, self.id).values(**values)
                            .execution_options(synchronize_session=False))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                raise LostLease(self.id)

    def pace(self) -> None:
        """Step aside for requests in flight (between chunks of heavy work)."""
        foreground.step_aside()

    def finish(self, s: Session, result: dict[str, Any], *, rows: int) -> None:
        """Mark the job done inside the handler's own transaction (so the work and its
        record commit together); refuses if another worker has taken the job over."""
        now = _now()
        res = s.execute(_owned(s, self.id).values(
            status=JobStatus.DONE.value, phase="done", rows_done=rows, errors=0,
            result=result, content=None, finished_at=now, updated_at=now, lease_until=None,
        ).execution_options(synchronize_session=False))
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise LostLease(self.id)


def _owned(_s: Session, job_id: str) -> Any:
    return update(Job).where(Job.id == job_id, Job.worker == WORKER,
                             Job.status == JobStatus.RUNNING.value)


def claim_next() -> JobRun | None:
    """Take the oldest runnable job for this process, or None (each job goes to one)."""
    now = _now()
    with db.unit_of_work() as s:
        candidates = list(s.execute(
            select(Job.id, Job.status, Job.attempts).where(or_(
                Job.status == JobStatus.QUEUED.value,
                (Job.status == JobStatus.RUNNING.value) & (Job.lease_until < now)))
            .order_by(Job.created_at).limit(5)))
        for job_id, status, attempts in candidates:
            res = s.execute(update(Job).where(Job.id == job_id, Job.status == status,
                                              Job.attempts == attempts)
                            .values(status=JobStatus.RUNNING.value, phase="starting",
                                    worker=WORKER, attempts=attempts + 1, started_at=now,
                                    updated_at=now, lease_until=now + LEASE)
                            .execution_options(synchronize_session=False))
            if res.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another process was quicker
            job = s.get(Job, job_id)
            assert job is not None
            s.refresh(job)
            a = job.actor or {}
            return JobRun(id=job.id, context=job.context, kind=job.kind,
                          params=dict(job.params or {}), content=job.content or b"",
                          actor=Actor(kind=a.get("kind", "system"), id=a.get("id"),
                                      name=a.get("name", "system"), display=a.get("display")),
                          attempt=job.attempts)
    return None


def run_next() -> bool:
    """Claim and run one job; False when there was none."""
    run = claim_next()
    if run is None:
        return False
    locale = run.params.get("locale") or None
    # The cycle collector is held off while the job runs: a 50,000-row import allocates
    # a few hundred thousand objects (no cycles among them), and the full collections
    # that triggers stop every thread, requests included, for tens of milliseconds.
    with force_locale(locale) if locale else nullcontext(), foreground.job_running(), \
            collector_paused():
        _run(run)
    return True


def _run(run: JobRun) -> None:
    """Run a claimed job's handler and record how it ended."""
    handler = HANDLERS.get(run.kind)
    try:
        if handler is None:
            raise CoordinationError(str(_l("Unknown kind of job.")))
        handler(run)
    except LostLease:
        log.warning("job %s was taken over by another worker", run.id)
    except Conflict as exc:
        _end(run, JobStatus.DUPLICATE, message=str(exc.message))
    except CoordinationError as exc:
        problems = exc.details if isinstance(exc.details, list) else None
        if problems is not None:
            _end(run, JobStatus.REJECTED, message=str(exc.message),
                 result={"problems": problems[:MAX_PROBLEMS]}, errors=len(problems))
        else:
            _end(run, JobStatus.FAILED, message=str(exc.message))
    except (DBAPIError, OSError) as exc:
        # Retryable: the database went away, was locked too long, or the disk is full.
        log.warning("job %s hit a retryable fault (attempt %d): %s", run.id, run.attempt, exc)
        if run.attempt < MAX_ATTEMPTS:
            _requeue(run)
        else:
            _end(run, JobStatus.FAILED, message=str(_l(
                "The database could not be reached; nothing was imported. Try again.")))
    except Exception:
        log.exception("job %s failed", run.id)
        _end(run, JobStatus.FAILED,
             message=str(_l("The job failed on a fault of ours; nothing was imported.")))
    else:
        _end(run, JobStatus.DONE)  # a no-op when the handler recorded its own end


def _end(run: JobRun, status: JobStatus, *, message: str | None = None,
         result: dict[str, Any] | None = None, errors: int | None = None,
         ) -> None:
    """Record how the job ended (a no-op when it is no longer ours, or already done)."""
    now = _now()
    values: dict[str, Any] = {"status": status.value, "phase": status.value, "message": message,
                              "content": None, "finished_at": now, "updated_at": now,
                              "lease_until": None}
    if result is not None:
        values["result"] = result
    if errors is not None:
        values["errors"] = errors
    with db.unit_of_work() as s:
        s.execute(_owned(s, run.id).values(**values)
                  .execution_options(synchronize_session=False))


def _requeue(run: JobRun) -> None:
    try:
        with db.unit_of_work() as s:
            s.execute(_owned(s, run.id).values(status=JobStatus.QUEUED.value, phase="queued",
                                               worker=None, lease_until=None)
                      .execution_options(synchronize_session=False))
    except DBAPIError:
        log.warning("job %s could not be requeued; its lease will expire", run.id)


def run_pending(limit: int = 100) -> int:
    """Run queued jobs in the calling thread until none is left (CLI and tests)."""
    ran = 0
    while ran < limit and run_next():
        ran += 1
    return ran


def worker(app: AppLike, stop: threading.Event | None = None) -> None:
    """Background loop of a serving process: run jobs as they are queued."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            with app.app_context():
                while not stop.is_set() and run_next():
                    pass
        except Exception:  # a database hiccup must not kill the loop
            log.exception("job worker failed; retrying")
        _WAKE.wait(POLL_SECONDS)
        _WAKE.clear()
