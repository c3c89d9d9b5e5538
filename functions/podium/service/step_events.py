"""Step status changes on Podium's bus (``Podium Step Status Change``, docs/events.md).

One event per change costs as much as the step's own orchestration ($1 per million
PutEvents entries), so a workflow chooses with ``step_events``: ``failures`` (the
default: FAILED, TIMED_OUT and attempts that will be retried, which are exceptional),
``all`` (every change this module is told of), or ``none``. Delivery is at least once:
a replayed follow-up may publish a change again; consumers de-duplicate on
``run_id`` + ``step`` + ``attempt`` + ``status``.

A step of a loop iteration is named as users know it: its workflow's name (not the
loop body's, ``etl/per_day``), with the run ``podium runs show`` shows (``top_run_id``)
and its path from there (``step_path``, ``per_day/3/load``); ``run_id`` stays the run
that holds the step (the iteration's), which the de-duplication key needs.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from podium.core.dsl.models import StepEvents
from podium.core.engine.errors import NotFound
from podium.core.engine.event_places import place_of
from podium.core.engine.loops import BODY_SEPARATOR
from podium.core.engine.records import RunRecord
from podium.core.engine.status import StepStatus
from podium.service.context import Services

log = logging.getLogger("podium.events")

STEP_STATUS_CHANGE = "Podium Step Status Change"
_FAILURES = frozenset(
    {StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.RETRY_WAIT, StepStatus.FAILED_IGNORED}
)


def wanted(setting: StepEvents, status: StepStatus) -> bool:
    if setting is StepEvents.ALL:
        return True
    return setting is StepEvents.FAILURES and status in _FAILURES


def publish_step(
    ctx: Services,
    run: RunRecord,
    step: str,
    status: StepStatus,
    *,
    attempt: int | None = None,
    error: str | None = None,
    at: int | None = None,
) -> None:
    setting = ctx.definitions.get(run.workflow, run.version).definition.step_events
    if not wanted(setting, status):
        return
    assert ctx.events is not None
    try:
        trigger = workflow_trigger(ctx, run)
        event = step_status_event(run, step, status, attempt, error, at or ctx.now(), trigger)
        ctx.events.publish([event])
    except Exception:  # an alert lost is better than a step stuck: the change is stored
        log.exception("step event of %s/%s not published", run.run_id, step)


def step_status_event(
    run: RunRecord,
    step: str,
    status: StepStatus,
    attempt: int | None,
    error: str | None,
    at: int,
    trigger: str | None = None,
) -> dict[str, Any]:
    """The event; ``trigger``: what started the step's workflow run (``workflow_trigger``;
    None: ``run``'s own)."""
    return {
        "detail-type": STEP_STATUS_CHANGE,
        "detail": {
            **step_place(run, step, trigger),
            "status": status.value,
            "attempt": attempt,
            "error": error,
            "at": at,
        },
    }


def step_place(run: RunRecord, step: str, trigger: str | None = None) -> dict[str, Any]:
    """What a step's events (its status changes, its callback token) say of where it is
    and of its run: the fields rules and ``bus: podium`` triggers match on."""
    place = place_of(run.run_id, run.workflow, step)
    return {
        "run_id": run.run_id,  # the run holding the step: a loop iteration's own
        "workflow": place.workflow,  # the pushed workflow, never a loop body's name
        "version": run.version,
        "created_at": run.created_at,  # with run_id, names the run (podium_link)
        "top_run_id": place.top_run_id,
        "step": step,
        "step_path": place.step_path,  # per_day/3/load, as podium runs show --step takes it
        # Its workflow run's: the self-start refusal of a bus: podium trigger, and a
        # rule's exclusion of a trigger's own runs, hold inside its loops too.
        "trigger": run.trigger if trigger is None else trigger,
        "tags": run.tags,
        "chain": run.chain,  # a trigger on step changes is a link too (MAX_CHAIN)
    }


def workflow_trigger(ctx: Services, run: RunRecord) -> str:
    """What started the workflow run a step of ``run`` belongs to: ``run``'s trigger, or
    for a loop iteration (whose own says ``foreach`` or ``while``) its top run's, read
    when an event is published, once per process and top run (a run's trigger never
    changes: the 100,000 iterations of a loop cost one read, not one each). A top run
    gone (pruned) leaves the iteration's."""
    if BODY_SEPARATOR not in run.workflow:
        return run.trigger
    top = place_of(run.run_id, run.workflow, "").top_run_id
    if top == run.run_id:
        return run.trigger
    with _known_lock:
        try:
            known = _known_triggers.setdefault(ctx.store, {})
        except TypeError:  # a store that cannot be weakly referenced: always read
            known = {}
        trigger = known.get(top)
    if trigger is not None:
        return trigger
    try:
        trigger = ctx.store.get_run(top).trigger
    except NotFound:
        return run.trigger
    with _known_lock:
        if len(known) >= _MAX_KNOWN:
            known.clear()
        known[top] = trigger
    return trigger


# Per store (a process's, or a test's runtime: run ids repeat across simulated worlds):
# top run id -> its trigger.
_known_triggers: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
_known_lock = threading.Lock()
_MAX_KNOWN = 10_000
