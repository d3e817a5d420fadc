"""Stock imports as background jobs: the page and the API queue, a worker applies.

``submit_import`` refuses at once what needs no reading (not CSV/XLSX, empty, a file
already imported, the same file already queued) and otherwise queues a job holding
the upload; the job's handler runs ``imports.import_stock`` with a progress reporter
(rows checked, problems so far) and records the job's end in the import's own
transaction. Idempotency is the import key (a hash of context, kind, default depot
and the file's bytes): the ``stock_imports`` row written in that transaction has a
unique index, so of two jobs of one file exactly one applies and the other ends
"already imported".
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from ..contexts import LIVE
from ..errors import Conflict, ValidationFailed
from ..events import Actor
from ..extensions import db
from ..jobs import service as jobs
from ..jobs.service import JobRun
from .imports import ImportKind, check_filename, import_stock, refuse_repeat, stock_import_key

KIND = "stock.import"


def submit_import(*, content: bytes, filename: str, kind: ImportKind, actor: Actor,
                  default_depot: str | None = None, context: str = LIVE,
                  locale: str | None = None) -> dict[str, Any]:
    """Queue an import of ``content``; the job as ``jobs.job_view`` shows it."""
    check_filename(filename)
    if not content.strip():
        raise ValidationFailed(_l("The file is empty."))
    if filename.lower().endswith(".xlsx") and not zipfile.is_zipfile(io.BytesIO(content)):
        raise ValidationFailed(_l("The file is not a readable XLSX workbook."))
    key = stock_import_key(context=context, kind=kind, default_depot=default_depot,
                           content=content)
    with db.reading() as s:
        refuse_repeat(s, key)
        running = jobs.active_with_key(s, context=context, kind=KIND, key=key)
        if running is not None:
            raise Conflict(_l("This file is already being imported; follow that import."),
                           details={"job": running.id})
    return jobs.submit(context=context, kind=KIND, actor=actor, key=key, content=content,
                       locale=locale,
                       params={"filename": filename[:200], "kind": kind.value,
                               "depot": default_depot})


def run_import(run: JobRun) -> dict[str, Any]:
    """The job's handler: the import itself, reporting as it goes."""
    params = run.params

    def report(phase: str, *, total: int | None = None, done: int | None = None,
               errors: int | None = None) -> None:
        run.progress(phase, total=total, done=done, errors=errors)

    def finish(s: Session, body: dict[str, Any], rows: int) -> None:
        run.finish(s, body, rows=rows)

    return import_stock(content=run.content, filename=params["filename"],
                        kind=ImportKind(params["kind"]), actor=run.actor,
                        default_depot=params.get("depot"), context=run.context,
                        report=report, finish=finish)


def import_job(*, job_id: str, context: str) -> dict[str, Any]:
    return jobs.get_job(job_id=job_id, context=context, kind=KIND)


def recent_imports(*, context: str) -> list[dict[str, Any]]:
    return jobs.recent_jobs(context=context, kind=KIND)


jobs.register(KIND, run_import)
