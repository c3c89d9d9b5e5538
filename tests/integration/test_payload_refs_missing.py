"""A payload that was gone when a step read it hung the run.

Payload objects expire ``run_retention_days`` + 30 days after they were written and
nothing renews them (docs/architecture.md), while a long run's items are renewed by the
sweeper; locally a file may be deleted by hand. A step whose templates read such a value
crashed its worker on every delivery (service/bindings.py resolve_output let the
PayloadNotFound out) and ended, hours later, as "the worker running this attempt
stopped" (a lost worker, retried on the platform budget).

Now a value whose payload is gone is an expression error that names it
(bindings.MissingPayload): the step fails at once, or a ``when:`` fails the run, and
GET /runs/{id} shows params whose payload is gone as their reference marked
``missing``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.outputs import is_ref
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_payload_refs_missing"


def big(event: dict[str, Any]) -> dict[str, Any]:
    return {"rows": ["x" * 100] * 200}  # ~20 KB: stored by reference (over 8 KiB)


def echo(event: dict[str, Any]) -> Any:
    return event["payload"]


WF = {
    "name": "reads_gone",
    "steps": [
        {"id": "a", "type": "lambda", "function": f"{HERE}:big"},
        {"id": "w", "type": "sleep", "seconds": 60, "depends_on": ["a"]},
        {
            "id": "b",
            "type": "lambda",
            "function": f"{HERE}:echo",
            "depends_on": ["w"],
            "payload": {"n": "${size(steps.a.output.rows)}"},
        },
    ],
}


def test_a_step_reading_a_deleted_payload_fails_naming_it(tmp_path: Path) -> None:
    home = tmp_path / ".podium"
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=home) as rt:
        rt.push(WF)
        run_id = rt.start_run("reads_gone").run_id
        rt.pump(advance_time=False)  # a ends (its output a payload file); w sleeps
        steps = {s.step: s for s in rt.describe(run_id).steps}
        assert is_ref(steps["a"].output)
        shutil.rmtree(home / "payloads" / run_id / "a")  # expired (S3 lifecycle), deleted
        rt.pump()
        view = rt.describe(run_id)
    b = {s.step: s for s in view.steps}["b"]
    # Before: b's worker raised PayloadNotFound out of the handler on every delivery; b
    # stayed RUNNING until its lease passed, then was retried as a lost worker (10 times,
    # hours) and failed with "the worker running this attempt stopped before it recorded a
    # result", which never says a payload is gone.
    assert b.status is StepStatus.FAILED, (b.status, b.attempt, b.error)
    assert b.attempt == 1, b.error
    assert b.error is not None and "not found" in b.error.lower() and "payload" in b.error.lower()
    assert view.run.status is RunStatus.FAILED


WHEN_WF = {
    "name": "branch_on_gone",
    "steps": [
        {"id": "a", "type": "lambda", "function": f"{HERE}:big"},
        {"id": "w", "type": "sleep", "seconds": 60, "depends_on": ["a"]},
        {
            "id": "b",
            "type": "noop",
            "depends_on": [{"step": "w", "when": "size(steps.a.output.rows) > 1"}],
        },
    ],
}


def test_a_condition_reading_a_deleted_payload_ends_the_run_naming_it(tmp_path: Path) -> None:
    """The same read in a ``when:`` (evaluated as w ends, service/bindings.py
    EdgeConditions) raised out of the end's follow-ups: w was SUCCEEDED, its successors
    were never decided, and every sweeper pass replayed the end and raised again. The
    run stayed RUNNING for good (checked here over a day of sweeps). Now the condition
    fails, as one that cannot be evaluated does, and so does the run."""
    from podium.service.sweep import sweep

    home = tmp_path / ".podium"
    clock = ManualClock()
    with LocalRuntime(store="sqlite", clock=clock, home=home) as rt:
        rt.push(WHEN_WF)
        run_id = rt.start_run("branch_on_gone").run_id
        rt.pump(advance_time=False)
        shutil.rmtree(home / "payloads" / run_id / "a")
        for _ in range(8):  # a day: the sweeper's passes, as the deployed stack runs them
            rt.pump()
            if rt.describe(run_id).run.status.terminal:
                break
            clock.advance(3 * 3600 * 1000)
            sweep(rt.services, rt.store)
        view = rt.describe(run_id)
    assert view.run.status is RunStatus.FAILED, (
        view.run.status,
        [(s.step, s.status.value) for s in view.steps],
    )
    assert view.run.error is not None and "not found" in view.run.error.lower()


def test_the_api_shows_a_run_whose_params_payload_is_gone(tmp_path: Path) -> None:
    """GET /runs/{id} resolved a run's params stored by reference (service/runs.py
    describe_run, ``run_params``) without the care the console takes
    (console_views._shown_value: the reference with ``missing``): the PayloadNotFound
    (a NotFound) became a 404 ``not_found`` for a run that exists, and ``podium runs
    show`` (local and remote) could not show the run at all, not even its status. Now
    it shows the params' reference marked ``missing``, as the console does."""
    from tests.integration.test_api import call

    wf = {
        "name": "params_gone",
        "params": {"rows": {"type": "list", "default": []}},
        "steps": [{"id": "a", "type": "noop"}],
    }
    home = tmp_path / ".podium"
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=home) as rt:
        rt.push(wf)
        run_id = rt.start_run("params_gone", {"rows": ["r" * 50] * 200}).run_id  # ~10 KB
        rt.pump()
        assert is_ref(rt.store.get_run(run_id).params)
        for stored in (home / "payloads" / run_id).glob("params-*.json"):
            stored.unlink()
        status, body = call("GET", f"/runs/{run_id}")
    # Before: 404 {"code": "not_found", "message": "payload file:///... not found ..."}.
    assert status == 200, body
    assert body["run"]["status"] == "SUCCEEDED"
