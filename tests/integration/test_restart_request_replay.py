"""docs/operations.md: "Every action takes a request id: the same id with the same body
answers what the first request did and does nothing more". An action is recorded (its
timeline event, keyed by the request id) only after its writes. A restart whose request
died between creating the new run and recording the action (a throttled put past the
retry quota, a Lambda timeout: the client gets a 5xx and asks again with the same id)
was refused 409 ``already restarted as RUN-r1 ... restart RUN-r1 instead`` instead of
being answered with the run it created (following the hint restarted a second time).
The new run now keeps the request id: the retry is answered with it, and its record
written."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.core.engine.actions import ActionRefused, RunAction
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

from .keyed_queue import STORES, keyed_runtime


@pytest.fixture(params=[*STORES, "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    with keyed_runtime(request.param) as runtime:  # the run keeps its request id on each
        yield runtime


def test_a_restart_asked_again_with_its_request_id_after_a_crash_answers_the_restart(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt.push({"name": "broken", "steps": [{"id": "a", "type": "fail"}]})
    run_id = rt.start_run("broken").run_id
    rt.pump()
    assert rt.store.get_run(run_id).status is RunStatus.FAILED

    put_event = rt.store.put_event
    lost: list[str] = []

    def crash_once(event: Any) -> None:
        if event.kind == "action" and not lost:
            lost.append(event.event_id)
            raise RuntimeError("ProvisionedThroughputExceededException (retries exhausted)")
        put_event(event)

    monkeypatch.setattr(rt.store, "put_event", crash_once)
    actor = Actor("op", "fixed the feed", "req-restart-1")
    with pytest.raises(RuntimeError):
        run_action(rt.services, run_id, RunAction.RESTART, actor)
    assert lost  # the new run was created, the action not recorded

    try:
        again = run_action(rt.services, run_id, RunAction.RESTART, actor)
    except ActionRefused as refused:  # the bug: a 409 telling to restart the new run
        pytest.fail(f"the same request id was refused: {refused}")
    assert again.new_run == f"{run_id}-r1" and again.repeated
    assert rt.store.get_run(f"{run_id}-r1").request_id == "req-restart-1"
    events = [e for e in rt.store.list_events(run_id) if e.kind == "action"]
    assert len(events) == 1  # the record the crash lost, written once
    # Another request is a second restart: refused, naming the first.
    with pytest.raises(ActionRefused, match="already restarted"):
        run_action(rt.services, run_id, RunAction.RESTART, Actor("op", None, "req-other"))
