"""A queued run's place (``waiting``: ``queued at position P of N``) in a queue longer
than one read of it (1,000 entries): ``admission.waiting_reason`` read the first 1,000
entries only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service import admission
from podium.service.runs import describe_run

QUEUED = 1_003  # just over the 1,000 entries one read of the queue takes


@pytest.fixture(params=["memory", "sqlite"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    kwargs: dict[str, object] = {"store": request.param, "clock": ManualClock()}
    if request.param == "sqlite":
        kwargs |= {"home": ":memory:", "capture_output": False}
    with LocalRuntime(**kwargs) as runtime:  # type: ignore[arg-type]
        yield runtime


@pytest.fixture
def runs(rt: LocalRuntime) -> list[str]:
    rt.push(
        {
            "name": "longq",
            "run_strategy": {"parallel": 0},  # paused: every start waits QUEUED
            "steps": [{"id": "nap", "type": "sleep", "seconds": 600}],
        }
    )
    started = []
    for _ in range(QUEUED):
        started.append(rt.start_run("longq").run_id)
        rt.clock.advance(1)  # one per millisecond: arrival order is creation order
    return started


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
