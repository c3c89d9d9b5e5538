"""A queued run's place (``waiting``: ``queued at position P of N``) in a queue longer
than one read of it (1,000 entries): ``admission.waiting_reason`` read the first 1,000
entries only."""

from __future__ import annotations

import pytest

from podium.local.runtime import LocalRuntime
from podium.service import admission
from podium.service.runs import describe_run
from tests.integration.test_last_only_switch_over_a_queue_longer_than_a_page import (
    QUEUED,
    _queue_paused,
    rt,
)

__all__ = ["rt"]  # the fixture


@pytest.fixture
def runs(rt: LocalRuntime) -> list[str]:
    return _queue_paused(rt, QUEUED)


def _waiting(rt: LocalRuntime, run_id: str) -> str:
    return describe_run(rt.services, run_id).waiting or ""


def test_a_queued_run_past_the_1000th_is_told_its_place_and_the_queue_length(
    rt: LocalRuntime, runs: list[str]
) -> None:
    """With 1,003 runs queued, ``podium runs show`` of the last one said only "queued"
    (no position), and the first one "position 1 of 1000". Both now count the whole
    queue: "position 1 of 1,003" and "position 1,003 of 1,003"."""
    assert _waiting(rt, runs[0]).startswith("queued at position 1 of 1,003;")
    assert _waiting(rt, runs[-1]).startswith("queued at position 1,003 of 1,003;")


def test_a_queue_longer_than_the_read_says_so(
    rt: LocalRuntime, runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The place is counted from at most ``PLACE_READ`` entries (it is read by the API
    and the console's polls): past them, the count is a lower bound, never a wrong
    total, and a run beyond them is told how many are ahead of it at least."""
    monkeypatch.setattr(admission, "PLACE_READ", 1_000)
    assert _waiting(rt, runs[0]).startswith("queued at position 1 of 1,000+;")
    assert _waiting(rt, runs[-1]).startswith("queued behind 1,000+ runs;")
