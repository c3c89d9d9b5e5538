"""``podium triggers list`` names a trigger's last failure as the push does: at
``triggers.<id>.params...`` (or ``triggers.<id>.signal.condition``), the entry to fix.
It showed ``params.rows``, the run's param, which the workflow file has under its
params too, while ``podium run --event`` and push validation named the trigger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.cli.main import app
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.core.engine.signals import SignalRequest
from podium.local.runtime import LocalRuntime
from podium.service.signals import send_signal
from podium.service.triggers import list_triggers, route_trigger_event, start_from_event
from tests.integration.test_trigger_event_errors import INGEST, NIGHTLY, S3_EVENT


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        yield runtime


def podium(*args: str) -> Any:
    return CliRunner(env={"COLUMNS": "400"}).invoke(app, list(args))  # a table unwrapped


def test_podium_triggers_list_names_the_triggers_params(tmp_path: Path) -> None:
    wf = tmp_path / "nightly.json"
    wf.write_text(json.dumps(NIGHTLY))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"time": "2026-01-15T06:00:00Z"}))
    home = str(tmp_path / "home")
    fired = podium("run", str(wf), "--event", str(event), "--home", home)
    assert fired.exit_code == 1 and "triggers.nightly.params.rows" in fired.stderr
    # `podium run --event` now checks the event before the home is made: the failure is
    # recorded in the home as a deployed trigger's firing records it.
    with LocalRuntime(store="sqlite", home=home, clock=ManualClock()) as local:
        local.push(NIGHTLY)
        with pytest.raises(DefinitionError):
            start_from_event(local.services, "nightly_wf", {"time": "2026-01-15T06:00:00Z"})

    listed = podium("triggers", "list", "nightly_wf", "--home", home, "--json")
    assert listed.exit_code == 0, listed.output
    (trigger,) = json.loads(listed.stdout)["triggers"]
    error = trigger["last_failure"]["error"]
    assert error.startswith("triggers.nightly.params.rows: expected int"), error
    table = podium("triggers", "list", "nightly_wf", "--home", home)
    assert "triggers.nightly.params.rows: expected int" in table.stdout


def test_an_event_that_starts_no_run_is_named_at_the_triggers_params(rt: LocalRuntime) -> None:
    """Routed as the events function routes it (no one to tell but the state)."""
    rt.push(INGEST)
    answer = route_trigger_event(rt.services, S3_EVENT)
    assert answer is not None and answer["failed"] == ["ingest/upload"]
    (listed,) = list_triggers(rt.services, "ingest")
    error = listed["last_failure"]["error"]
    assert error.startswith("triggers.upload.params.key: ") and error.endswith("only csv")


def test_a_signal_condition_that_fails_is_named_at_the_trigger(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "joined",
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [
                {
                    "id": "both",
                    "signal": {
                        "names": ["sales_ready", "costs_ready"],
                        "condition": "event.signals.sales_ready.params.rows > 0",
                    },
                }
            ],
        }
    )
    rt.clock.advance(1000)  # type: ignore[union-attr]  # sent after the trigger began
    send_signal(rt.services, SignalRequest("sales_ready", {"day": "d1"}))  # no rows
    send_signal(rt.services, SignalRequest("costs_ready", {"day": "d1"}))
    (listed,) = list_triggers(rt.services, "joined")
    error = listed["last_failure"]["error"]
    assert error.startswith("triggers.both.signal.condition: ") and "rows" in error
