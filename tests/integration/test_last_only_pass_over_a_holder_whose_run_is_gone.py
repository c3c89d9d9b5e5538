"""last_only's replacement pass (lifecycle.supersede) over a slot whose holder's run is
gone (deleted by hand, or expired while holding).

The pass read every holder's run with no guard: a start of the workflow raised
RunNotFound, and so did the sweeper's redo of the pass, while the sweeper and
``unblock`` treated such a holder as a free slot."""

from __future__ import annotations

from podium.adapters.clock import ManualClock
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime


def _wf() -> dict[str, object]:
    return {
        "name": "ghost_last",
        "run_strategy": "last_only",
        "steps": [{"id": "nap", "type": "sleep", "seconds": 60}],
    }


def test_a_start_over_a_gone_holder_took_its_slot() -> None:
    """A start under last_only while the slot's holder run was gone raised RunNotFound
    (the run created, QUEUED, its start answered with an error). The gone holder is now
    no candidate and its slot is given back: the new run starts at once."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(_wf())
        gone = rt.start_run("ghost_last").run_id
        assert rt.store.get_run(gone).status is RunStatus.RUNNING
        rt.store._runs.pop(gone)  # type: ignore[attr-defined]
        rt.store._steps.pop(gone, None)  # type: ignore[attr-defined]
        newer = rt.start_run("ghost_last").run_id
        assert rt.store.get_run(newer).status is RunStatus.RUNNING
        assert gone not in rt.store.run_slots().state("ghost_last").holders
        rt.pump()
        assert rt.store.get_run(newer).status is RunStatus.SUCCEEDED
