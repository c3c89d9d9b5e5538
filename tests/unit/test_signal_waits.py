"""Signals end to end on the real service code (memory store, manual clock): a step's
wait_for (signals sent before or after it started, since: step_start, the sweeper as
the fallback for a lost wake-up, its timeout), signal.<name> in its templates, and emit
(once, on success only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.checks import FIRST_CHECK_MS
from podium.core.engine.signals import SignalRequest
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal
from podium.service.sweep import sweep

HERE = "tests.unit.test_signal_waits"
SEEN: list[Any] = []


def record(event: dict[str, Any]) -> dict[str, Any]:
    SEEN.append({"payload": event["payload"], "step_params": event["step_params"]})
    return {"rows": 42}


def boom(event: dict[str, Any]) -> None:
    raise ValueError("no")


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    SEEN.clear()
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


WAITING = {
    "name": "report",
    "params": {"date": {"type": "string", "default": "2026-01-05"}},
    "steps": [
        {"id": "first", "type": "noop"},
        {
            "id": "build",
            "type": "lambda",
            "function": f"{HERE}:record",
            "depends_on": ["first"],
            "wait_for": [
                {"signal": "sales_ready", "match": {"date": "${params.date}"}},
                {"signal": "rows_loaded", "match": {"rows": {"op": ">=", "value": 10}}},
            ],
            "payload": {"table": "${signal.sales_ready.payload.table}"},
            "params": {"rows": "${signal.rows_loaded.params.rows}"},
        },
    ],
}


def send(rt: LocalRuntime, name: str, **kw: Any) -> Any:
    return send_signal(rt.services, SignalRequest(name, **kw))


def step(rt: LocalRuntime, run_id: str, sid: str) -> Any:
    record = rt.store.get_step(run_id, sid)
    assert record is not None
    return record


def test_a_literal_match_is_required() -> None:
    # `match` values are literals: a template there is refused (it would never match).
    from podium.core.dsl.errors import DefinitionError
    from podium.core.dsl.load import validate_definition

    with pytest.raises(DefinitionError, match="match values are literals"):
        validate_definition(WAITING)
    validate_definition(_literal_match(WAITING))


def test_signals_sent_before_the_step_started_release_it(rt: LocalRuntime) -> None:
    wf = _literal_match(WAITING)
    send(rt, "sales_ready", params={"date": "2026-01-05"}, payload={"table": "sales"})
    send(rt, "rows_loaded", params={"rows": 12})
    view = rt.run(wf)
    assert view.run.status is RunStatus.SUCCEEDED
    assert SEEN == [{"payload": {"table": "sales"}, "step_params": {"rows": 12}}]


def test_a_step_waits_until_every_signal_arrives_then_runs(rt: LocalRuntime) -> None:
    rt.push(_literal_match(WAITING))
    run = rt.start_run("report")
    rt.pump(advance_time=False)
    assert step(rt, run.run_id, "build").status is StepStatus.WAITING_FOR_SIGNALS
    send(rt, "rows_loaded", params={"rows": 3})  # does not match: rows >= 10
    send(rt, "sales_ready", params={"date": "2026-01-04"}, payload={"table": "old"})
    rt.pump(advance_time=False)
    assert step(rt, run.run_id, "build").status is StepStatus.WAITING_FOR_SIGNALS
    send(rt, "rows_loaded", params={"rows": 10})
    send(rt, "sales_ready", params={"date": "2026-01-05"}, payload={"table": "sales"})
    rt.pump()
    view = rt.describe(run.run_id)
    assert view.run.status is RunStatus.SUCCEEDED
    assert SEEN == [{"payload": {"table": "sales"}, "step_params": {"rows": 10}}]
    assert rt.services.signals is not None
    assert rt.services.signals.waiters("sales_ready", rt.clock.now_ms()) == []


def test_since_step_start_ignores_older_signals(rt: LocalRuntime) -> None:
    wf = {
        "name": "fresh",
        "steps": [
            {"id": "w", "type": "noop", "wait_for": [{"signal": "go", "since": "step_start"}]}
        ],
    }
    send(rt, "go", params={"n": 1})
    rt.clock.advance(1000)
    rt.push(wf)
    run = rt.start_run("fresh")
    rt.pump(advance_time=False)
    assert step(rt, run.run_id, "w").status is StepStatus.WAITING_FOR_SIGNALS
    rt.clock.advance(1000)
    send(rt, "go", params={"n": 2})
    rt.pump()
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_a_lost_wake_up_is_caught_by_the_sweeper(rt: LocalRuntime) -> None:
    rt.push(
        {"name": "lost", "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "go"}]}]}
    )
    run = rt.start_run("lost")
    rt.pump(advance_time=False)
    assert rt.services.signals is not None
    # The signal is stored, but its wake-up never arrives (the sender died).
    from podium.core.engine.signals import new_signal

    rt.services.signals.send(new_signal(SignalRequest("go"), rt.clock.now_ms()))
    rt.pump(advance_time=False)
    assert step(rt, run.run_id, "w").status is StepStatus.WAITING_FOR_SIGNALS
    sweep(rt.services, rt.store)  # not due yet: the run's first check is minutes away
    assert step(rt, run.run_id, "w").status is StepStatus.WAITING_FOR_SIGNALS
    rt.clock.advance(FIRST_CHECK_MS)
    sweep(rt.services, rt.store)
    rt.pump(advance_time=False)
    assert rt.describe(run.run_id).run.status is RunStatus.SUCCEEDED


def test_no_signal_within_the_timeout_times_the_step_out(rt: LocalRuntime) -> None:
    wf = {
        "name": "late",
        "steps": [
            {"id": "w", "type": "noop", "timeout": "1h", "wait_for": [{"signal": "never"}]},
            {"id": "after", "type": "noop", "depends_on": ["w"]},
        ],
    }
    started = rt.clock.now_ms()
    view = rt.run(wf)
    assert view.run.status is RunStatus.TIMED_OUT
    w = next(s for s in view.steps if s.step == "w")
    assert w.status is StepStatus.TIMED_OUT and w.error_type == "Podium.Timeout"
    assert w.ended_at == started + 3_600_000
    assert {s.step: s.status for s in view.steps}["after"] is StepStatus.SKIPPED


def test_stopping_a_run_stops_its_waiting_step(rt: LocalRuntime) -> None:
    from podium.service.lifecycle import stop_run

    rt.push(
        {"name": "stopme", "steps": [{"id": "w", "type": "noop", "wait_for": [{"signal": "x"}]}]}
    )
    run = rt.start_run("stopme")
    rt.pump(advance_time=False)
    stop_run(rt.services, run.run_id, "by test")
    send(rt, "x")
    rt.pump()
    assert step(rt, run.run_id, "w").status is StepStatus.STOPPED


EMITTING = {
    "name": "etl",
    "params": {"date": {"type": "string", "default": "2026-01-05"}},
    "steps": [
        {
            "id": "load",
            "type": "lambda",
            "function": f"{HERE}:record",
            "emit": [
                {
                    "signal": "sales_ready",
                    "params": {"date": "${params.date}", "rows": "${steps.load.output.rows}"},
                    "payload": {"run": "${run.id}", "table": "sales"},
                }
            ],
        }
    ],
}


def test_emit_sends_once_when_the_step_succeeds(rt: LocalRuntime) -> None:
    view = rt.run(EMITTING)
    assert view.run.status is RunStatus.SUCCEEDED
    assert rt.services.signals is not None
    found = rt.services.signals.find("sales_ready", [], now=rt.clock.now_ms(), limit=5)
    assert len(found) == 1
    assert found[0].params == {"date": "2026-01-05", "rows": 42}
    assert found[0].payload == {"run": view.run.run_id, "table": "sales"}
    assert found[0].source == "emit"
    # A replayed success (a redelivered message) sends nothing new.
    from podium.service.attempts import replay_terminal

    replay_terminal(rt.services, view.run, "load", StepStatus.SUCCEEDED, None)
    assert len(rt.services.signals.find("sales_ready", [], now=rt.clock.now_ms(), limit=5)) == 1


def test_emit_is_not_sent_when_the_step_fails(rt: LocalRuntime) -> None:
    wf = {**EMITTING, "name": "etl_fails"}
    wf["steps"] = [{**EMITTING["steps"][0], "function": f"{HERE}:boom"}]
    view = rt.run(wf)
    assert view.run.status is RunStatus.FAILED
    assert rt.services.signals is not None
    assert rt.services.signals.find("sales_ready", [], now=rt.clock.now_ms()) == []


def test_an_emitted_signal_releases_a_step_of_another_workflow(rt: LocalRuntime) -> None:
    rt.push(_literal_match(WAITING))
    waiting = rt.start_run("report")
    rt.pump(advance_time=False)
    send(rt, "rows_loaded", params={"rows": 50})
    rt.run(EMITTING)
    rt.pump()
    assert rt.describe(waiting.run_id).run.status is RunStatus.SUCCEEDED
    assert SEEN[-1] == {"payload": {"table": "sales"}, "step_params": {"rows": 50}}


def _literal_match(wf: dict[str, Any]) -> dict[str, Any]:
    steps = [dict(s) for s in wf["steps"]]
    build = steps[1]
    build["wait_for"] = [
        {"signal": "sales_ready", "match": {"date": "2026-01-05"}},
        build["wait_for"][1],
    ]
    build["payload"] = {"table": "${signal.sales_ready.payload.table}"}
    return {**wf, "steps": steps}


def test_an_operator_skips_a_waiting_step_and_the_run_goes_on(rt: LocalRuntime) -> None:
    from podium.core.engine.actions import StepAction
    from podium.service.actions import Actor, step_action

    wf = {
        "name": "skipme",
        "steps": [
            {"id": "w", "type": "noop", "wait_for": [{"signal": "never"}]},
            {"id": "after", "type": "noop", "depends_on": ["w"]},
        ],
    }
    rt.push(wf)
    run = rt.start_run("skipme")
    rt.pump(advance_time=False)
    assert step(rt, run.run_id, "w").status is StepStatus.WAITING_FOR_SIGNALS
    step_action(rt.services, run.run_id, "w", StepAction.SKIP, Actor("test", "no data today"))
    rt.pump(advance_time=False)
    view = rt.describe(run.run_id)
    assert view.run.status is RunStatus.SUCCEEDED
    assert {s.step: s.status for s in view.steps}["w"] is StepStatus.SKIPPED
