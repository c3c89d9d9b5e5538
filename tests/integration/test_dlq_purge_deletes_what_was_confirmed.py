"""``podium dlq purge`` asked "delete the N dead letter(s)?" and then drained the queue:
a dead letter that arrived while the question was on screen was deleted unseen. It
deletes at most the N confirmed (``--yes``: all)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from tests.integration import dlq_support
from tests.integration.dlq_support import count, fill, on_stack

stack = dlq_support.stack
user = dlq_support.user

PAID = {"source": "acme.billing", "detail-type": "InvoicePaid", "detail": {}}
REFUNDED = {"source": "acme.billing", "detail-type": "InvoiceRefunded", "detail": {}}


def test_purge_does_not_delete_a_dead_letter_that_arrived_after_the_confirmation(
    stack: dict[str, str], user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator dealt with 2 trigger dead letters and confirmed "delete the 2 dead
    letter(s)"; a third one (another event whose run never started) arrived while the
    question was on screen, and the purge deleted it too, unseen and unlisted: that
    event is lost. The purge should delete at most the count it asked about (or ask
    again), leaving the newcomer in the DLQ."""
    fill(stack["TriggerDlqUrl"], [PAID, PAID])
    asked: list[str] = []

    def operator_says_yes(text: str, **_: Any) -> bool:
        asked.append(text)
        fill(stack["TriggerDlqUrl"], [REFUNDED])  # dead-lettered meanwhile
        return True

    monkeypatch.setattr(typer, "confirm", operator_says_yes)

    done = on_stack("dlq", "purge", "--queue", "trigger")

    assert done.exit_code == 0, done.output
    assert asked and "delete the 2 dead letter(s)" in asked[0]
    left = count(stack["TriggerDlqUrl"])
    assert left == 1, (
        f"confirmed 2, the purge left {left} of 3: it deleted the one that arrived after"
        " the question ('InvoiceRefunded' in output: "
        f"{'InvoiceRefunded' in done.output})"
    )
