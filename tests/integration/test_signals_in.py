"""Signals coming in: POST /signals, events with detail-type podium.signal on Podium's
bus (the events function), and podium signal send to the local home; each releases a
waiting step on the embedded runtime (DynamoDB on moto)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from podium.cli.main import app
from podium.core.engine.status import RunStatus, StepStatus
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from tests.integration.test_api import call

WAITS = {
    "name": "waits",
    "steps": [
        {
            "id": "w",
            "type": "noop",
            "wait_for": [{"signal": "ready", "match": {"day": "2026-01-05"}}],
        }
    ],
}


def _waiting(runtime: LocalRuntime) -> str:
    runtime.push(WAITS)
    run = runtime.start_run("waits")
    runtime.pump(advance_time=False)
    step = runtime.store.get_step(run.run_id, "w")
    assert step is not None and step.status is StepStatus.WAITING_FOR_SIGNALS
    return run.run_id


def test_post_signals_stores_once_and_wakes_the_waiting_step(runtime: LocalRuntime) -> None:
    run_id = _waiting(runtime)
    body = {"name": "ready", "params": {"day": "2026-01-05"}, "payload": {"rows": 3}}
    status, sent = call("POST", "/signals", {**body, "request_id": "r-1"})
    assert status == 201 and sent["created"] is True and sent["payload"] == {"rows": 3}
    status, again = call("POST", "/signals", {**body, "request_id": "r-1"})
    assert status == 200 and again["created"] is False
    assert again["signal_id"] == sent["signal_id"]
    runtime.pump(advance_time=False)
    assert runtime.describe(run_id).run.status is RunStatus.SUCCEEDED


def test_bad_signals_are_400_with_the_place(runtime: LocalRuntime) -> None:
    cases: list[tuple[Any, str]] = [
        (None, "body"),
        ([1], "body"),
        ({"params": {}}, "body.name"),
        ({"name": "x", "params": {"a": 1.5}}, "body.params.a"),
        ({"name": "x", "params": {"a": {"b": 1}}}, "body.params.a"),
        ({"name": "x", "ttl_days": 0}, "body.ttl_days"),
        ({"name": "x", "extra": 1}, "body.extra"),
        ({"name": "no spaces"}, "body.name"),
    ]
    for body, path in cases:
        status, answer = call("POST", "/signals", body)
        assert status == 400, (body, answer)
        assert path in [e["path"] for e in answer["errors"]], (body, answer)


def test_a_podium_signal_event_on_the_bus_is_a_signal(runtime: LocalRuntime) -> None:
    run_id = _waiting(runtime)
    event = {
        "version": "0",
        "id": "evt-7",
        "source": "my.app",
        "detail-type": "podium.signal",
        "detail": {"name": "ready", "params": {"day": "2026-01-05"}},
    }

    def on_podiums_bus(e: dict[str, object]) -> dict[str, object]:
        # The construct's rule on Podium's bus wraps each event with the bus's name.
        return {"podium_bus": "podium", "event": e}

    first = events.handler(on_podiums_bus(event), None)
    assert first["matched"] == 1 and first["created"] is True
    # EventBridge delivers at least once: the same event id is the same signal.
    assert events.handler(on_podiums_bus(event), None)["created"] is False
    # A producer's retried PutEvents is a new event with the same content: without a
    # request id, name and params identify a signal, as on the API (it was a second one).
    retried = {**event, "id": "evt-7-retried"}
    assert events.handler(on_podiums_bus(retried), None)["created"] is False
    runtime.pump(advance_time=False)
    assert runtime.describe(run_id).run.status is RunStatus.SUCCEEDED
    bad = {**event, "id": "evt-8", "detail": {"name": 5}}
    assert events.handler(on_podiums_bus(bad), None)["dropped"] == 1


def test_podium_signal_send_to_the_local_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        run_id = _waiting(rt)
    result = CliRunner().invoke(
        app,
        ["signal", "send", "ready", "-p", "day=2026-01-05", "--home", str(home), "--json"],
    )
    assert result.exit_code == 0, result.output
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.pump(run_id=run_id)
        assert rt.describe(run_id).run.status is RunStatus.SUCCEEDED
