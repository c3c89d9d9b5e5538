"""``podium dlq list|redrive`` on a stack read its DLQs with SQS short polling
(ReceiveMessage without WaitTimeSeconds) and stopped at the first receive that brought
nothing new. SQS documents that a short poll samples a subset of its servers: on a queue
with few messages it returns fewer than asked, or none ("If this happens, repeat the
request"). So a DLQ holding the two messages that fired its alarm could be listed as
"dead letters: none" and redriven as "redriven: none". A receive that comes back short
of the DLQ's count (ApproximateNumberOfMessages) is followed by a long poll now; a DLQ
whose count is 0 is read with one short poll (no wait)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from podium.adapters.sqs_dead_letters import SqsDeadLetters
from podium.service.dead_letters import redrive


class SampledSqs:
    """SQS as a short poll sees a sparse queue: the first short poll of each queue finds
    nothing (its sample missed the servers holding the messages), later ones one message
    each; a long poll (WaitTimeSeconds > 0) asks every server. The queue's counts are
    exact (a DLQ whose alarm fired has held its messages for minutes)."""

    def __init__(self) -> None:
        self.queues: dict[str, list[dict[str, Any]]] = {}
        self.hidden: set[str] = set()
        self.short_polls: dict[str, int] = {}
        self.waits: list[int] = []
        self.failing_visibility = False
        self._n = 0

    def send_message(self, QueueUrl: str, MessageBody: str, **_: Any) -> dict[str, Any]:
        self._n += 1
        mid = f"m{self._n}"
        self.queues.setdefault(QueueUrl, []).append({"MessageId": mid, "Body": MessageBody})
        return {"MessageId": mid}

    def send_message_batch(self, QueueUrl: str, Entries: list[Any]) -> dict[str, Any]:
        for entry in Entries:
            self.send_message(QueueUrl=QueueUrl, MessageBody=entry["MessageBody"])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def get_queue_attributes(self, QueueUrl: str, **_: Any) -> dict[str, Any]:
        held = self.queues.get(QueueUrl, [])
        hidden = sum(m["MessageId"] in self.hidden for m in held)
        return {
            "Attributes": {
                "ApproximateNumberOfMessages": str(len(held) - hidden),
                "ApproximateNumberOfMessagesNotVisible": str(hidden),
            }
        }

    def receive_message(
        self, QueueUrl: str, MaxNumberOfMessages: int = 1, WaitTimeSeconds: int = 0, **_: Any
    ) -> dict[str, Any]:
        self.waits.append(WaitTimeSeconds)
        visible = [m for m in self.queues.get(QueueUrl, []) if m["MessageId"] not in self.hidden]
        if not WaitTimeSeconds:
            polls = self.short_polls[QueueUrl] = self.short_polls.get(QueueUrl, 0) + 1
            visible = [] if polls == 1 else visible[:1]
        got = visible[:MaxNumberOfMessages]
        self.hidden.update(m["MessageId"] for m in got)
        return {
            "Messages": [
                {
                    **m,
                    "ReceiptHandle": m["MessageId"],
                    "Attributes": {"ApproximateReceiveCount": "6"},
                }
                for m in got
            ]
        }

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[Any]) -> dict[str, Any]:
        if self.failing_visibility:
            return {
                "Successful": [],
                "Failed": [
                    {"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True}
                    for e in Entries
                ],
            }
        for entry in Entries:
            self.hidden.discard(entry["ReceiptHandle"])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.queues[QueueUrl] = [
            m for m in self.queues[QueueUrl] if m["MessageId"] != ReceiptHandle
        ]
        self.hidden.discard(ReceiptHandle)

    def delete_message_batch(self, QueueUrl: str, Entries: list[Any]) -> dict[str, Any]:
        for entry in Entries:
            self.delete_message(QueueUrl=QueueUrl, ReceiptHandle=entry["ReceiptHandle"])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def _dlqs() -> tuple[SampledSqs, SqsDeadLetters]:
    sqs = SampledSqs()
    for i in range(2):
        body = {"t": "exec", "run": f"run{i}", "step": "a", "attempt": 1}
        sqs.send_message(QueueUrl="work-dlq", MessageBody=json.dumps(body))
    return sqs, SqsDeadLetters(
        sqs, {"work": ("work-dlq", "work"), "event": ("event-dlq", "events")}
    )


def test_a_listing_of_a_sparse_dlq_found_its_messages() -> None:
    """The work DLQ held the 2 messages that set off its alarm; ``podium dlq list`` said
    "dead letters: none" because one short poll came back empty."""
    _, queues = _dlqs()

    listed = queues.peek(100)

    assert sorted(m.summary() for m in listed) == ["exec run0/a#1", "exec run1/a#1"]


def test_a_redrive_of_a_sparse_dlq_moved_its_messages() -> None:
    """``podium dlq redrive`` moved none (and said "redriven: none") when its first
    short poll came back empty."""
    sqs, queues = _dlqs()

    done = redrive(queues, dry_run=False)

    assert sorted(m.summary() for m in done.moved) == ["exec run0/a#1", "exec run1/a#1"]
    assert len(sqs.queues["work"]) == 2


def test_an_empty_dlq_was_read_without_waiting() -> None:
    """The long poll is for a DLQ whose count says it holds more than was read: an
    empty one costs one short poll, not a wait."""
    sqs, queues = _dlqs()

    queues.peek(100)

    event_polls = sqs.short_polls.get("event-dlq", 0)
    assert event_polls == 1
    assert sqs.waits.count(0) + sqs.waits.count(1) == len(sqs.waits)
    assert sqs.waits.count(1) <= 2  # the work DLQ's: found both, then found none


def test_a_listing_whose_messages_stayed_hidden_said_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SQS refused to make the listed messages visible again (a failed entry of
    ChangeMessageVisibilityBatch): nothing said that a redrive would not see them for
    30 s."""
    sqs, queues = _dlqs()
    sqs.failing_visibility = True

    with caplog.at_level(logging.WARNING, logger="podium.dead_letters"):
        queues.peek(100)

    assert "2 dead letter(s) of work-dlq stay hidden" in caplog.text, caplog.text
    assert "ReceiptHandleIsInvalid" in caplog.text
