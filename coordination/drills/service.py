"""Drill runs: create from a scenario, seed, run the clock, fire injects, record, end.

Every change to a run goes through here, whether a trainer clicks, the CLI
asks or the scheduler fires an inject. The work is split by concern into
modules of their own (runs, firing, trainer_record, queries); this module is
the one name adapters import.
"""

from __future__ import annotations

from .common import MAX_SPEED, MIN_SPEED, TRAINERS, WAKERS, wake
from .firing import (
    Due,
    add_inject,
    due_by,
    fire,
    fire_due,
    fire_now,
    next_due_real,
)
from .queries import ALLOWED_ACTIONS, get_run, inject_dict, list_runs, run_for_context
from .runs import (
    JUMP_LEAD_SECONDS,
    create_run,
    delete_run,
    end_run,
    jump_ahead,
    pause_run,
    resume_run,
    set_speed,
    start_run,
)
from .scenario import Capability, Rating
from .trainer_record import add_improvement, add_observation, rate_task

__all__ = [
    "add_improvement", "add_inject", "add_observation", "ALLOWED_ACTIONS", "Capability",
    "create_run", "delete_run", "Due", "due_by", "end_run", "fire", "fire_due", "fire_now",
    "get_run", "inject_dict", "jump_ahead", "JUMP_LEAD_SECONDS", "list_runs", "MAX_SPEED",
    "MIN_SPEED", "next_due_real", "pause_run", "rate_task", "Rating", "resume_run",
    "run_for_context", "set_speed", "start_run", "TRAINERS", "wake", "WAKERS",
]
