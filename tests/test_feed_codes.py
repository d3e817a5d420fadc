"""Sentences name statuses and types by their display names, not their codes."""

from __future__ import annotations

from flask import Flask
from flask_babel import force_locale

from coordination import feed, feed_codes


def _status_change(kind: str, previous: str, status: str) -> dict:
    return {"type": kind, "actor": {"name": "wang"},
            "payload": {"id": 7, "call_sign": "蒙J-120", "previous": previous, "status": status}}


def test_an_incident_status_change_reads_in_words(app: Flask) -> None:
    ev = _status_change("incident.status_changed", "reported", "verified")
    with app.test_request_context(), force_locale("zh_CN"):
        text = feed.describe(ev)
        assert "已报告" in text and "已核实" in text
        assert "reported" not in text and "verified" not in text
    with app.test_request_context(), force_locale("en"):
        text = feed.describe(ev)
        assert "Reported → Verified" in text


def test_a_unit_status_change_reads_in_words(app: Flask) -> None:
    ev = _status_change("unit.status_changed", "decontaminating", "available")
    with app.test_request_context(), force_locale("zh_CN"):
        text = feed.describe(ev)
        assert "decontaminating" not in text and "待命" in text


def test_an_unknown_code_reads_as_itself_and_other_fields_are_untouched(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert feed_codes.display("incident.status_changed", "payload.status", "new") == "new"
        assert feed_codes.display("dutylog.posted", "payload.text", "reported") == "reported"


def test_the_page_bootstrap_carries_the_vocabularies(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        codes = feed_codes.bootstrap()
    assert codes["coded"]["incident.status_changed"]["payload.status"] == "incident_status"
    assert codes["vocab"]["incident_status"]["on_scene"] == "On scene"
    assert codes["vocab"]["clock"]["found"].startswith("Found")


def test_escalations_and_zones_name_their_codes(app: Flask) -> None:
    escalated = {"type": "task.escalated", "actor": None,
                 "payload": {"title": "流调", "step": {"target": "backup"}}}
    zone = {"type": "zone.updated", "actor": None,
            "payload": {"id": 1, "disease": "plague", "version": 2, "cases": 1,
                        "zone_population": 900}}
    with app.test_request_context(), force_locale("en"):
        assert "Backup on duty" in feed.describe(escalated)
        from coordination.incidents import diseases

        text = feed.describe(zone)
        assert f"({diseases.labels()['plague']})" in text and "(plague)" not in text


def test_stock_sentences_name_depots_and_items_in_the_readers_language(app: Flask) -> None:
    """A receipt reads "FZ库 … 含氯消毒片", not "FZ … chlorine_tabs"; so do the page codes."""
    from sqlalchemy import select

    from coordination.events import Event
    from coordination.extensions import db
    from tests.test_stock_support import make_depot, make_item, receive

    with app.app_context():
        make_depot("FZ")
        make_item("chlorine_tabs", name_zh="含氯消毒片", name_en="Chlorine disinfectant tablets")
        receive("FZ", "chlorine_tabs", "L1", 40)
        make_depot("HD")
        with db.reading() as s:
            sent = [e.as_message() for e in s.scalars(
                select(Event).where(Event.type == "stock.received"))]
    assert len(sent) == 1
    with app.test_request_context(), force_locale("zh_CN"):
        text = feed.describe(sent[0])
        codes = feed_codes.bootstrap()
    assert "FZ库" in text and "含氯消毒片" in text
    assert "chlorine_tabs" not in text and " FZ" not in text.replace("FZ库", "")
    assert codes["coded"]["stock.received"]["payload.depot"] == "depot"
    assert codes["vocab"]["depot"] == {"FZ": "FZ库", "HD": "HD库"}
    assert codes["vocab"]["item"]["chlorine_tabs"] == "含氯消毒片"
    with app.test_request_context(), force_locale("en"):
        text = feed.describe(sent[0])
        codes = feed_codes.bootstrap()
    assert "Chlorine disinfectant tablets" in text and "FZ depot" in text
    assert codes["vocab"]["item"]["chlorine_tabs"] == "Chlorine disinfectant tablets"
    # a transfer names both depots
    transfer = {"type": "stock.transfer_sent", "context": "live", "actor": {"name": "w"},
                "payload": {"quantity": 5, "item": "chlorine_tabs", "from_depot": "FZ",
                            "to_depot": "HD"}}
    with app.test_request_context(), force_locale("en"):
        text = feed.describe(transfer)
    assert "from FZ depot to HD depot" in text


def test_a_two_language_task_title_reads_in_the_readers_language(app: Flask) -> None:
    ev = {"type": "task.created", "context": "live", "actor": None,
          "payload": {"agency_name_zh": "疾控", "title": "流调",
                      "title_i18n": {"zh": "流调", "en": "Field investigation"}}}
    with app.test_request_context(), force_locale("en"):
        assert feed.describe(ev).endswith(": Field investigation")
    with app.test_request_context(), force_locale("zh_CN"):
        assert "流调" in feed.describe(ev) and "Field" not in feed.describe(ev)
