"""What a trigger may start from what it is given: pure rules the service applies.

- A ``bus: podium`` event trigger sees Podium's own run and step status changes. One
  that matches the status changes of the runs it started itself starts a run from each
  run it started, forever (a "retry on failure" pattern on its own workflow's FAILED):
  ``self_started`` refuses that event, and says how to write the pattern instead.
- A rate trigger's firing stands for its slot (core/engine/backfill.py): the run's time
  and logical date are the slot's (``rate_firing``), as a backfill of the same run id
  gives them, not the firing's, which falls anywhere in the slot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podium.core.engine.backfill import rate_anchor, rate_slot


def self_started(detail: Mapping[str, Any], workflow: str, trigger: str, label: str) -> str | None:
    """Why a status change (its ``detail``, docs/events.md) must start no run of
    ``workflow`` by its trigger ``trigger`` (whose runs carry ``label`` as their
    ``trigger``), else None: the change is of a run this very trigger started, so each
    run it starts would, changing status, start the next."""
    if detail.get("workflow") != workflow or detail.get("trigger") != label:
        return None
    return (
        f"event trigger '{trigger}' of '{workflow}' matched the status change of run"
        f" {detail.get('run_id')} ({detail.get('status')}), a run it started itself: each"
        " of its runs would start the next, without end, so none was started. Exclude its"
        f' own runs in the pattern (detail: {{trigger: [{{anything-but: "{label}"}}]}}),'
        " or retry with the steps' retries instead"
    )


def rate_firing(minutes: int, since_ms: int, at_ms: int) -> int:
    """The time a rate trigger's firing at ``at_ms`` runs for: the start of its slot,
    the slots counted from the trigger's ``since`` (as a backfill counts them)."""
    return rate_slot(minutes, rate_anchor(since_ms), at_ms)
