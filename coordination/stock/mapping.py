"""The words the live map's depot markers show, translated on the server.

livemap.js inserts them as text; the figures come from ``GET /api/stock/map``
(overview.depot_map), so a depot's marker and the gap report never disagree.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext


def depot_labels() -> dict[str, object]:
    return {
        "status": {
            "ok": _("All items at or above target"),
            "warning": _("Lots expiring or running out soon"),
            "below_target": _("Items below reserve target"),
            "critical": _("Critical items below reserve target"),
        },
        "kind": _("Stockpile depot"),
        "owner": pgettext("depot", "Owner"),
        "contact": _("Contact"),
        "below": _("Below reserve target"),
        "line": _("%(item)s: %(available)s available, %(transit)s in transit, target %(target)s, "
                  "short %(short)s", item="{item}", available="{available}",
                  transit="{transit}", target="{target}", short="{short}"),
        "more": _("and %(n)s more", n="{n}"),
        "expiring": _("Lots expiring within the warning period: %(n)s", n="{n}"),
        "running_out": _("Items running out within the warning period: %(n)s", n="{n}"),
        "open": _("Open the depot"),
    }
