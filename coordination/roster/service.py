"""Rosters and tasks: the only place their rows change.

Each public function is one unit of work with its events; reads go through
``db.reading``. Time comes from the context's clock (drills run accelerated).
Escalation steps are fired by :func:`fire_step`, which the sweeper
(``escalation.py``) also calls inside its own claimed transaction.

The work is split by concern into modules of their own (duty, tasks, steps,
task_reads); this module is the one name adapters import.
"""

from __future__ import annotations

from .common import (
    OPS_AUDIENCE,
    agency_by_code,
    context_row,
    link_user,
    new_ical_token,
    officer_dict,
    officer_of,
    parse,
)
from .duty import load_specs, on_duty, on_duty_in, override_spec, rotation_spec
from .steps import fire_step, fire_steps, task_audience
from .task_reads import get_task, list_tasks, my_tasks, task_dict, task_dicts
from .tasks import (
    DEFAULT_CHAIN,
    acknowledge_task,
    add_note,
    cancel_task,
    complete_task,
    create_task,
    create_task_in,
    decline_task,
    jump_task,
)

__all__ = [
    "DEFAULT_CHAIN", "OPS_AUDIENCE", "acknowledge_task", "add_note", "agency_by_code",
    "cancel_task", "complete_task", "context_row", "create_task", "create_task_in",
    "decline_task", "fire_step", "fire_steps", "get_task", "jump_task", "link_user",
    "list_tasks", "load_specs", "my_tasks", "new_ical_token", "officer_dict", "officer_of",
    "on_duty", "on_duty_in", "override_spec", "parse", "rotation_spec", "task_audience",
    "task_dict", "task_dicts",
]
