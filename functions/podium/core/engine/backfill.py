"""Backfill decisions (Airflow's backfill, on Podium's triggers): which scheduled times
of a date range get a run, and what happens to a time that already has one.

A time's runs form a chain of deterministic ids: the first is the id the trigger itself
gives that time (``schedule.trigger_run_id``), so a backfill never duplicates a run the
schedule started, and each re-run's id is derived from the one before. A second
backfill of the same range finds the same chain and adds nothing unless asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from podium.core.engine.schedule import trigger_run_id
from podium.core.engine.status import RunStatus

MAX_BACKFILL_RUNS = 1000


class Reprocess(str, Enum):
    NONE = "none"  # a time with any run is left alone
    FAILED = "failed"  # a time whose latest run did not succeed runs again
    ALL = "all"  # every time runs again, unless its latest run is still active


class Action(str, Enum):
    START = "start"  # no run yet
    RERUN = "rerun"  # reprocess: a new run after the latest one
    SKIP = "skip"


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


def decide(latest: RunStatus | None, reprocess: Reprocess) -> Decision:
    if latest is None:
        return Decision(Action.START, "no run yet")
    if not latest.terminal:
        return Decision(Action.SKIP, f"a run is {latest.value.lower()} (never duplicated)")
    if reprocess is Reprocess.ALL:
        return Decision(Action.RERUN, f"reprocess all (latest run {latest.value.lower()})")
    if reprocess is Reprocess.FAILED and not latest.complete:
        return Decision(Action.RERUN, f"reprocess failed (latest run {latest.value.lower()})")
    return Decision(Action.SKIP, f"a run exists ({latest.value.lower()})")


def first_run_id(workflow: str, trigger: str, at: int) -> str:
    return trigger_run_id(workflow, trigger, str(at), at)


def next_run_id(workflow: str, trigger: str, at: int, previous: str) -> str:
    """The id of the run after ``previous`` for the same time (a reprocess)."""
    return trigger_run_id(workflow, trigger, f"{at}/after/{previous}", at)
