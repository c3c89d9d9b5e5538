"""GET /runs/{id} pages its steps to stay under Lambda's 6 MB response; its timeline is
bounded too now (found by a review): before, a one-step page of a run whose steps
retried many times held every event with its traceback (8 MB: deployed, every page of
that run was a 5xx)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024  # a synchronous Lambda response, at most
STEPS = 8


def _down(n: int) -> None:
    if n == 0:
        raise ValueError("the feed is bad: " + "e" * 5000)
    _down(n - 1)


def deep_failure(event: dict[str, object]) -> None:
    _down(300)  # a real-looking deep stack: its traceback is clipped to 16 KiB


WF = {
    "name": "rv_retries",
    "steps": [
        {
            "id": f"load{i}",
            "type": "lambda",
            "function": f"{__name__}:deep_failure",
            "retry": [{"max_attempts": 99, "interval": 0}],
            "failure_mode": "fail_after_running",
        }
        for i in range(STEPS)
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    # The in-memory home: the api handler reads it as it reads moto, only faster.
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_one_step_page_of_a_run_fits_a_lambda_response(rt: LocalRuntime) -> None:
    """GET /runs/{id}?limit=1 asks for one step, and the steps are paged so a page "stays
    well under Lambda's 6 MB response" (views.STEPS_PAGE_BYTES). But the answer also
    holds every timeline event of the run, unpaged and each with its error_detail
    (message and a traceback of up to 16 KiB: handlers/api.py get_run, "events":
    [event_view(e) for e in view.events]). 8 steps that each use the documented 99
    retries make about 8 MB for a one-step page: deployed, Lambda cannot return it and
    the caller gets a 5xx for any page of that run, with no way to ask for less. The
    events should be bounded too: those of the page's steps only, or a page/limit of
    their own, or tracebacks left to the step detail, within STEPS_PAGE_BYTES."""
    assert call("POST", "/workflows", WF)[0] == 201
    assert call("POST", "/workflows/rv_retries/runs", {"run_id": "rv-retries-1"})[0] == 202
    rt.pump()
    status, body = call("GET", "/runs/rv-retries-1", query={"limit": "1"})
    assert status == 200 and body["run"]["status"] == "FAILED"
    assert len(body["steps"]) == 1
    size = len(json.dumps(body))
    assert size < LAMBDA_RESPONSE_BYTES, f"{size:,} bytes for a page of one step"
    # The newest events, in time order, and the count of the older ones left out.
    events = body["events"]
    assert len(events) + body["events_omitted"] == STEPS * 100, body["events_omitted"]
    assert events == sorted(events, key=lambda e: e["at"])
    every = rt.store.list_events("rv-retries-1")  # the newest: the timeline's tail
    tail = [(e.kind, e.step, e.attempt) for e in every[len(every) - len(events) :]]
    assert [(e["kind"], e["step"], e["attempt"]) for e in events] == tail
    # No tracebacks in the run's timeline: the step's detail has them.
    assert all("traceback" not in (e["detail"].get("error_detail") or {}) for e in events)
    _, step = call("GET", "/console/runs/rv-retries-1/step", query={"name": "load0"})
    assert any(a.get("traceback") for a in step["attempts"])


def test_a_small_run_keeps_its_whole_timeline(rt: LocalRuntime) -> None:
    """Control: a run that fits keeps every event, and says nothing of omitted ones."""
    small = {**WF, "name": "rv_small", "steps": [{**WF["steps"][0], "retry": []}]}
    assert call("POST", "/workflows", small)[0] == 201
    assert call("POST", "/workflows/rv_small/runs", {"run_id": "rv-small-1"})[0] == 202
    rt.pump()
    status, body = call("GET", "/runs/rv-small-1")
    assert status == 200 and "events_omitted" not in body and body["events"]
