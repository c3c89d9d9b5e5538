"""An event delivered again after a new version made its trigger's params fail.

``start_triggered`` (service/triggers.py) rendered and checked the trigger's params
before the run's id was looked at: an S3 upload that had started its run under version
1, delivered again (EventBridge delivers at least once) after version 2 made the same
key fail its params, was recorded as the trigger's failure ("did not start a run",
TriggerFailed, `podium triggers list`) and answered as failed, though its run existed.
A firing whose params fail now looks for the run its id names first (a read on the
failure's path only: a first delivery that starts its run reads nothing more).
"""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.core.engine.schedule import parse_iso
from podium.local.runtime import LocalRuntime
from podium.service.triggers import list_triggers, route_trigger_event


def ingest(only: str) -> dict[str, Any]:
    return {
        "name": "ingest",
        "params": {
            "key": {
                "type": "string",
                "validate": {"expr": f"value.endsWith('{only}')", "message": f"only {only}"},
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


UPLOAD = {
    "version": "0",
    "id": "e-1",
    "source": "aws.s3",
    "detail-type": "Object Created",
    "time": "2026-03-27T12:00:00Z",
    "detail": {"bucket": {"name": "landing"}, "object": {"key": "raw/day.csv"}},
}


def test_a_redelivered_upload_finds_its_run_after_its_params_stopped_validating() -> None:
    """The upload started its run under version 1 (csv files); version 2 takes json
    files only; the same event delivered again recorded a failure of the trigger and
    answered "failed". It now answers with the run it started, and records nothing."""
    clock = ManualClock(start_ms=parse_iso("2026-03-27T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(ingest(".csv"))
        first = route_trigger_event(rt.services, UPLOAD)
        assert first is not None and len(first["runs"]) == 1 and first["failed"] == []
        clock.advance(60_000)
        rt.push(ingest(".json"))
        again = route_trigger_event(rt.services, UPLOAD)  # EventBridge's redelivery
        assert again == {"matched": 1, "runs": first["runs"], "failed": []}
        (listed,) = list_triggers(rt.services, "ingest")
        assert listed["last_failure"] is None, listed["last_failure"]
        assert len(rt.store.list_runs("ingest", 10)) == 1


def test_a_new_upload_whose_params_fail_is_still_recorded() -> None:
    """The look-up finds no run for an event that never started one: its failure is
    recorded as before."""
    clock = ManualClock(start_ms=parse_iso("2026-03-27T12:00:00Z"))
    with LocalRuntime(store="memory", clock=clock) as rt:
        rt.push(ingest(".json"))
        answer = route_trigger_event(rt.services, UPLOAD)
        assert answer == {"matched": 1, "runs": [], "failed": ["ingest/upload"]}
        (listed,) = list_triggers(rt.services, "ingest")
        assert listed["last_failure"]["error"].endswith("only .json")
