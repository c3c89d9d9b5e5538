"""The console's run page (service/console_views.py ``run_page``), which the deployed
console reads from Lambda (a 6 MB response at most, API Gateway answering 502 above it),
every 2 s while the run goes on; and the run list's clock."""

from __future__ import annotations

import json

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.local.runtime import LocalRuntime
from podium.service import console_views
from podium.service.actions import Actor, run_action

# Lambda's synchronous response payload limit.
LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024


def test_one_page_of_a_runs_steps_stays_under_lambdas_response_limit(
    memory_rt: LocalRuntime,
) -> None:
    """A step retried 99 times listed every attempt in its Gantt row (``attempt_list``)
    with its error, up to 2 KiB of UTF-8 (6 KB as the JSON's \\u escapes): twelve such
    steps made the console's page of 50 steps about 7.8 MB, over Lambda's 6 MB, so the
    deployed console could not open the run at all (API Gateway answered 502). The rows
    need only each attempt's number and outcome (the page reads no more); their errors
    are in the step's detail."""
    message = "\U0001f600" * 700  # clipped to 2 KiB of UTF-8: 512 emoji
    memory_rt.push(
        {
            "name": "retrier",
            "steps": [
                {
                    "id": f"s{i:02d}",
                    "type": "fail",
                    "message": message,
                    "retries": 99,
                    "retry_delay_seconds": 0,
                }
                for i in range(12)
            ],
        }
    )
    run = memory_rt.start_run("retrier")
    memory_rt.pump()
    assert memory_rt.describe(run.run_id).run.status.value == "FAILED"

    page = console_views.run_page(memory_rt.services, run.run_id, limit=50)  # the console's page
    size = len(json.dumps(page, default=str))  # as handlers/api.py ``_json`` answers it
    assert size < LAMBDA_RESPONSE_BYTES, f"a page of 50 steps is {size:,} bytes of JSON"


def test_a_page_of_big_steps_ends_at_its_byte_budget_and_says_where_the_next_starts(
    memory_rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page of steps had no byte budget (GET /runs/{id} has STEPS_PAGE_BYTES): up to
    500 rows of long errors, many attempts, big outputs were sent whatever their size.
    Past the budget the page now ends early (at least one row), and ``next_offset`` says
    where the next one starts: read on from it, every step is listed once."""
    memory_rt.push(
        {
            "name": "five",
            "steps": [{"id": f"s{i}", "type": "fail", "message": "x" * 500} for i in range(5)],
        }
    )
    run = memory_rt.start_run("five")
    memory_rt.pump()
    monkeypatch.setattr(console_views, "STEPS_PAGE_BYTES", 1500, raising=False)  # ~2 rows

    listed: list[str] = []
    offset: int | None = 0
    pages = 0
    while offset is not None and pages < 10:
        steps = console_views.run_page(memory_rt.services, run.run_id, offset=offset, limit=50)[
            "steps"
        ]
        assert steps["offset"] == offset and steps["items"], steps
        listed += [row["step"] for row in steps["items"]]
        offset = steps.get("next_offset")
        pages += 1
    assert pages > 1, "the page was not cut at its byte budget"
    assert listed == [f"s{i}" for i in range(5)]


def test_the_run_pages_action_log_lists_the_newest_actions_and_counts_the_rest(
    memory_rt: LocalRuntime, manual_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run page's head listed every operator action on the run (each with its
    reason, up to 1,000 characters), on every 2 s refresh of a live console: a run
    paused and resumed all day grew its page without bound. It lists the newest
    MAX_ACTION_LOG, and ``action_log_omitted`` counts the older ones."""
    memory_rt.push({"name": "napper", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]})
    run = memory_rt.start_run("napper")
    memory_rt.pump(advance_time=False)
    monkeypatch.setattr(console_views, "MAX_ACTION_LOG", 2, raising=False)
    for action in (RunAction.PAUSE, RunAction.RESUME, RunAction.PAUSE):
        manual_clock.advance(1000)
        run_action(memory_rt.services, run.run_id, action, Actor(by="tester", reason=action.value))
        memory_rt.pump(advance_time=False)

    page = console_views.run_page(memory_rt.services, run.run_id)
    assert [a["action"] for a in page["action_log"]] == ["resume", "pause"]
    assert page.get("action_log_omitted") == 1


def test_the_run_list_says_the_servers_time(
    memory_rt: LocalRuntime, manual_clock: ManualClock
) -> None:
    """The run list gave no clock to count a running run's duration to: the console
    counted it to the browser's (``Date.now()``), negative when the browser's clock was
    behind the server's. The list says ``now``, as the run page does."""
    memory_rt.push({"name": "napper", "steps": [{"id": "nap", "type": "sleep", "seconds": 600}]})
    memory_rt.start_run("napper")
    memory_rt.pump(advance_time=False)
    manual_clock.advance(5000)

    view = console_views.list_console_runs(memory_rt.services, ["napper"])
    assert view.get("now") == memory_rt.services.now()
