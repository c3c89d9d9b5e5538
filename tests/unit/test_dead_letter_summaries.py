"""``podium dlq list`` says what each dead letter was for (docs/operations.md, Dead
letters, step 1). Two kinds came out as a bare "?" (now the wrapped event, and the
fire's workflow/trigger and time):

- an EventBridge event from a named bus or Podium's own bus: the construct's rule targets
  deliver ``{"podium_bus": NAME, "event": EVENT}`` (infra/podium_cdk/eventing.py
  ``_from_bus``, unwrapped by handlers/events.py), and that wrapped payload is what the
  events function's async-invoke DLQ keeps; core/dead_letters.DeadLetter.summary read
  ``detail-type``/``source`` only at the top level: "event ? from ?";
- a cron/rate trigger's ``fire`` (and a backfill driver) names no run: "fire ?", with
  nothing to say which workflow or trigger lost its scheduled run.
"""

from __future__ import annotations

import json

from podium.core.dead_letters import DeadLetter
from tests.unit.test_events_handler import S3_EVENT


def test_a_wrapped_bus_event_says_what_it_was() -> None:
    letter = DeadLetter("trigger", "m-1", json.dumps({"podium_bus": "podium", "event": S3_EVENT}))
    summary = letter.summary()
    # Was: "event ? from ?"
    assert "Object Created" in summary and "aws.s3" in summary, summary


def test_a_dead_fire_names_its_workflow_and_trigger() -> None:
    body = {"t": "fire", "wf": "nightly_etl", "tr": "every_night", "at": "2026-01-02T03:00:00Z"}
    summary = DeadLetter("event", "m-2", json.dumps(body)).summary()
    # Was: "fire ?"
    assert "nightly_etl" in summary and "every_night" in summary, summary
