"""A retried subworkflow step resolved its version again at every attempt: the child of
attempt 2 ran the version active then, while the step's record kept attempt 1's
``{"workflow", "version"}`` (``mark_launched`` keeps the first), so the step's output
came from a version the step did not name, against docs/workflow-language.md ("resolved
once, when the step starts, and recorded on the child run (and on the step)"). A retry
now runs the recorded version; one that is not there any more fails the step saying so.
A restart of the run (a new run) resolves it again.

Found by review R30f."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.actions import RunAction
from podium.core.engine.errors import RunNotFound, WorkflowNotFound
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action

CALLS: list[int] = []


def fail_once(event: dict[str, Any]) -> dict[str, Any]:
    CALLS.append(1)
    if len(CALLS) == 1:
        raise RuntimeError("first call fails")
    return {"ok": True}


def always_fail(event: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("v1 always fails")


def _child_v1(function: str) -> dict[str, Any]:
    return {
        "name": "kid",
        "outputs": {"v": "one"},
        "steps": [
            {
                "id": "a",
                "type": "lambda",
                "function": f"tests.integration.test_subworkflow_retry_runs_the_version_resolved_at_start:{function}",
            }
        ],
    }


CHILD_V2 = {"name": "kid", "outputs": {"v": "two"}, "steps": [{"id": "a", "type": "noop"}]}
PARENT = {
    "name": "parent",
    "steps": [
        {
            "id": "call",
            "type": "subworkflow",
            "workflow": "kid",
            "retries": 1,
            "retry_delay_seconds": 60,
        }
    ],
}


def _started(rt: LocalRuntime, function: str) -> str:
    """Pushes kid v1 (its step calls ``function``) and the parent that calls it, and
    starts the parent; gives its run id."""
    CALLS.clear()
    rt.push(_child_v1(function))
    rt.push(PARENT)
    return rt.start_run("parent").run_id


def test_a_retried_subworkflow_step_runs_the_version_it_resolved_when_it_started(
    memory_rt: LocalRuntime,
) -> None:
    """Attempt 1's child ran kid v1 and failed; v2 was pushed (active) before the retry.
    Attempt 2 resolved "active" again and ran v2 (output "two"), while the step's record
    said v1."""
    rt = memory_rt
    run_id = _started(rt, "fail_once")
    rt.pump(advance_time=False)  # attempt 1's child failed; the retry waits 60 s
    first = rt.services.store.get_run(child_run_id(run_id, "call", 0))
    assert (first.version, first.status) == (1, RunStatus.FAILED), first
    rt.push(CHILD_V2)
    rt.pump()
    second = rt.services.store.get_run(child_run_id(run_id, "call", 1))
    step = rt.services.store.get_step(run_id, "call")
    assert step is not None and step.loop == {"workflow": "kid", "version": 1}, step
    assert second.version == 1, f"attempt 2 ran kid v{second.version}; the step records v1"
    assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
    assert step.output == {"v": "one"}


def test_a_retry_whose_recorded_version_is_gone_fails_saying_so(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attempt 2 resolved "active" again (v1, from the process's cache of definitions)
    and ran it, though the store no longer had it; it now fails the step, naming the
    version and the way to resolve again (a restart)."""
    rt = memory_rt
    run_id = _started(rt, "fail_once")
    rt.pump(advance_time=False)  # attempt 1's child failed; the retry waits 60 s
    store = rt.services.store
    kept = store.get_workflow_version

    def gone(name: str, version: int | None = None) -> Any:
        # kid v1 deleted by hand (Podium deletes no version): gone from the store.
        if (name, version) == ("kid", 1):
            raise WorkflowNotFound.no_such_version(name, 1)
        return kept(name, version)

    monkeypatch.setattr(store, "get_workflow_version", gone)
    rt.pump()
    view = rt.describe(run_id)
    assert view.run.status is RunStatus.FAILED
    error = view.run.error or ""
    assert "'kid' version 1 is not there any more" in error, error
    assert "restart the run to resolve active again" in error, error
    with pytest.raises(RunNotFound):  # no child for attempt 2
        store.get_run(child_run_id(run_id, "call", 1))


def test_a_restart_of_the_run_resolves_the_version_again(memory_rt: LocalRuntime) -> None:
    """A restart is a new run: its step starts again, and resolves "active" again."""
    rt = memory_rt
    run_id = _started(rt, "always_fail")
    rt.pump()
    assert rt.describe(run_id).run.status is RunStatus.FAILED
    rt.push(CHILD_V2)
    new = run_action(rt.services, run_id, RunAction.RESTART, Actor("me")).new_run
    assert new is not None
    rt.pump()
    assert rt.describe(new).run.status is RunStatus.SUCCEEDED
    child = rt.services.store.get_run(child_run_id(new, "call", 0))
    assert child.version == 2
    step = rt.services.store.get_step(new, "call")
    assert step is not None and step.loop == {"workflow": "kid", "version": 2}, step
