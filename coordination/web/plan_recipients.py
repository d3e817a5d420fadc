"""The "no task to nobody" step of the activation forms (plan page, incident page, level).

When the service refuses an activation because some tasks would reach nobody
(``RecipientsNeeded``), nothing has been activated yet: the operator gets a page
that lists those tasks and asks, per task, where each goes (the agency head, the
command room or a named officer). It posts back to the same form with the
original fields and one ``recipient.<task id>`` field per task.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ..plans.recipients import COMMAND_ROOM, HEAD, RecipientsNeeded

PREFIX = "recipient."


def choices_from(form: MultiDict[str, str]) -> dict[str, str]:
    """``recipient.<task id>`` fields as the service's ``recipients`` mapping."""
    return {k[len(PREFIX):][:64]: v[:40] for k, v in form.items()
            if k.startswith(PREFIX) and v.strip()}


def choose_page(exc: RecipientsNeeded, *, action: str, form: MultiDict[str, str],
                cancel: str) -> tuple[str, int]:
    """The chooser page (409): the refused tasks, their options, the original fields."""
    zh = str(get_locale() or "zh").startswith("zh")
    details = exc.details or {}
    officers = [{"value": f"officer:{o['id']}",
                 "label": f"{o['name']} · {o['agency_zh'] if zh else o['agency_en']}"}
                for o in details.get("officers", [])]
    tasks = []
    for t in details.get("tasks", []):
        options = []
        if HEAD in t["options"] and t.get("head"):
            options.append({"value": HEAD, "label": _("Agency head: %(name)s",
                                                      name=t["head"]["name"])})
        if COMMAND_ROOM in t["options"]:
            options.append({"value": COMMAND_ROOM, "label": _("The command room")})
        tasks.append({
            "task_id": t["task_id"], "title": t["title"]["zh" if zh else "en"],
            "role": t["role_title"]["zh" if zh else "en"],
            "why": (_("Nobody is on duty there now.") if t["kept"]
                    else _("This agency is not on the liaison roster.")),
            "options": options, "chosen": form.get(PREFIX + t["task_id"], "")})
    hidden = [(k, v) for k, v in form.items(multi=True)
              if not k.startswith(PREFIX) and k != "csrf_token"]
    body: dict[str, Any] = {"tasks": tasks, "officers": officers, "action": action,
                            "hidden": hidden, "cancel": cancel, "message": str(exc.message)}
    return render_template("plans/recipients.html", **body), exc.status
