"""The roster's iCalendar feed as phone calendars use it (issue #23).

A phone subscribed once by IP and once by name must see each shift once (same
UIDs), a refetch must not make every event look revised (stable DTSTAMP), the
Content-Type names its charset once, and the text is in one language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import update

from coordination.auth.models import User
from coordination.extensions import db
from coordination.roster import manage as m
from tests.roster_factories import crew

SH = ZoneInfo("Asia/Shanghai")


def _token(c) -> str:
    return next(o["ical_token"] for o in m.overview(context="live")["officers"]
                if o["id"] == c.primaries[0]["id"])


def _events(client, token: str, host: str) -> list:
    resp = client.get(f"/roster/calendar/{token}.ics", base_url=host)
    assert resp.status_code == 200
    return list(Calendar.from_ical(resp.data).walk("VEVENT"))


def test_the_feed_is_the_same_under_two_host_names_and_two_fetches(app, client):
    app.config["COORDINATION"].site_domain = "cmd.ulanqab.example"
    c = crew(code="cdc", start=datetime.now(SH).date() - timedelta(days=2))
    token = _token(c)
    by_ip = _events(client, token, "http://10.0.0.7:8000")
    by_name = _events(client, token, "http://coordination.ulanqab.example")
    uids = [str(e["uid"]) for e in by_ip]
    assert uids == [str(e["uid"]) for e in by_name] and len(set(uids)) == len(uids)
    assert all(u.endswith("@cmd.ulanqab.example") for u in uids)
    assert [e.decoded("dtstamp") for e in by_ip] == [e.decoded("dtstamp") for e in by_name]
    stamps = {e.decoded("dtstamp") for e in by_ip}
    assert all(s <= datetime.now(SH) for s in stamps)  # when the rotation was saved


def test_the_content_type_names_its_charset_once(app, client):
    c = crew(code="cdc", start=datetime.now(SH).date())
    resp = client.get(f"/roster/calendar/{_token(c)}.ics")
    assert resp.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_summaries_are_in_the_officers_language(app, client):
    c = crew(code="cdc", start=datetime.now(SH).date())
    token = _token(c)
    zh = _events(client, token, "http://localhost")
    texts = " ".join(f"{e['summary']} {e['description']}" for e in zh)
    assert "cdc中文" in texts and "duty" not in texts and "CDC" not in texts
    user_id = c.primaries[0]["user_id"]
    with db.unit_of_work() as s:
        s.execute(update(User).where(User.id == user_id).values(locale="en"))
    en = _events(client, token, "http://localhost")
    summary = str(en[0]["summary"])
    assert summary.startswith("CDC: ") and "duty" in summary and "中文" not in summary
