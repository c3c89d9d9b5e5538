"""An event trigger's event delivered twice starts one run, whatever its ``time`` says
(missing, epoch milliseconds, text): the run id comes from the event alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.handlers import events
from podium.local.runtime import LocalRuntime

INGEST = {
    "name": "ingest_twice",
    "params": {"key": {"type": "string"}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "upload",
            "s3": {"bucket": "landing", "prefix": "raw/"},
            "params": {"key": "${event.detail.object.key}"},
        }
    ],
}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    clock = ManualClock(start_ms=parse_iso("2026-01-15T00:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as runtime:
        runtime.push(INGEST)
        yield runtime


@pytest.mark.parametrize("time", [None, 1768478400000, "yesterday"])
def test_an_event_without_a_readable_time_delivered_twice_starts_one_run(
    rt: LocalRuntime, time: Any
) -> None:
    """An S3 event with its id but no ISO ``time`` (missing, epoch ms, text) delivered
    twice a minute apart: each delivery took the clock's now as the run id's time, so
    the second started a second run for the same event id. The run id comes from the
    event alone now (docs: "an event delivered twice finds the run it started")."""
    event: dict[str, Any] = {
        "version": "0",
        "id": "e-same",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "landing"}, "object": {"key": "raw/a.csv"}},
    }
    if time is not None:
        event["time"] = time
    first = events.handler(dict(event), None)
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    clock.advance(60_000)
    second = events.handler(dict(event), None)
    assert first["runs"] == second["runs"], f"two runs for event e-same: {first} / {second}"
    assert len(rt.store.list_runs("ingest_twice", 10)) == 1
