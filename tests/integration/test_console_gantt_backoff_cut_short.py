"""The console's Gantt (service/console_views.py ``run_page``): a backoff drawn to where it
ended, not to its due time, when it was cut short."""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction, StepAction
from podium.local.runtime import LocalRuntime
from podium.service import console_views
from podium.service.actions import Actor, run_action, step_action

HOUR_DELAY = 3600


def flaky_once(event: dict[str, Any]) -> dict[str, Any]:
    if event["attempt"] < 2:
        raise RuntimeError("warehouse busy")
    return {"attempt": event["attempt"]}


def always_fails(event: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("warehouse down")


def _retried(name: str, function: str) -> dict[str, Any]:
    return {
        "name": name,
        "steps": [
            {
                "id": "load",
                "type": "lambda",
                "function": f"{__name__}:{function}",
                "retries": 2,
                "retry_delay_seconds": HOUR_DELAY,
            }
        ],
    }


def _waiting_out_its_delay(memory_rt: LocalRuntime, name: str, function: str) -> str:
    memory_rt.push(_retried(name, function))
    run = memory_rt.start_run(name)
    memory_rt.pump(advance_time=False)
    assert memory_rt.describe(run.run_id).steps[0].status.value == "RETRY_WAIT"
    return run.run_id


def _backoff(page: dict[str, Any]) -> dict[str, Any]:
    row = page["steps"]["items"][0]
    return next(s for s in row["segments"] if s["kind"] == "backoff")


def test_a_backoff_cut_short_by_retry_now_ends_where_the_next_attempt_starts(
    memory_rt: LocalRuntime,
) -> None:
    """An operator's "Retry now" on a step waiting out a 1 h retry delay: its Gantt row
    still drew the backoff for the whole hour ("backoff (attempt 1): 16:55 -> 17:55
    (1 h 0 m)"), under and after the attempt that succeeded seconds later, past the end
    of a run that had long finished (a bar hundreds of times the chart's width)."""
    run_id = _waiting_out_its_delay(memory_rt, "retry_now", "flaky_once")
    step_action(memory_rt.services, run_id, "load", StepAction.RETRY, Actor(by="tester"))
    memory_rt.pump(advance_time=False)
    assert memory_rt.describe(run_id).run.status.value == "SUCCEEDED"

    page = console_views.run_page(memory_rt.services, run_id)
    row = page["steps"]["items"][0]
    second = next(s for s in row["segments"] if s["kind"] == "running" and s["attempt"] == 2)
    backoff = _backoff(page)
    assert backoff["end"] <= second["start"], (
        f"the backoff is drawn {(backoff['end'] - second['start']) / 1000:.0f} s past the"
        " start of the attempt that ended it"
    )
    assert max(s["end"] for s in row["segments"]) <= page["window"]["end"]


def test_a_backoff_cut_short_by_a_stop_ends_with_the_step(
    memory_rt: LocalRuntime, manual_clock: ManualClock
) -> None:
    """A run stopped while its step waited out a 1 h retry delay: the step ended STOPPED
    at the stop, but its backoff was drawn on to the hour's end, past the run's end."""
    run_id = _waiting_out_its_delay(memory_rt, "stopped_in_backoff", "always_fails")
    manual_clock.advance(60_000)
    run_action(memory_rt.services, run_id, RunAction.STOP, Actor(by="tester"))
    memory_rt.pump(advance_time=False)
    view = memory_rt.describe(run_id)
    assert view.run.status.value == "STOPPED", view.run.status

    page = console_views.run_page(memory_rt.services, run_id)
    backoff = _backoff(page)
    step_end = page["steps"]["items"][0]["ended_at"]
    assert step_end is not None and backoff["end"] <= step_end, (backoff, step_end)
    assert backoff["end"] <= page["window"]["end"]


def test_a_backoff_still_waited_out_is_drawn_to_now(
    memory_rt: LocalRuntime, manual_clock: ManualClock
) -> None:
    """A step a minute into its 1 h retry delay: its backoff was drawn to the hour's end,
    59 minutes past the chart's right edge (now), shrinking the rest of the chart to a
    sliver."""
    run_id = _waiting_out_its_delay(memory_rt, "still_waiting", "always_fails")
    manual_clock.advance(60_000)

    page = console_views.run_page(memory_rt.services, run_id)
    assert _backoff(page)["end"] == page["now"] <= page["window"]["end"]
