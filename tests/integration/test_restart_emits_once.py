"""A restart takes over the steps that succeeded "with their outputs and not run again",
and a step's ``emit`` is sent only when the step succeeds: a step taken over sends
nothing again. Before, a taken-over step below a root (reached by its predecessor's
propagation, its claim finding it SUCCEEDED, the lost claim replaying it) sent its
``emit`` again under the new run's request id: a second signal, which a signal
trigger takes as a new one (a duplicate downstream run)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

EMIT = [{"signal": "edge_done", "params": {"day": "2026-01-15"}}]


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def emitted(rt: LocalRuntime) -> list[str]:
    found = rt.store.signals().find("edge_done", [], now=rt.services.now(), limit=10)
    return sorted(s.request_id for s in found)


@pytest.mark.parametrize("edge_is_root", [True, False])
def test_a_restart_does_not_emit_again_for_a_step_it_takes_over(
    rt: LocalRuntime, edge_is_root: bool
) -> None:
    steps: list[dict[str, object]] = [
        {"id": "edge", "type": "noop", "emit": EMIT},
        {"id": "bad", "type": "fail", "depends_on": ["edge"]},
    ]
    if not edge_is_root:
        steps = [{"id": "root", "type": "noop"}, {**steps[0], "depends_on": ["root"]}, steps[1]]
    rt.push({"name": "emitter", "steps": steps})
    run_id = rt.start_run("emitter").run_id
    rt.pump()
    assert rt.store.get_run(run_id).status is RunStatus.FAILED
    assert emitted(rt) == [f"emit:{run_id}/edge/0"]

    new = run_action(rt.services, run_id, RunAction.RESTART, Actor("op", "fixed")).new_run
    assert new is not None
    rt.pump()
    edge = rt.store.get_step(new, "edge")
    assert edge is not None and edge.status is StepStatus.SUCCEEDED
    assert (edge.reason or "").startswith("reused from run")  # taken over, not run again
    # Only the old run's success sent the signal; the restart took the step over.
    assert emitted(rt) == [f"emit:{run_id}/edge/0"]
