"""A step that failed for good and was then retried in place by an operator (``podium
steps retry``, the console's "Retry now" on a FAILED step while its run still runs) has
no ``retry`` timeline item for that first attempt, only its ``failed`` item. The CLI's
attempt list (``cli/timeline.attempts_of``: ``podium runs timeline``, ``podium runs show
RUN --step``, local and remote) and the deployed ``podium runs logs RUN STEP --attempt N``
(``service/step_logs``) built the earlier attempts from ``retry`` items only: the
attempt that failed for good was missing (the console was fixed for the same thing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.cli.timeline import attempts_of, timeline
from podium.core.engine.actions import StepAction
from podium.core.ports import Invocation, InvocationResult
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, step_action
from tests.integration.test_api import call

runner = CliRunner()
HERE = "tests.integration.test_cli_attempts_after_retry_in_place"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:etl-load"


def always_fails(event: dict[str, Any]) -> None:
    raise ValueError("down for maintenance")


# ``bad`` fails for good; ``long`` sleeps on, so the run still runs and ``bad`` can be
# retried in place.
WF = {
    "name": "retry_in_place",
    "steps": [
        {"id": "bad", "type": "lambda", "function": f"{HERE}:always_fails"},
        {"id": "long", "type": "sleep", "seconds": 600},
    ],
}


def _retried_in_place(rt: LocalRuntime) -> str:
    """A run whose step ``bad`` failed for good, was retried in place 5 s later and
    failed again."""
    rt.push(WF)
    run_id = rt.start_run("retry_in_place").run_id
    rt.pump(advance_time=False)
    clock = rt.services.clock
    assert isinstance(clock, ManualClock)
    clock.advance(5_000)
    step_action(rt.services, run_id, "bad", StepAction.RETRY, Actor("alice", "feed is back"))
    rt.pump(advance_time=False)
    record = rt.services.store.get_step(run_id, "bad")
    assert record is not None and record.attempt == 2 and record.status.value == "FAILED"
    return run_id


def _both_failed(attempts: list[dict[str, Any]], start: int) -> None:
    bad = [a for a in attempts if a["step"] == "bad"]
    assert [(a["attempt"], a["status"]) for a in bad] == [(1, "FAILED"), (2, "FAILED")]
    assert bad[0]["started_at"] == start and bad[1]["started_at"] == start + 5_000
    assert all("down for maintenance" in (a["error"] or "") for a in bad)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Path, str, int]]:
    """The run, in a local home (SQLite), and when its first attempt started."""
    with LocalRuntime(store="sqlite", clock=ManualClock(), home=tmp_path) as rt:
        start = rt.services.now()
        yield tmp_path, _retried_in_place(rt), start


def test_the_local_timeline_lists_the_attempt_that_failed_for_good(
    home: tuple[Path, str, int],
) -> None:
    """``podium runs timeline`` listed one attempt of ``bad`` (#2): attempt 1, which
    failed for good before the retry, had no ``retry`` item to be drawn from."""
    path, run_id, start = home
    result = runner.invoke(app, ["runs", "timeline", run_id, "--home", str(path), "--json"])
    assert result.exit_code == 0, result.output
    _both_failed(json.loads(result.stdout)["attempts"], start)
    drawn = runner.invoke(app, ["runs", "timeline", run_id, "--home", str(path)])
    assert drawn.exit_code == 0, drawn.output
    assert sum(1 for line in drawn.output.splitlines() if "│ bad" in line) == 2


def test_the_local_step_detail_lists_the_attempt_that_failed_for_good(
    home: tuple[Path, str, int],
) -> None:
    """``podium runs show RUN --step bad`` said the step failed after 2 attempts over a
    table of one row (#2)."""
    path, run_id, start = home
    args = ["runs", "show", run_id, "--step", "bad", "--home", str(path)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 1, result.output  # the step failed
    body = json.loads(result.stdout)
    _both_failed([{**a, "step": "bad"} for a in body["attempts"]], start)
    table = runner.invoke(app, args)
    rows = [line.split("│") for line in table.output.splitlines() if "│ FAILED " in line]
    assert [row[1].strip() for row in rows] == ["1", "2"]


@pytest.fixture
def deployed() -> Iterator[tuple[LocalRuntime, str, int]]:
    """The run on the in-memory store, which the api handler reads as it reads moto."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        start = rt.services.now()
        yield rt, _retried_in_place(rt), start


def test_the_remote_timeline_lists_the_attempt_that_failed_for_good(
    deployed: tuple[LocalRuntime, str, int],
) -> None:
    """``podium runs timeline RUN --stack`` draws the API's ``GET /runs/{id}`` body with
    the same attempt list: it missed attempt 1 as the local one did."""
    rt, run_id, start = deployed
    status, body = call("GET", f"/runs/{run_id}")
    assert status == 200, body
    _both_failed([a.view() for a in attempts_of(body)], start)
    from rich.console import Console

    out = Console(width=200, record=True)
    out.print(timeline(body, rt.services.now()))
    assert sum(1 for line in out.export_text().splitlines() if "│ bad" in line) == 2


class Logs:
    """CloudWatch, as the log reader sees it: the lines of each invocation."""

    def __init__(self) -> None:
        self.lines = {"rid-1": "connecting to the feed\n", "rid-2": "connected\n"}

    def read(self, function: str, request_id: str, start_ms: int, end_ms: int) -> str:
        # The reference as written by hand, or by the engine for the step's own function.
        assert function in (FUNCTION, f"{HERE}:always_fails"), function
        return self.lines[request_id]


def _answer(rt: LocalRuntime, run_id: str, attempt: int) -> tuple[int, Any]:
    rt.services.logs = Logs()
    return call("GET", f"/runs/{run_id}/logs", query={"step": "bad", "attempt": str(attempt)})


def test_the_logs_of_the_attempt_that_failed_for_good_are_found(
    deployed: tuple[LocalRuntime, str, int],
) -> None:
    """``GET /runs/{id}/logs?step=bad&attempt=1`` (``podium runs logs RUN bad --attempt 1
    --stack``) answered 404 "step 'bad' has no attempt 1": only a ``retry`` item was
    looked for. The attempt is found from its ``failed`` item, and its invocation read
    from the reference that item records (here as a deployed stack writes it, with the
    ``log_ref`` of that attempt)."""
    rt, run_id, _ = deployed
    store = rt.services.store
    (failed,) = [e for e in store.list_events(run_id) if e.kind == "failed" and e.attempt == 1]
    ref = {"function": FUNCTION, "request_id": "rid-1"}
    store.put_event(
        type(failed)(
            failed.run_id,
            failed.at,
            failed.event_id,
            failed.kind,
            step=failed.step,
            attempt=failed.attempt,
            detail={**failed.detail, "log_ref": ref},
        )
    )
    status, body = _answer(rt, run_id, 1)
    assert status == 200, body
    assert body["attempt"] == 1 and body["request_id"] == "rid-1"
    assert body["text"] == "connecting to the feed\n"
    status, body = _answer(rt, run_id, 3)
    assert status == 404 and "no attempt 3" in json.dumps(body)


class Invoked:
    """A deployed runner: every invocation has a request id (rid-1, rid-2, ...)."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.calls = inner, 0

    def invoke(self, invocation: Invocation) -> InvocationResult:
        self.calls += 1
        result = self._inner.invoke(invocation)
        return InvocationResult(
            result.ok,
            result.output,
            result.error,
            result.error_type,
            result.retryable,
            result.traceback,
            request_id=f"rid-{self.calls}",
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_deployed_attempt_that_failed_for_good_keeps_its_log_reference() -> None:
    """End to end: each attempt of a deployed lambda step records its invocation; the one
    that failed for good keeps it after the retry in place."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.services.runner = Invoked(rt.services.runner)
        run_id = _retried_in_place(rt)
        status, body = _answer(rt, run_id, 1)
    assert status == 200, body
    assert body["request_id"] == "rid-1"
