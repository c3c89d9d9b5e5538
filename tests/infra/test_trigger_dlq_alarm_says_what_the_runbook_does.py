"""The ``trigger-dlq-not-empty`` alarm told the operator to "redrive", which the CLI
never does for the trigger DLQ: ``podium dlq redrive`` sends work and event dead
letters back and leaves trigger dead letters listed. docs/operations.md's "Dead
letters" runbook says to start the runs they were for by hand, then purge."""

from __future__ import annotations

from infra_support import Synth


def _descriptions(synth: Synth) -> dict[str, str]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]["AlarmDescription"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def test_the_trigger_dlq_alarm_says_start_then_purge(default: Synth) -> None:
    said = _descriptions(default)["podium-trigger-dlq-not-empty"]
    assert "redrive" not in said, said
    assert "podium start" in said and "podium dlq purge --queue trigger" in said, said


def test_the_work_and_event_dlq_alarms_still_say_redrive(default: Synth) -> None:
    descriptions = _descriptions(default)
    for name in ("work", "event"):
        assert "podium dlq redrive" in descriptions[f"podium-{name}-dlq-not-empty"]
