"""The events function: every EventBridge event is accounted for (no trigger can match
one yet), and nothing it is sent makes it raise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium import bootstrap
from podium.adapters.clock import ManualClock
from podium.handlers import events
from podium.local.runtime import LocalRuntime

S3_EVENT = {
    "version": "0",
    "id": "e-1",
    "source": "aws.s3",
    "detail-type": "Object Created",
    "detail": {"bucket": {"name": "landing"}, "object": {"key": "raw/a.csv"}},
}


@pytest.fixture
def wired() -> Iterator[None]:
    with LocalRuntime(store="memory", clock=ManualClock()):
        yield


def test_an_s3_event_is_counted_as_unmatched(wired: None) -> None:
    assert events.handler(S3_EVENT, None) == {
        "matched": 0,
        "source": "aws.s3",
        "detail_type": "Object Created",
    }


@pytest.mark.parametrize("bad", [{}, {"source": 3}, [], "text", {"detail-type": "x"}])
def test_anything_else_is_dropped_without_raising(wired: None, bad: object) -> None:
    assert events.handler(bad, None) == {"matched": 0, "dropped": 1}  # type: ignore[arg-type]
    assert bootstrap.services() is not None
