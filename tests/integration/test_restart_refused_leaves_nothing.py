"""A restart refused for its params (a bad ``-p`` value, 400) leaves nothing behind: the
steps it would take over are written only once the new run's params passed their
checks. Before, they were written first, stayed under ``RUN-r1`` with no run, and the
operator's next restart (the same derived id) found them: ``--from beginning`` or
``--from STEP`` did not run them again and kept their old outputs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from podium.service.restart import RestartRequest

WF = {
    "name": "etl",
    "params": {"n": {"type": "int", "default": 1}},
    "steps": [
        {"id": "extract", "type": "noop"},
        {"id": "load", "type": "fail", "depends_on": ["extract"]},
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


@pytest.mark.parametrize("start_from", ["beginning", "extract"])
def test_a_restart_after_a_refused_one_reruns_what_it_asks_for(
    rt: LocalRuntime, start_from: str
) -> None:
    rt.push(WF)
    run_id = rt.start_run("etl").run_id
    rt.pump()
    assert rt.store.get_run(run_id).status is RunStatus.FAILED
    me = Actor("op", "fixing")

    with pytest.raises(DefinitionError):  # a typo in -p: refused, nothing should change
        run_action(rt.services, run_id, RunAction.RESTART, me, RestartRequest(params={"n": "two"}))

    new = run_action(
        rt.services,
        run_id,
        RunAction.RESTART,
        me,
        RestartRequest(start_from=start_from, params={"n": 2}),
    ).new_run
    assert new is not None
    rt.pump()
    extract = rt.store.get_step(new, "extract")
    assert extract is not None
    # From the beginning (or from extract), extract runs again with n=2; it is not
    # taken over from the old run.
    assert not (extract.reason or "").startswith("reused from run"), extract.reason
