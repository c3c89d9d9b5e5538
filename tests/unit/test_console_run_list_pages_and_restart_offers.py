"""The console's views behind the run list's pages, the logical date, a step's restart
offer and the attempts of a step retried in place (console_views.py, views.run_view).

The run list took no cursor (runs past the newest 200 a filter matched were unreachable);
a run's views left its logical date out; an ended run's step offered no restart from it;
an attempt that failed for good before an operator's retry in place was dropped from its
step's attempts."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.actions import RunAction
from podium.core.engine.attempt_history import attempts_of
from podium.core.engine.identity import child_run_id
from podium.core.engine.records import StepRecord, TimelineEvent
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service import console_views
from podium.service.actions import Actor, run_action
from podium.service.views import run_view, runs_token

TINY = {"name": "tiny", "steps": [{"id": "a", "type": "noop"}]}
OTHER = {"name": "other", "steps": [{"id": "a", "type": "noop"}]}
ETL = {
    "name": "etl",
    "steps": [
        {"id": "extract", "type": "noop"},
        {"id": "load", "type": "fail", "message": "no", "depends_on": ["extract"]},
    ],
}
LOOP = {
    "name": "days",
    "steps": [
        {
            "id": "per_day",
            "type": "foreach",
            "over": {"i": [0, 1]},
            "steps": [{"id": "load", "type": "fail", "message": "broke"}],
        }
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _runs(rt: LocalRuntime, definition: dict[str, Any], n: int) -> list[str]:
    rt.push(definition)
    ids = []
    for _ in range(n):
        ids.append(rt.start_run(definition["name"]).run_id)
        rt.pump()
        rt.clock.advance(1_000)  # type: ignore[attr-defined]
    return ids


def _walk(rt: LocalRuntime, **kw: Any) -> list[str]:
    """Every run id the list gives, page after page."""
    seen: list[str] = []
    token = None
    for _ in range(100):
        view = console_views.list_console_runs(
            rt.services, ["tiny", "other"], page_from=token, **kw
        )
        seen += [r["run_id"] for r in view["runs"]]
        token = view.get("next")
        if token is None:
            return seen
    raise AssertionError("the pages never ended")


def test_the_pages_of_the_run_list_give_every_run_once_newest_first(rt: LocalRuntime) -> None:
    ids = _runs(rt, TINY, 7)
    first = console_views.list_console_runs(rt.services, ["tiny"], limit=3)
    assert [r["run_id"] for r in first["runs"]] == ids[::-1][:3] and first["total"] == 7
    second = console_views.list_console_runs(
        rt.services, ["tiny"], limit=3, page_from=first["next"]
    )
    assert [r["run_id"] for r in second["runs"]] == ids[::-1][3:6]
    assert second["older_than"]["run_id"] == ids[4]
    assert _walk(rt, limit=3) == ids[::-1]


def test_a_truncated_workflow_does_not_hide_its_older_runs_behind_another_workflows(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workflow ``tiny``'s read stops at its newest 3; ``other``'s older runs, interleaved
    with tiny's unread ones, wait for the next page, so no run is skipped or listed
    twice, and the order holds across pages."""
    monkeypatch.setattr(console_views, "SCAN_PER_WORKFLOW", 3)
    rt.push(TINY)
    rt.push(OTHER)
    made = []
    for i in range(10):
        name = "tiny" if i % 3 else "other"
        made.append(rt.start_run(name).run_id)
        rt.pump()
        rt.clock.advance(1_000)  # type: ignore[attr-defined]
    assert _walk(rt, limit=50) == made[::-1]
    assert _walk(rt, limit=2) == made[::-1]
    assert _walk(rt, limit=2, status="SUCCEEDED") == made[::-1]


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "!!!",
        runs_token((-1, "a")),
        base64.urlsafe_b64encode(b'["runs", 10000000000000000000000000, "a"]').decode(),
        base64.urlsafe_b64encode(b'["runs", 5, "not a run id/.."]').decode(),
        base64.urlsafe_b64encode(b'[5, "a"]').decode(),  # a step page's token
        base64.urlsafe_b64encode(json.dumps(["runs", 5, "a" * 2000]).encode()).decode(),
    ],
)
def test_a_forged_page_token_is_refused_at_query_next(rt: LocalRuntime, token: str) -> None:
    _runs(rt, TINY, 1)
    with pytest.raises(DefinitionError) as refused:
        console_views.list_console_runs(rt.services, ["tiny"], page_from=token)
    assert refused.value.issues[0].path == "query.next"


def test_a_runs_logical_date_is_in_its_views(rt: LocalRuntime) -> None:
    rt.push(TINY)
    run = rt.start_run("tiny")
    assert "logical_date" not in run_view(run)  # none: not said
    dated = rt.services.store.get_run(run.run_id)
    assert run_view(replace(dated, logical_date="2026-01-02"))["logical_date"] == "2026-01-02"


def test_an_ended_runs_step_offers_a_restart_from_it(rt: LocalRuntime) -> None:
    [run_id] = _runs(rt, ETL, 1)
    detail = console_views.step_detail(rt.services, run_id, "extract")
    assert detail["restart"] == {"run_id": run_id, "from": "extract"}
    actor = Actor(by="me", reason=None, request_id=None)
    run_action(rt.services, run_id, RunAction.RESTART, actor)
    rt.pump()
    # Restarted already: its newest restart (ended) is the run a restart takes.
    assert console_views.step_detail(rt.services, run_id, "extract")["restart"] == {
        "run_id": f"{run_id}-r1",
        "from": "extract",
    }


def test_a_step_of_an_iteration_offers_a_restart_of_its_top_run(rt: LocalRuntime) -> None:
    [top] = _runs(rt, LOOP, 1)
    iteration = child_run_id(top, "per_day", 1)
    offer = console_views.step_detail(rt.services, iteration, "load")["restart"]
    assert offer == {"run_id": top, "from": "per_day/1/load"}


def test_a_step_of_a_running_run_offers_no_restart(rt: LocalRuntime) -> None:
    rt.push({"name": "nap", "steps": [{"id": "z", "type": "sleep", "seconds": 600}]})
    run = rt.start_run("nap")
    assert not run.status.terminal
    assert console_views.step_detail(rt.services, run.run_id, "z")["restart"] is None


def test_an_attempt_that_failed_for_good_before_a_retry_in_place_is_listed() -> None:
    """Its ``failed`` event gives it (no ``retry`` event was written for it); its start
    only when the event recorded one."""
    step = StepRecord("r", "bad", StepStatus.FAILED, attempt=2, started_at=50, ended_at=60)
    events = [
        TimelineEvent(
            "r",
            10,
            "failed-bad-1",
            "failed",
            step="bad",
            attempt=1,
            detail={"error": "E: first", "error_detail": {"type": "E", "traceback": "tb"}},
        ),
        TimelineEvent(
            "r", 60, "failed-bad-2", "failed", step="bad", attempt=2, detail={"error": "E: again"}
        ),
    ]
    attempts = attempts_of(step, events)
    assert [(a.attempt, a.status, a.error, a.ended_at) for a in attempts] == [
        (1, "FAILED", "E: first", 10),
        (2, "FAILED", None, 60),
    ]
    assert attempts[0].started_at is None and attempts[0].error_detail["traceback"] == "tb"
    # No start recorded: listed, with no running bar (nothing to draw it from).
    running = [s for s in console_views._segments(step, attempts, 100) if s["kind"] == "running"]
    assert [s["attempt"] for s in running] == [2]
    events[0] = TimelineEvent(
        "r",
        10,
        "failed-bad-1",
        "failed",
        step="bad",
        attempt=1,
        detail={"error": "E: first", "started_at": 5},
    )
    attempts = attempts_of(step, events)
    running = [s for s in console_views._segments(step, attempts, 100) if s["kind"] == "running"]
    assert [(s["attempt"], s["start"], s["end"]) for s in running] == [(1, 5, 10), (2, 50, 60)]
