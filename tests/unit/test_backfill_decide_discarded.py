"""Backfill decisions for a time whose latest run the run strategy discarded."""

from __future__ import annotations

import pytest

from podium.core.engine.backfill import Action, Reprocess, decide
from podium.core.engine.status import RunStatus


@pytest.mark.parametrize("reprocess", list(Reprocess))
def test_a_time_whose_run_was_discarded_is_started_again(reprocess: Reprocess) -> None:
    """A later backfill skipped a time whose run first_only or last_only had DISCARDED
    as "a run exists", though that run never ran: the time was never run by any."""
    decision = decide(RunStatus.DISCARDED, reprocess)
    assert decision.action is Action.START
    assert "discarded" in decision.reason


def test_a_stopped_or_succeeded_run_still_counts_as_run() -> None:
    assert decide(RunStatus.STOPPED, Reprocess.NONE).action is Action.SKIP
    assert decide(RunStatus.SUCCEEDED, Reprocess.FAILED).action is Action.SKIP
    assert decide(RunStatus.STOPPED, Reprocess.FAILED).action is Action.RERUN
    assert decide(RunStatus.QUEUED, Reprocess.ALL).action is Action.SKIP
