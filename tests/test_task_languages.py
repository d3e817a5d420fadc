"""A task written in both languages (a plan's) reads in each reader's own, and the rows
written before as one "中文 / English" title are split by the migration."""

from __future__ import annotations

import re

from flask_babel import force_locale
from sqlalchemy import select

from coordination import migrate
from coordination.events import Actor
from coordination.extensions import db
from coordination.roster import service as roster
from coordination.roster.models import Task

from .roster_factories import crew

CJK = re.compile(r"[\u4e00-\u9fff]")
ACTOR = Actor.system("test")


def _task(**kw):
    fields = {"context": "live", "agency_code": "cdc", "role": None, "due_at": None,
              "ack_deadline": None, "source": "plan", "source_ref": "p:1",
              "incident_ref": "INC-1", "actor": ACTOR} | kw
    return roster.create_task(**fields)


def test_each_reader_sees_the_task_in_their_language(app):
    crew(users=False)
    made = _task(title="流行病学调查", title_en="Epidemiological investigation",
                 details="1. 采样 [采样员: 王伟 13900000000]",
                 details_en="1. Take samples [Sampler: 王伟 13900000000]")
    with app.test_request_context():
        with force_locale("zh_CN"):
            zh = roster.get_task(context="live", task_id=made["id"])
        with force_locale("en"):
            en = roster.get_task(context="live", task_id=made["id"])
    assert (zh["title"], en["title"]) == ("流行病学调查", "Epidemiological investigation")
    assert "Take samples" not in zh["details"] and "采样 [" in zh["details"]
    assert en["details"].startswith("1. Take samples") and "采样员" not in en["details"]
    assert zh["title_i18n"] == {"zh": "流行病学调查", "en": "Epidemiological investigation"}
    # A task typed in one language is shown as typed to everyone.
    one = _task(title="Check the ward", source="manual", source_ref=None)
    with app.test_request_context(), force_locale("zh_CN"):
        shown = roster.get_task(context="live", task_id=one["id"])
    assert shown["title"] == "Check the ward" and shown["title_i18n"] is None


def test_the_migration_splits_old_two_language_titles(app):
    crew(users=False)
    old = _task(title="流行病学调查 / Epidemiological investigation")
    manual = _task(title="带 / 斜杠的手写任务", source="manual", source_ref=None)
    assert db.engine is not None
    migrate.downgrade(db.engine, "0015_report21")
    migrate.upgrade_engine(db.engine)
    with db.reading() as s:
        rows = {t.id: t for t in s.scalars(select(Task))}
    assert (rows[old["id"]].title, rows[old["id"]].title_en) == (
        "流行病学调查", "Epidemiological investigation")
    assert (rows[manual["id"]].title, rows[manual["id"]].title_en) == (
        "带 / 斜杠的手写任务", None)  # only plan tasks were written as "zh / en"
    with app.test_request_context(), force_locale("en"):
        en = roster.get_task(context="live", task_id=old["id"])
    assert en["title"] == "Epidemiological investigation" and not CJK.search(en["title"])
    # And back: the old form is restored on a downgrade.
    migrate.downgrade(db.engine, "0015_report21")
    with db.engine.connect() as conn:
        from sqlalchemy import text

        title = conn.execute(text("SELECT title FROM roster_tasks WHERE id = :i"),
                             {"i": old["id"]}).scalar()
    migrate.upgrade_engine(db.engine)
    assert title == "流行病学调查 / Epidemiological investigation"
