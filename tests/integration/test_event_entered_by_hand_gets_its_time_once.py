"""A hand-made event (``podium run --event FILE``, ``fire_trigger``) enters as an event
enters EventBridge: a missing ``time`` is set once, an unreadable one refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.external import run_created_ms
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.triggers import start_from_event

WF = {
    "name": "ingest_by_hand",
    "params": {"key": {"type": "string"}, "at": {"type": "string"}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "upload",
            "s3": {"bucket": "landing", "prefix": "raw/"},
            "params": {"key": "${event.detail.object.key}", "at": "${event.time}"},
        }
    ],
}
EVENT = {
    "source": "aws.s3",
    "detail-type": "Object Created",
    "detail": {"bucket": {"name": "landing"}, "object": {"key": "raw/a.csv"}},
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        runtime.push(WF)
        yield runtime


def test_an_event_without_a_time_takes_now_where_it_enters(rt: LocalRuntime) -> None:
    run = start_from_event(rt.services, "ingest_by_hand", dict(EVENT))
    assert run.params["at"] == "2026-01-15T00:00:00Z"  # as EventBridge would set it
    assert run_created_ms(run.run_id) == parse_iso("2026-01-15T00:00:00Z")  # not 0


def test_an_event_whose_time_does_not_read_is_refused_naming_the_field(
    rt: LocalRuntime,
) -> None:
    """A hand-made event's unreadable ``time`` started a run whose id took the time it
    was handled (another on each try); it is refused, naming the field and the format."""
    with pytest.raises(DefinitionError) as caught:
        start_from_event(rt.services, "ingest_by_hand", {**EVENT, "time": "yesterday"})
    text = str(caught.value)
    assert "event.time" in text and "ISO 8601" in text
    assert rt.store.list_runs("ingest_by_hand", 10) == []


def test_podium_run_event_without_a_time_still_runs(tmp_path: Path) -> None:
    from tests.integration.test_cli_local import podium

    (tmp_path / "wf.json").write_text(json.dumps(WF))
    (tmp_path / "event.json").write_text(json.dumps(EVENT))
    home = tmp_path / "home"
    result = podium(home, "run", str(tmp_path / "wf.json"), "--event", str(tmp_path / "event.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCEEDED" in result.stdout
