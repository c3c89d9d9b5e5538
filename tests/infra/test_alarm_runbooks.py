"""Every alarm the stack makes has a runbook in docs/operations.md: the page an
operator opens when the SNS notification arrives names the alarm and says what to do.

What was wrong: the DLQ alarms and ``sweep-check-failed`` had one; the 12 others (each
function's ``-errors`` and ``-throttles``, ``table-throttles``, ``event-queue-stale``)
were named nowhere in docs/operations.md, so their notification led nowhere
(docs/deploy.md only listed them). Now docs/operations.md's "Alarms" section has a
runbook for each."""

from __future__ import annotations

import re

from infra_support import REPO_ROOT, Synth

OPERATIONS = REPO_ROOT / "docs" / "operations.md"


def _alarm_names(synth: Synth) -> set[str]:
    return {
        a["Properties"]["AlarmName"] for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def _documented(doc: str, alarm: str, handlers: set[str]) -> bool:
    """The alarm's name (``<prefix>-work-errors``), or its family written once for all
    functions (``<prefix>-<function>-errors``, ``<prefix>-HANDLER-errors``...)."""
    suffix = alarm.removeprefix("podium-")
    if f"-{suffix}`" in doc or f"`{suffix}`" in doc:
        return True
    head, _, kind = suffix.partition("-")
    if head in handlers and kind in ("errors", "throttles"):
        return re.search(rf"<[a-z_ ]+>-{kind}`", doc) is not None
    return False


def test_every_alarm_has_a_runbook_in_operations(default: Synth) -> None:
    doc = OPERATIONS.read_text()
    alarms = _alarm_names(default)
    assert len(alarms) == 16  # docs/deploy.md: 16 alarms
    handlers = {"api", "advance", "work", "sweep", "events"}
    missing = sorted(a for a in alarms if not _documented(doc, a, handlers))
    assert not missing, f"alarms with no runbook in docs/operations.md: {missing}"
