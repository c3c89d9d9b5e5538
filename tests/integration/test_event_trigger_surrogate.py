"""A lone surrogate (\\ud800) in run params is refused whichever way it comes: the API
refuses it in a body, and now an event trigger that renders it from its event into a
param starts no run (before, the run started and stored what the API never would)."""

from __future__ import annotations

import json
from typing import Any

from podium.handlers import events
from podium.local.runtime import LocalRuntime

WORKFLOW = {
    "name": "on_event",
    "params": {"key": {"type": "string", "default": "x"}},
    "steps": [{"id": "a", "type": "noop"}],
    "triggers": [
        {
            "id": "app",
            "event": {"pattern": {"source": ["my.app"]}},
            "params": {"key": "${event.detail.key}"},
        }
    ],
}


def test_an_event_whose_value_is_a_lone_surrogate_starts_no_run(runtime: LocalRuntime) -> None:
    runtime.push(WORKFLOW)
    # As the events function gets it: JSON text with a \ud800 escape, parsed by Python.
    event: dict[str, Any] = json.loads(
        '{"version": "0", "id": "e-1", "source": "my.app", "detail-type": "X",'
        ' "account": "1", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",'
        ' "resources": [], "detail": {"key": "a\\ud800"}}'
    )
    answer = events.handler(event, None)
    # Was: {"matched": 1, "runs": [<run id>], "failed": []}, the run's params
    # {"key": "a\ud800"}.
    assert answer.get("runs") == [], answer
    assert answer.get("failed") == ["on_event/app"], answer
