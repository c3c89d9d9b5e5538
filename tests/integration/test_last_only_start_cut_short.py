"""last_only: a start that died after queuing its run and before its replacement pass
(an API call whose Lambda died, never retried) left the older run holding the slot and
the newer one queued behind it until the older ended (with a signal wait, never). The
sweeper redoes the pass: the older run is stopped, the newer one runs."""

from __future__ import annotations

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service import runs
from podium.service.sweep import sweep


class Died(RuntimeError):
    pass


def test_the_sweeper_redoes_the_replacement_pass_of_a_start_cut_short(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with LocalRuntime(clock=ManualClock(), store="memory") as runtime:
        runtime.push(
            {
                "name": "latest",
                "run_strategy": "last_only",
                "steps": [{"id": "nap", "type": "sleep", "seconds": 3 * 3600}],
            }
        )
        older = runtime.start_run("latest").run_id
        runtime.pump(advance_time=False)

        def dies(*args: object) -> None:
            raise Died("the start's Lambda died after queuing its run")

        monkeypatch.setattr(runs, "supersede", dies)
        with pytest.raises(Died):
            runtime.start_run("latest")
        monkeypatch.undo()
        (newer,) = [r.run_id for r in runtime.store.list_runs("latest", 10) if r.run_id != older]
        assert runtime.describe(newer).run.status.value == "QUEUED"
        start = runtime.clock.now_ms()
        for minute in range(1, 12):
            runtime.clock.advance_to(start + minute * 60_000)
            sweep(runtime.services, runtime.store)
            runtime.pump(advance_time=False)
        assert runtime.describe(older).run.status.value == "STOPPED"
        assert runtime.describe(newer).run.status.value == "RUNNING"
