"""A backfill cancel was ordered against backfills by the millisecond only.

``cancel`` marked the trigger's state with ``now``, and a driver stopped when that mark
was at or after the ``since`` its backfill was given (``ctx.now()`` when the driver was
sent). Two orderings the docs promise came out wrong:

- a backfill asked for right after a cancel, in the same millisecond, was stopped
  (the docs: "A backfill asked for after the cancel runs");
- a backfill request in flight when the cancel came (planned and its first runs
  started before the cancel, its driver sent after it) ran on.

The state now counts cancels (an atomic add); a backfill reads the count before it
starts anything, and its driver stops once the count moved past it."""

from __future__ import annotations

import pytest

from podium.local.runtime import LocalRuntime
from podium.service import backfill as backfill_module
from podium.service.backfill import BackfillRequest, backfill_request, cancel
from tests.integration.test_backfill_cancel import FIVE_DAYS, _dates, rt

__all__ = ["rt"]  # the fixture: one workflow, a daily cron, pushed at 2026-04-01 12:00


def test_a_backfill_asked_for_after_a_cancel_in_the_same_millisecond_runs(
    rt: LocalRuntime,
) -> None:
    cancel(rt.services, "bf_cancel", None, "op")
    # Asked for after the cancel returned (no time passed: the same millisecond).
    asked = backfill_request(rt.services, "bf_cancel", BackfillRequest.model_validate(FIVE_DAYS))
    assert len(asked["started"]) == 1 and asked["waiting_for_max_active"] == 4
    rt.pump()
    # Before the fix: ["2026-03-01"] (its driver counted the earlier cancel as its own).
    assert _dates(rt) == [f"2026-03-0{d}" for d in range(1, 6)]


def test_a_cancel_during_a_backfill_request_stops_its_driver(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_start = backfill_module._start
    clock = rt.services.clock
    cancelled: list[str] = []

    def start_then_cancel(ctx, workflow, tid, entry):  # type: ignore[no-untyped-def]
        run = real_start(ctx, workflow, tid, entry)
        if not cancelled:  # another request cancels while this one starts its runs
            clock.advance(5)  # type: ignore[attr-defined]
            cancelled.append(cancel(rt.services, "bf_cancel", None, "op")["cancelled_at"])
            clock.advance(5)  # type: ignore[attr-defined]
        return run

    monkeypatch.setattr(backfill_module, "_start", start_then_cancel)
    asked = backfill_request(rt.services, "bf_cancel", BackfillRequest.model_validate(FIVE_DAYS))
    assert cancelled and asked["waiting_for_max_active"] == 4
    monkeypatch.setattr(backfill_module, "_start", real_start)
    rt.pump()
    # Asked for before the cancel: it starts no more runs. Before the fix, all five ran.
    assert _dates(rt) == ["2026-03-01"]
