"""Records as JSON rows: every dataclass field by name, None fields left out.

Generic on purpose: a field added to a record is stored without a schema change. Values
go through JSON as they do in DynamoDB (``default=str``), so a step output reads back the
same on both stores.
"""

from __future__ import annotations

import json
from dataclasses import fields
from enum import Enum
from typing import Any

from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent
from podium.core.engine.status import RunStatus, StepStatus

_STEP_FIELDS = tuple(f.name for f in fields(StepRecord))
_RUN_FIELDS = tuple(f.name for f in fields(RunRecord))
_EVENT_FIELDS = tuple(f.name for f in fields(TimelineEvent))


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


# Left out while zero: only loop steps count children.
_ZERO_OMITTED = frozenset(
    {"children_launched", "children_ok", "children_failed", "children_stopped"}
)


def _encode(record: Any, names: tuple[str, ...], skip: tuple[str, ...]) -> str:
    out = {}
    for name in names:
        if name in skip:
            continue
        value = getattr(record, name)
        if value == 0 and name in _ZERO_OMITTED:
            continue
        if value is not None:
            out[name] = _plain(value)
    return json.dumps(out, separators=(",", ":"), default=str)


def step_to_row(step: StepRecord) -> str:
    return _encode(step, _STEP_FIELDS, ("run_id", "step"))


def _known(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Fields this version knows: a row written by a newer Podium (a home shared with
    a newer process) still reads, without the fields it added."""
    return {k: v for k, v in values.items() if k in names}


def step_from_row(run_id: str, step: str, row: str) -> StepRecord:
    values = _known(json.loads(row), _STEP_FIELDS)
    values["status"] = StepStatus(values["status"])
    return StepRecord(run_id=run_id, step=step, **values)


# The runs table's ``active`` column: where a run is in the sweeper's index.
SETTLED, WATCHED, UNWATCHED = 0, 1, 2  # UNWATCHED: unsettled, out of the index


def active_of(run: RunRecord) -> int:
    """The ``active`` column of a run as created."""
    if run.status.terminal:
        return SETTLED  # as in DynamoDB: a run created terminal never enters the index
    return WATCHED if run.watched else UNWATCHED


def run_to_row(run: RunRecord) -> str:
    # ``settled`` and ``watched`` are not stored: like DynamoDB's, they are read from
    # the run's place in the active index.
    return _encode(run, _RUN_FIELDS, ("run_id", "settled", "watched"))


def run_from_row(run_id: str, row: str, active: int | None = None) -> RunRecord:
    """``active``: the row's place in the active index (None when not read)."""
    values = _known(json.loads(row), _RUN_FIELDS)
    values.pop("watched", None)  # a row written before it was derived
    status = values["status"] = RunStatus(values["status"])
    if active is not None:
        # Terminal and out of the active index: every follow-up was done.
        values["settled"] = status.terminal and active == SETTLED
        values["watched"] = active != UNWATCHED
    return RunRecord(run_id=run_id, **values)


def event_to_row(event: TimelineEvent) -> str:
    return _encode(event, _EVENT_FIELDS, ("run_id", "at", "event_id"))


def event_from_row(run_id: str, at: int, event_id: str, row: str) -> TimelineEvent:
    return TimelineEvent(run_id=run_id, at=at, event_id=event_id, **json.loads(row))
