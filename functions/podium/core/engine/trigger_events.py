"""What a trigger may start from what it is given: pure rules the service applies.

- A ``bus: podium`` event trigger sees Podium's own run and step status changes (and
  its callback tokens, which carry their run's ``trigger`` and ``chain`` alike). One
  that matches the status changes of the runs it started itself starts a run from each
  run it started, forever (a "retry on failure" pattern on its own workflow's FAILED):
  ``self_started`` refuses that event, and says how to write the pattern instead.
- A cycle through other workflows (A's runs start B, B's runs start A) loops as well,
  and no single trigger sees it. Each run a ``bus: podium`` trigger starts from a
  status change is one link further down a chain (``RunRecord.chain``: the changed
  run's chain + 1; every other run starts one at 0), and the status changes carry it
  (``detail.chain``): ``chain_too_long`` refuses to start a run past ``MAX_CHAIN``
  links. A chain that long is a cycle far more often than a pipeline.
- A pattern matching several status changes of one run (RUNNING and SUCCEEDED, or every
  step's) starts one run per change: down a cycle, the runs multiply at each link (2
  statuses: 2, 4, 8 ... 1,024 runs at link 10). Past ``ONCE_PER_RUN_FROM`` links a
  trigger starts at most one run per run whose status changed (``podium_link``): the
  runs of a cycle then grow by the fan-out of its first links only, not at every one.
- An event's run id is derived from the event alone (``event_time``): a redelivery of
  it, a minute or a day later, finds the run the first delivery started.
- A rate trigger's firing stands for its slot (core/engine/backfill.py): the run's time
  and logical date are the slot's (``rate_firing``), as a backfill of the same run id
  gives them, not the firing's, which falls anywhere in the slot; its catch-up counts
  the slots missed (``missed_slots``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podium.core.engine.backfill import rate_anchor, rate_slot
from podium.core.engine.schedule import last_rate_times, parse_iso


def self_started(detail: Mapping[str, Any], workflow: str, trigger: str, label: str) -> str | None:
    """Why a status change (its ``detail``, docs/events.md) must start no run of
    ``workflow`` by its trigger ``trigger`` (whose runs carry ``label`` as their
    ``trigger``), else None: the change is of a run this very trigger started, so each
    run it starts would, changing status, start the next."""
    if detail.get("workflow") != workflow or detail.get("trigger") != label:
        return None
    return (
        f"event trigger '{trigger}' of '{workflow}' matched {_change(detail)}, a run it"
        " started itself: each of its runs would start the next, without end, so none"
        " was started. Exclude its"
        f' own runs in the pattern (detail: {{trigger: [{{anything-but: "{label}"}}]}}),'
        " or retry with the steps' retries instead"
    )


def _change(detail: Mapping[str, Any], *, workflow: bool = False) -> str:
    """What a status change or callback token event (its ``detail``) says, in words
    (``workflow``: naming the run's workflow too)."""
    run = f"run {detail.get('run_id')}"
    if workflow:
        run += f" of '{detail.get('workflow')}'"
    if "token" in detail:  # a callback token has no status: its step waits
        return f"the callback token of step {detail.get('step')!r} of {run}"
    return f"the status change of {run} ({detail.get('status')})"


# How many runs in a row ``bus: podium`` triggers may start, each from the status change
# of the one before (A -> B -> A ...): 10, as deep as loops and subworkflows may nest
# (core/engine/identity.py), and far longer than any pipeline written as triggers.
MAX_CHAIN = 10


def chain_of(detail: Mapping[str, Any]) -> int:
    """The chain of the run a status change is of (0 for one from an older release,
    which sent none, or a value that is not a count)."""
    chain = detail.get("chain")
    if isinstance(chain, bool) or not isinstance(chain, int) or chain < 0:
        return 0
    return chain


def chain_too_long(detail: Mapping[str, Any], workflow: str, trigger: str) -> str | None:
    """Why a status change (its ``detail``) must start no run of ``workflow`` by its
    ``bus: podium`` trigger ``trigger``, else None: the run it is of was already started
    ``MAX_CHAIN`` links down a chain of such triggers, so the run started now would be
    one more (a cycle of triggers through other workflows would never end)."""
    chain = chain_of(detail)
    if chain < MAX_CHAIN:
        return None
    return (
        f"event trigger '{trigger}' of '{workflow}' matched"
        f" {_change(detail, workflow=True)}, whose detail.chain is {chain}: `bus: podium`"
        " triggers started it and the"
        f" {chain - 1} runs before it, each from an event of the one before. At"
        f" most {MAX_CHAIN} runs are started in a row that way (a cycle of triggers, A"
        " starting B and B starting A, would never end), so none was started. Break the"
        " cycle: narrow a pattern in it, or start only from runs no such trigger started"
        ' (detail: {chain: [0]}, or {trigger: [{anything-but: {prefix: "event:"}}]})'
    )


# From how many links down a chain a ``bus: podium`` trigger starts at most one run per
# run whose status changed, whatever the number of its changes it matches. A pipeline of
# up to this many links (etl -> report -> publish -> notify) keeps one run per change.
ONCE_PER_RUN_FROM = 3


@dataclass(frozen=True)
class Link:
    """What a ``bus: podium`` trigger may start from one status change (``podium_link``).

    ``refused``: why it may start none (and ``where``, the field of the event that says
    so), else None. ``chain``: the chain of the run it starts. ``per_run``: the (key,
    time) that names its firing for the whole run whose status changed, so that any
    further change of that run starts no second run; None: each change is a firing of
    its own."""

    chain: int
    refused: str | None = None
    where: str = "event"
    per_run: tuple[str, int] | None = None


def podium_link(detail: Mapping[str, Any], workflow: str, trigger: str, label: str) -> Link:
    """The link a status change (its ``detail``) makes when it matches the ``bus:
    podium`` trigger ``trigger`` of ``workflow`` (whose runs carry ``label``): refused
    when the change is of a run the trigger started itself (``self_started``) or of a
    run already ``MAX_CHAIN`` links down (``chain_too_long``); past ``ONCE_PER_RUN_FROM``
    links, one run per changed run (a change without its run's ``created_at``, a step's,
    stays a firing of its own)."""
    chain = chain_of(detail)
    own = self_started(detail, workflow, trigger, label)
    if own is not None:
        return Link(chain + 1, own, "event.detail.trigger")
    too_long = chain_too_long(detail, workflow, trigger)
    if too_long is not None:
        return Link(chain + 1, too_long, "event.detail.chain")
    run_id, created = detail.get("run_id"), detail.get("created_at")
    if (
        chain >= ONCE_PER_RUN_FROM
        and isinstance(run_id, str)
        and isinstance(created, int)
        and not isinstance(created, bool)
    ):
        return Link(chain + 1, per_run=(f"podium-run:{run_id}", created))
    return Link(chain + 1)


def rate_firing(minutes: int, since_ms: int, at_ms: int) -> int:
    """The time a rate trigger's firing at ``at_ms`` runs for: the start of its slot,
    the slots counted from the trigger's ``since`` (as a backfill counts them)."""
    return rate_slot(minutes, rate_anchor(since_ms), at_ms)


def missed_slots(minutes: int, since_ms: int, fired_ms: int, at_ms: int, keep: int) -> list[int]:
    """The newest ``keep`` slots (their starts, oldest first) a rate trigger missed
    between its last firing at ``fired_ms`` and its firing at ``at_ms``: those after the
    last firing's slot and before this firing's, which the firing itself runs. Counted in
    slots, not from the last firing's raw time: ``enable`` makes the schedule again, and
    Scheduler counts a rate from when a schedule is made, so its firings after a pause
    fall at another minute of the period than those before."""
    anchor = rate_anchor(since_ms)
    fired = rate_slot(minutes, anchor, fired_ms)
    current = rate_slot(minutes, anchor, at_ms)
    return last_rate_times(minutes, anchor, fired, current - 1, keep)


# The largest time a ULID holds (48 bits of milliseconds): a run id's time part.
MAX_ID_MS = (1 << 48) - 1


def event_time(event: Mapping[str, Any]) -> int | None:
    """The time an event says it happened, as epoch ms: its ``time``, ISO 8601 as
    EventBridge sets it on every event (or epoch milliseconds, as a hand-made one may
    give it); None when it has none that reads so. Never the time it is handled: that
    is another on each delivery, and the time is part of its run's id."""
    time = event.get("time")
    if isinstance(time, str):
        try:
            ms = parse_iso(time)
        except ValueError:
            return None
    elif isinstance(time, int) and not isinstance(time, bool):
        ms = time
    else:
        return None
    return ms if 0 <= ms <= MAX_ID_MS else None
