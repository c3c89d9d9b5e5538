"""A record that fails inside a batch that otherwise succeeds left no trace in the
function's logs. handlers/_sqs.run_batch built its BatchProcessor without a logger, and
Powertools then reported a failed record only at DEBUG ("Record processing exception"):
CloudWatch (LOG_LEVEL INFO) never showed why the message failed, on any of its 5
receives, before it reaches the DLQ. The runbook (docs/operations.md, Dead letters,
step 2) sends the operator to "the functions' logs in CloudWatch for the error that
repeated". Only a batch in which every record failed is visible (Powertools raises
BatchProcessingError then). run_batch logs it now: a warning naming the message, its
receive count and the error, with its traceback."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.handlers import advance, work
from podium.local.runtime import LocalRuntime
from tests.unit.test_sqs_batches import record

BAD_ID = "r24-bad-record-id"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def _mentions(rec: logging.LogRecord, needle: str) -> bool:
    text = rec.getMessage()
    if rec.exc_info and rec.exc_info[1] is not None:
        text += " " + str(rec.exc_info[1])
    return needle in text


@pytest.mark.parametrize(
    ("handler", "bad_body", "needle"),
    [
        (advance.handler, {"t": "r24-unknown-kind", "run": "x"}, "r24-unknown-kind"),
        (work.handler, {"t": "start", "run": "r24-on-the-wrong-queue"}, "r24-on-the-wrong-queue"),
        (advance.handler, "r24 not json at all", "Expecting value"),
    ],
    ids=["event-unknown-kind", "work-wrong-kind", "event-not-json"],
)
def test_a_failed_record_in_a_mixed_batch_is_logged_at_warning_or_above(
    rt: LocalRuntime,
    caplog: pytest.LogCaptureFixture,
    handler: Any,
    bad_body: Any,
    needle: str,
) -> None:
    # A good record beside the bad one: the batch is a partial failure, not a whole one.
    good = {"t": "ended_check", "run": "01R24GONE"}  # a timer of a pruned run: dropped
    if handler is work.handler:
        # a retry's exec that came early (a 15-minute hop): sent on, nothing raised
        later = rt.clock.now_ms() + 3_600_000
        good = {"t": "exec", "run": "01R24GONE", "step": "a", "attempt": 2, "nb": later}
    event = {"Records": [record("good", good), record(BAD_ID, bad_body)]}
    with caplog.at_level(logging.DEBUG):
        answer = handler(event, None)
    assert answer["batchItemFailures"] == [{"itemIdentifier": BAD_ID}]
    # Was: only aws_lambda_powertools' DEBUG "Record processing exception: ...".
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert any(_mentions(r, needle) or _mentions(r, BAD_ID) for r in loud), [
        (r.name, r.levelname, r.getMessage()) for r in caplog.records
    ]
