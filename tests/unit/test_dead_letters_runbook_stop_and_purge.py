"""The "Dead letters" runbook of docs/operations.md, checked against what the commands it
names do: its step 5 restarted a stuck (RUNNING) run with ``podium runs restart``, which
takes only an ended run; and it gave no way to clear dead letters dealt with by hand, so
their DLQ's alarm kept firing."""

from __future__ import annotations

import re
from pathlib import Path

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _section(title: str) -> str:
    text = OPERATIONS.read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    # Up to the next section of the same level (its ### subsections are other runbooks).
    sub = text.find("\n### ", start + 1)
    ends = [e for e in (end, sub) if e != -1]
    return text[start : min(ends)] if ends else text[start:]


def test_the_runbook_stops_a_stuck_run_before_restarting_it() -> None:
    """Step 5 said a run still stuck after the redrive is to be restarted with ``podium
    runs restart RUN``; a stuck run is RUNNING, and restart takes only an ended run
    ("cannot restart run X: it is RUNNING; allowed from RUNNING: kill, pause, stop",
    exit 1). It says to stop it first (``podium runs stop RUN``), then restart it."""
    runbook = _section("Dead letters")
    step5 = re.search(r"\n5\. (.*?)(?:\n\n|\Z)", runbook, re.S)
    assert step5 is not None, runbook
    assert "podium runs restart" in step5.group(1)
    assert "podium runs stop" in step5.group(1), step5.group(1)


def test_the_runbook_says_how_to_clear_dead_letters_it_leaves() -> None:
    """Step 4 left trigger dead letters (and any that fail again) in their DLQ once
    handled by hand, so its ``*-dlq-not-empty`` alarm kept firing for the DLQ's 14 days'
    retention; neither the runbook nor ``podium dlq`` said how to remove a dead letter
    that was dealt with. The runbook names ``podium dlq purge``."""
    runbook = _section("Dead letters").lower()
    assert any(word in runbook for word in ("purge", "delete", "remove", "drop")), runbook
    assert "podium dlq purge --queue" in runbook, runbook
