"""Which contingency plans fit an incident, and which are already active for it.

The incident page offers to activate a plan for the incident itself, so the
operator never copies an incident number into /plans. A plan fits when its
hazards name the incident's disease or type; fitting plans come first, the
others stay choosable (a cluster of an unlisted disease still needs a plan).
"""

from __future__ import annotations

from typing import Any

from ..contexts import LIVE
from . import registry
from .models import SubjectKind
from .service import list_activations


def subject_ref(incident_id: int) -> str:
    """How an activation names its incident: the number the board and tasks show."""
    return str(incident_id)


def plans_for_incident(*, context: str = LIVE, incident_id: int, disease: str | None,
                       incident_type: str) -> dict[str, Any]:
    """The plans to offer (fitting first) and the activations already made for the incident."""
    found = registry.plan_set(context=context)
    offers = []
    for pid, loaded in sorted(found.plans.items()):
        plan = loaded.plan
        assert plan is not None
        fits = (disease is not None and disease in plan.hazards.diseases) \
            or incident_type in plan.hazards.incident_types
        offers.append({"id": pid, "title": plan.title.model_dump(), "fits": fits,
                       "levels": [lv.value for lv in plan.levels]})
    offers.sort(key=lambda p: (not p["fits"], p["id"]))
    ref = subject_ref(incident_id)
    active = [a for a in list_activations(context=context, active_only=True)
              if a["subject_kind"] == SubjectKind.INCIDENT.value and a["subject_ref"] == ref]
    return {"plans": offers, "active": active, "subject_ref": ref}
