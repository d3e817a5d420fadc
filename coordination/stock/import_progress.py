"""Progress of a running stock import, written as it goes and read by the upload page.

The upload page names the job (``job`` form field, a random id) and polls
``GET /api/stock/import-jobs/<job>`` while its form submission waits for the answer:
rows checked of the total, problems so far, then "posting" and "done" or "rejected".
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..db import utcnow
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from .import_keys import ImportProgress

JOB_RE = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
#: A progress row is written every this many rows checked.
EVERY = 2000


def check_job(job: str | None) -> str | None:
    if not job:
        return None
    if not JOB_RE.match(job):
        raise ValidationFailed(_l("The import job id is not valid."))
    return job


class Reporter:
    """Writes one job's progress; without a job it does nothing."""

    def __init__(self, job: str | None, context: str) -> None:
        self.job, self.context = check_job(job), context

    def __call__(self, phase: str, *, total: int | None = None, done: int | None = None,
                 errors: int | None = None) -> None:
        if self.job is None:
            return
        with db.unit_of_work() as s:
            row = s.get(ImportProgress, self.job)
            if row is None:
                row = ImportProgress(job=self.job, context=self.context, phase=phase,
                                     rows_total=0, rows_done=0, errors=0)
                s.add(row)
            elif row.context != self.context:
                raise ValidationFailed(_l("The import job id is not valid."))
            row.phase = phase
            row.updated_at = utcnow()
            if total is not None:
                row.rows_total = total
            if done is not None:
                row.rows_done = done
            if errors is not None:
                row.errors = errors


def job_progress(*, job: str, context: str) -> dict[str, Any]:
    with db.reading() as s:
        row = s.scalar(select(ImportProgress).where(ImportProgress.job == check_job(job),
                                                    ImportProgress.context == context))
        if row is None:
            raise NotFound(_l("No such import job."))
        return {"job": row.job, "phase": row.phase, "rows_total": row.rows_total,
                "rows_done": row.rows_done, "errors": row.errors}
