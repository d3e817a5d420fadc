"""The audit log: every change, who, when, from which context; filters and CSV."""

from __future__ import annotations

import csv
import io

from coordination.auth import service
from coordination.contexts import Context, ContextKind
from coordination.dutylog.schemas import NewEntry
from coordination.dutylog.service import post_entry
from coordination.events import Actor
from coordination.extensions import db


def _setup(make_user):
    admin = make_user("admin", username="boss")
    op = make_user("operator", username="op")
    post_entry(data=NewEntry(text="=HYPERLINK(\"x\")"), actor=op.actor)
    with db.unit_of_work() as s:
        s.add(Context(name="drill-7", kind=ContextKind.DRILL, title="drill"))
    post_entry(data=NewEntry(text="drill note"), actor=op.actor, context="drill-7")
    service.create_token(name="tracker", roles=["operator"], actor=admin.actor)
    return admin


def test_audit_page_lists_and_filters(client, auth, make_user):
    _setup(make_user)
    auth.login("boss")
    page = client.get("/admin/audit")
    assert page.status_code == 200
    for text in ("<code>user.created</code>", "<code>dutylog.posted</code>",
                 "<code>token.created</code>", "drill-7"):
        assert text in page.text
    only_tokens = client.get("/admin/audit?type=token").text
    assert "<code>token.created</code>" in only_tokens
    assert "<code>dutylog.posted</code>" not in only_tokens
    only_drill = client.get("/admin/audit?context=drill-7").text
    assert "drill note" in only_drill and "HYPERLINK" not in only_drill
    by_actor = client.get("/admin/audit?actor=OP&type=dutylog").text
    assert "drill note" in by_actor and "HYPERLINK" in by_actor
    bad = client.get("/admin/audit?date_from=yesterday")
    assert bad.status_code == 400


def test_audit_csv_export_matches_filter_and_defuses_formulas(client, auth, make_user):
    _setup(make_user)
    auth.login("boss")
    resp = client.get("/admin/audit.csv?type=dutylog")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["context"] for r in rows] == ["live", "drill-7"]
    assert all(r["type"] == "dutylog.posted" and r["actor_name"] == "op" for r in rows)
    assert rows[0]["payload"].startswith("{")  # JSON, not a formula cell
    assert "HYPERLINK" in rows[0]["payload"]


def test_audit_is_admin_only(client, auth, make_user):
    _setup(make_user)
    auth.login("op")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_user_text_is_escaped_in_pages(client, auth, make_user):
    admin = make_user("admin", "operator", username="boss")
    post_entry(data=NewEntry(text="<script>alert(1)</script>"), actor=admin.actor)
    auth.login("boss")
    for path in ("/ops", "/admin/audit"):
        html = client.get(path).text
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)" in html or "\\u003cscript\\u003e" in html
    _ = Actor


def test_audit_count_is_capped_and_the_pager_still_reaches_older_pages(client, auth, make_user,
                                                                        monkeypatch):
    from coordination.audit import service as audit_service

    _setup(make_user)
    for n in range(5):
        post_entry(data=NewEntry(text=f"note {n}"), actor=make_user("operator").actor)
    monkeypatch.setattr(audit_service, "COUNT_CAP", 3)
    monkeypatch.setattr(audit_service, "PAGE_SIZE", 2)
    auth.login("boss")
    first = client.get("/admin/audit?type=dutylog").text
    assert "More than 3 events" in first or "超过 3 条事件" in first
    assert "page=2" in first  # "older" exists although the count stopped at the cap
    # The last page of seven dutylog events (two per page) is page 4, with no older link.
    last = client.get("/admin/audit?type=dutylog&page=4").text
    assert "page=5" not in last and "page=3" in last


def test_audit_suggestions_grow_with_the_log(client, auth, make_user):
    from coordination.audit import service as audit_service

    _setup(make_user)
    before = audit_service.event_types()
    assert "dutylog.posted" in before and "boss" in audit_service.actor_names()
    newcomer = make_user("operator", username="newcomer")
    post_entry(data=NewEntry(text="hello"), actor=newcomer.actor)
    assert "newcomer" in audit_service.actor_names()
    auth.login("boss")
    page = client.get("/admin/audit").text
    assert '<option value="newcomer">' in page
