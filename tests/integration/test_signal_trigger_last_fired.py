"""``podium triggers list`` (GET /workflows/{name}/triggers) said ``last fired -`` for a
signal trigger that had started runs: ``last_fired`` was kept by the schedule's firing
only (its catch-up watermark), and a signal trigger's run start (service/triggers.py
``start_triggered``) recorded none. A trigger that is not a schedule now records, on
every store, when it last started a run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import iso, parse_iso
from podium.core.engine.signals import SignalRequest
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal
from podium.service.triggers import list_triggers
from tests.integration.test_cli_local import podium

START = parse_iso("2026-01-15T00:00:00Z")
JOINED: dict[str, Any] = {
    "name": "joined",
    "params": {"day": {"type": "string"}},
    "steps": [{"id": "a", "type": "noop"}],
    "run_strategy": {"parallel": 10},
    "triggers": [
        {
            "id": "both",
            "signal": {"names": ["sales_ready", "costs_ready"], "join_keys": ["day"]},
            "params": {"day": "${event.signals.costs_ready.params.day}"},
        },
        {"id": "nightly", "cron": "0 3 * * *", "params": {"day": "nightly"}},
    ],
}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    options: dict[str, Any] = {"home": ":memory:"} if request.param == "sqlite" else {}
    if request.param != "moto":  # the default: DynamoDB on moto
        options["store"] = request.param
    with LocalRuntime(clock=ManualClock(start_ms=START), **options) as runtime:
        yield runtime


def _send(rt: LocalRuntime, name: str, **params: Any) -> None:
    rt.clock.advance(1000)  # type: ignore[union-attr]
    send_signal(rt.services, SignalRequest(name, params))


def _last_fired(rt: LocalRuntime) -> dict[str, Any]:
    return {t["id"]: t["last_fired"] for t in list_triggers(rt.services, "joined")}


def test_a_signal_trigger_says_when_it_last_started_a_run(rt: LocalRuntime) -> None:
    rt.push(JOINED)
    _send(rt, "sales_ready", day="d1")
    assert _last_fired(rt) == {"both": None, "nightly": None}  # no set yet: no run
    _send(rt, "costs_ready", day="d1")
    [first] = rt.store.list_runs("joined", 10)
    assert _last_fired(rt)["both"] == iso(first.created_at)
    rt.clock.advance(60_000)  # type: ignore[union-attr]
    _send(rt, "costs_ready", day="d2")
    _send(rt, "sales_ready", day="d2")
    newest = max(rt.store.list_runs("joined", 10), key=lambda r: r.created_at)
    assert newest.created_at > first.created_at
    fired = _last_fired(rt)
    assert fired["both"] == iso(newest.created_at)
    assert fired["nightly"] is None  # a schedule's stays its own (the catch-up watermark)


def test_podium_triggers_list_shows_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=str(home), clock=ManualClock(start_ms=START)) as rt:
        rt.push(JOINED)
        _send(rt, "sales_ready", day="d1")
        _send(rt, "costs_ready", day="d1")
        [run] = rt.store.list_runs("joined", 10)
    listed = podium(home, "triggers", "list", "joined")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "both" in line)
    # Before: "-" in the last fired column.
    assert iso(run.created_at) in row, listed.stdout
