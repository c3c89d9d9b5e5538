"""A loop's failure policy does not trust the launched mark to say what runs: a launch
raises it only after it created its children (service/loops.launch), so while another
invocation is between the two (or died there), ``launched - ended`` misses a running
iteration. fail_fast stops it all the same (before, the step failed and left it
running), and finish_running waits for it before failing (before, the step failed
first). The tests hold the mark back for the launch of iteration 2 (the store's
``mark_launched`` skips that one write) to stand for the launcher in flight."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_loop_mark_lag"


def work(event: dict[str, Any]) -> int:
    return int(event["payload"]["i"])


def boom(event: dict[str, Any]) -> None:
    raise ValueError("iteration 1 fails")


DOC = {
    "name": "ff_unmarked",
    "steps": [
        # Keeps the run going after the loop failed (its children are not stopped by
        # the run's end before we look).
        {"id": "long", "type": "sleep", "seconds": 3600},
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": [0, 1, 2]},
            "concurrency": 2,
            "on_failure": "fail_fast",
            "steps": [
                {
                    "id": "w",
                    "type": "lambda",
                    "function": f"{HERE}:work",
                    "payload": {"i": "${iteration.i}"},
                },
                # iteration 1: fails after 60 s; iteration 2: runs 600 s; iteration 0: ends now.
                {
                    "id": "hold",
                    "type": "sleep",
                    "seconds": 60,
                    "depends_on": [{"step": "w", "when": "iteration.i == 1"}],
                },
                {"id": "f", "type": "lambda", "function": f"{HERE}:boom", "depends_on": ["hold"]},
                {
                    "id": "nap",
                    "type": "sleep",
                    "seconds": 600,
                    "depends_on": [{"step": "w", "when": "iteration.i == 2"}],
                },
            ],
        },
    ],
}


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _held_back_start(
    mem: LocalRuntime, monkeypatch: pytest.MonkeyPatch, on_failure: str
) -> tuple[str, str]:
    """Iterations 0-2 launched (2 after 0 ended), its mark held back; iteration 1 then
    fails. Returns (the run, iteration 2's run)."""
    store = mem.services.store
    original = store.mark_launched

    def mark_held_back(run_id: str, step: str, launched: int, loop: Any = None) -> None:
        if step == "each" and launched == 3:
            return  # the launcher of iteration 2 has created it, not marked it yet
        original(run_id, step, launched, loop)

    monkeypatch.setattr(store, "mark_launched", mark_held_back)
    doc = copy.deepcopy(DOC)
    doc["steps"][1]["on_failure"] = on_failure
    mem.push(doc)
    run = mem.start_run("ff_unmarked")
    mem.pump(wait=False)
    third = child_run_id(run.run_id, "each", 2)
    assert store.get_run(third).status is RunStatus.RUNNING  # launched after 0 ended
    _advance(mem, 61_000)  # iteration 1 fails
    mem.pump(wait=False)
    assert store.get_run(child_run_id(run.run_id, "each", 1)).status is RunStatus.FAILED
    assert store.get_run(run.run_id).status is RunStatus.RUNNING
    return run.run_id, third


def _advance(mem: LocalRuntime, ms: int) -> None:
    clock = mem.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance_to(clock.now_ms() + ms)


def test_fail_fast_stops_an_iteration_whose_launch_mark_is_not_raised_yet(
    mem: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, third = _held_back_start(mem, monkeypatch, "fail_fast")
    store = mem.services.store
    each = store.get_step(run, "each")
    assert each is not None and each.status is StepStatus.FAILED
    # fail_fast: the iterations still running are stopped when the step fails.
    assert store.get_run(third).status is RunStatus.STOPPED, store.get_run(third)


def test_finish_running_waits_for_an_iteration_whose_launch_mark_is_not_raised_yet(
    mem: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, third = _held_back_start(mem, monkeypatch, "finish_running")
    store = mem.services.store
    each = store.get_step(run, "each")
    assert each is not None and each.status is StepStatus.RUNNING, each
    assert store.get_run(third).status is RunStatus.RUNNING
    _advance(mem, 600_000)  # iteration 2 ends, then the step fails
    mem.pump(wait=False)
    assert store.get_run(third).status is RunStatus.SUCCEEDED, store.get_run(third)
    each = store.get_step(run, "each")
    assert each is not None and each.status is StepStatus.FAILED, each
    assert (each.children_ok, each.children_failed) == (2, 1), each
