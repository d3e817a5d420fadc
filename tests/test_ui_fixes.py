"""Small things people saw: 24-hour times, display names in feeds, the site icon,
and no link to another host in the map's attribution."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask_babel import force_locale
from sqlalchemy import select

from coordination.dutylog import service as dutylog
from coordination.dutylog.schemas import NewEntry
from coordination.events import Actor, Event
from coordination.extensions import db
from coordination.feed import feed_bootstrap
from coordination.maps.offline import OfflineMap, render_parts


def test_server_rendered_duty_log_times_use_the_24_hour_clock(app):
    when = datetime(2026, 11, 30, 8, 11, tzinfo=UTC)  # 16:11 in Asia/Shanghai
    render = app.jinja_env.from_string("{{ t | local_time }}").render
    with app.test_request_context(), force_locale("en"):
        assert render(t=when) == "16:11"
        assert render(t=when.isoformat()) == "16:11"
    with app.test_request_context(), force_locale("zh_CN"):
        assert render(t=when) == "16:11"


def test_feeds_and_the_duty_log_show_display_names_and_the_audit_keeps_usernames(
        app, make_user, auth, client):
    me = make_user("operator", username="wangfang", display_name="王芳（值班员）")
    dutylog.post_entry(data=NewEntry(category="info", text="测试"), actor=me.actor)
    with db.reading() as s:
        ev = s.scalars(select(Event).where(Event.type == "dutylog.posted")).one()
    assert (ev.actor_name, ev.actor_display) == ("wangfang", "王芳（值班员）")
    message = ev.as_message()
    assert message["actor"]["name"] == "wangfang"
    assert message["actor"]["display"] == "王芳（值班员）"
    assert message["payload"]["author"] == "王芳（值班员）"
    feed = feed_bootstrap(me)
    assert feed["events"][-1]["actor"]["display"] == "王芳（值班员）"
    # System actors and events written before display names existed show their name.
    assert Actor.system("demo").as_dict()["display"] == "demo"
    auth.login("wangfang")
    page = client.get("/ops").text
    assert "— 王芳（值班员）" in page and "— wangfang" not in page
    audit_user = make_user("admin", username="boss")
    assert audit_user.actor.name == "boss"


def test_the_feed_client_reads_the_display_name():
    source = open("static/js/feed.js", encoding="utf-8").read()
    assert "ev.actor.display" in source


def test_pages_link_an_icon_and_favicon_ico_answers(client):
    login = client.get("/login").text
    assert 'rel="icon" href="/static/favicon.svg"' in login
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data
    assert client.get("/static/favicon.svg").status_code == 200


def test_attribution_prefix_is_plain_text_without_a_link():
    parts = render_parts(OfflineMap(tiles_url=None), nonce="n")
    script = str(parts.script)
    assert 'attributionControl.setPrefix("Leaflet")' in script
    assert "leafletjs.com" not in script and "leafletjs.com" not in str(parts.head)


def test_ops_page_json_blocks_carry_display_names(app, make_user, auth, client):
    me = make_user("operator", username="op7", display_name="李四")
    dutylog.post_entry(data=NewEntry(category="info", text="x"), actor=me.actor)
    auth.login("op7")
    html = client.get("/ops").text
    feed = json.loads(html.split('id="feed-data">', 1)[1].split("</script>", 1)[0])
    posted = [e for e in feed["events"] if e["type"] == "dutylog.posted"]
    assert posted and posted[-1]["actor"]["display"] == "李四"
