"""An s3 trigger took S3's folder markers: the S3 console's "Create folder" puts an empty
object whose key ends in `/`, and `raw/new/` has the prefix `raw/`, so creating a folder
started a run that had no file to process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.schedule import parse_iso
from podium.handlers import events
from podium.local.runtime import LocalRuntime
from podium.testing import fire_trigger
from tests.integration.test_local_triggers import INGEST
from tests.integration.test_triggers import s3_event


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(clock=ManualClock(start_ms=parse_iso("2026-03-27T12:00:00Z"))) as runtime:
        runtime.push(INGEST)
        yield runtime


def created(key: str, size: int, event_id: str) -> dict[str, Any]:
    """S3's Object Created event of an object of ``size`` bytes at ``key``."""
    event = s3_event(key, event_id)
    event["detail"]["object"]["size"] = size
    return event


def test_an_empty_key_ending_in_a_slash_starts_no_run(rt: LocalRuntime) -> None:
    assert events.handler(created("raw/new/", 0, "e-1"), None)["matched"] == 0
    assert rt.store.list_runs("ingest", 10) == []
    # A file in that folder, and an object with bytes whose key ends in "/", do.
    assert events.handler(created("raw/new/a.csv", 10, "e-2"), None)["matched"] == 1
    assert events.handler(created("raw/odd/", 5, "e-3"), None)["matched"] == 1
    assert sorted(r.params["key"] for r in rt.store.list_runs("ingest", 10)) == [
        "raw/new/a.csv",
        "raw/odd/",
    ]


def test_firing_a_trigger_by_hand_with_a_folder_marker_says_why_nothing_matched(
    rt: LocalRuntime,
) -> None:
    with pytest.raises(DefinitionError) as refused:
        fire_trigger(rt, "ingest", created("raw/new/", 0, "e-1"))
    assert "folder marker" in str(refused.value)
