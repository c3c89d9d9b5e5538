"""What a trigger event's sender is told.

- ``podium run --event`` / ``podium.testing.fire_trigger``: a cron (or s3, event)
  trigger that matched and could not start its run (its params did not render or
  validate) was reported as "no trigger matches this event"; the real error was only in
  a log line and on the trigger's state. Now the error names ``triggers.<id>.params``
  and says why.
- Podium's own run and step status changes reach the events function through its
  bus's rule; with no ``bus: podium`` trigger each was counted ``EventsUnmatched``
  (the metric for spotting a miswired bucket or pattern). Now they are not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from podium.adapters.clock import ManualClock
from podium.adapters.metrics import RecordingMetrics
from podium.cli.main import app
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers, start_from_event
from podium.testing import fire_trigger

NIGHTLY = {
    "name": "nightly_wf",
    "params": {"rows": {"type": "int"}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        # A date into an int param: every firing fails to start its run.
        {"id": "nightly", "cron": "0 6 * * *", "params": {"rows": "${event.logical_date}"}}
    ],
}
INGEST = {
    "name": "ingest",
    "params": {
        "key": {
            "type": "string",
            "validate": {"expr": "value.endsWith('.csv')", "message": "only csv"},
        }
    },
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "upload",
            "s3": {"bucket": "landing", "prefix": "raw/"},
            "params": {"key": "${event.detail.object.key}"},
        }
    ],
}
S3_EVENT = {
    "version": "0",
    "id": "e-1",
    "source": "aws.s3",
    "detail-type": "Object Created",
    "time": "2026-01-15T12:00:00Z",
    "detail": {"bucket": {"name": "landing"}, "object": {"key": "raw/file.json"}},
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        yield runtime


def test_a_cron_firing_that_cannot_start_its_run_says_why(rt: LocalRuntime) -> None:
    rt.push(NIGHTLY)
    with pytest.raises(DefinitionError) as raised:
        start_from_event(rt.services, "nightly_wf", {"time": "2026-01-15T06:00:00Z"})
    (issue,) = raised.value.issues
    assert issue.path == "triggers.nightly.params.rows"
    assert issue.message.startswith("expected int")
    assert "no trigger" not in str(raised.value)
    # As when its schedule fires it: the failure is on the trigger's state too.
    (listed,) = list_triggers(rt.services, "nightly_wf")
    assert listed["last_failure"]["error"].startswith("triggers.nightly.params.rows: expected int")
    with pytest.raises(DefinitionError, match=r"triggers\.nightly\.params\.rows"):
        fire_trigger(rt, "nightly_wf", {"time": "2026-01-16T06:00:00Z"})


def test_an_s3_event_whose_params_do_not_validate_says_why(rt: LocalRuntime) -> None:
    rt.push(INGEST)
    with pytest.raises(DefinitionError) as raised:
        start_from_event(rt.services, "ingest", S3_EVENT)
    (issue,) = raised.value.issues
    assert issue.path == "triggers.upload.params.key" and issue.message.endswith("only csv")


def test_a_template_that_fails_to_render_names_the_triggers_params(rt: LocalRuntime) -> None:
    rt.push(
        {
            **INGEST,
            "params": {"key": {"type": "string"}},
            "triggers": [{**INGEST["triggers"][0], "params": {"key": "${event.detail.nope.key}"}}],  # type: ignore[dict-item]
        }
    )
    with pytest.raises(DefinitionError) as raised:
        start_from_event(rt.services, "ingest", S3_EVENT)
    (issue,) = raised.value.issues
    assert issue.path == "triggers.upload.params" and "nope" in issue.message


def test_podium_run_event_prints_the_triggers_error(tmp_path: Path) -> None:
    wf = tmp_path / "nightly.json"
    wf.write_text(json.dumps(NIGHTLY))
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"time": "2026-01-15T06:00:00Z"}))
    result: Any = CliRunner().invoke(
        app, ["run", str(wf), "--event", str(event), "--home", str(tmp_path / "home")]
    )
    assert result.exit_code == 1
    assert "triggers.nightly.params.rows" in result.stderr
    assert "expected int" in result.stderr and "no trigger" not in result.stderr


def status_change(event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "source": "podium",
        "detail-type": "Podium Run Status Change",
        "time": "2026-01-15T00:00:00Z",
        "detail": {
            "run_id": "01KDVDNA00AD3DAJ2JEGH4GZTS",
            "workflow": "w",
            "status": "SUCCEEDED",
            "ended_at": 1,
        },
    }


def test_podiums_own_status_changes_are_not_counted_unmatched(rt: LocalRuntime) -> None:
    rt.push({"name": "w", "steps": [{"id": "a", "type": "noop"}]})
    rt.services.metrics = metrics = RecordingMetrics()
    answer = events.handler({"podium_bus": "podium", "event": status_change("x1")}, None)
    assert answer["matched"] == 0
    assert metrics.counts.get("EventsUnmatched", 0) == 0
    # An event of anyone else that no trigger takes is still counted: what the metric is for.
    other = {**status_change("x2"), "source": "acme.orders", "detail-type": "OrderPlaced"}
    assert events.handler({"podium_bus": "podium", "event": other}, None)["matched"] == 0
    assert events.handler(S3_EVENT, None)["matched"] == 0
    assert metrics.counts["EventsUnmatched"] == 2


def test_a_bus_podium_trigger_still_takes_podiums_own_status_changes(rt: LocalRuntime) -> None:
    rt.push(
        {
            "name": "after_w",
            "params": {"upstream": {"type": "string"}},
            "steps": [{"id": "a", "type": "noop"}],
            "triggers": [
                {
                    "id": "w_done",
                    "event": {
                        "bus": "podium",
                        "pattern": {"source": ["podium"], "detail": {"workflow": ["w"]}},
                    },
                    "params": {"upstream": "${event.detail.run_id}"},
                }
            ],
        }
    )
    answer = events.handler({"podium_bus": "podium", "event": status_change("x1")}, None)
    assert answer["matched"] == 1 and len(answer["runs"]) == 1
