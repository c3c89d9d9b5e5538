"""The SQS DLQs of a deployed stack, reached with the caller's own AWS credentials (the
CLI reads their URLs from the stack's outputs)."""

from __future__ import annotations

from typing import Any

from podium.core.dead_letters import DeadLetter

# A peek hides what it read for this long, so one listing sees each message once, then
# makes them visible again at once.
_PEEK_VISIBILITY_S = 30


class SqsDeadLetters:
    def __init__(self, sqs: Any, queues: dict[str, tuple[str, str | None]]) -> None:
        """``queues``: name -> (DLQ URL, URL of the queue to redrive to, or None)."""
        self._sqs, self._queues = sqs, queues

    def _receive(self, name: str, url: str, limit: int) -> list[tuple[DeadLetter, str]]:
        seen: dict[str, tuple[DeadLetter, str]] = {}
        while len(seen) < limit:
            got = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                VisibilityTimeout=_PEEK_VISIBILITY_S,
                AttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                break
            for m in fresh:
                count = m.get("Attributes", {}).get("ApproximateReceiveCount")
                letter = DeadLetter(name, m["MessageId"], m["Body"], int(count) if count else None)
                seen[m["MessageId"]] = (letter, m["ReceiptHandle"])
        return list(seen.values())

    def peek(self, limit: int, *, redrivable_only: bool = False) -> list[DeadLetter]:
        out: list[DeadLetter] = []
        for name, (url, target) in sorted(self._queues.items()):
            if redrivable_only and target is None:
                continue  # the trigger DLQ: a redrive leaves it
            got = self._receive(name, url, limit - len(out))
            for i in range(0, len(got), 10):  # visible again for the next reader
                self._sqs.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(j), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
                        for j, (_, receipt) in enumerate(got[i : i + 10])
                    ],
                )
            out.extend(letter for letter, _ in got)
        return out

    def redrive(self, limit: int) -> list[DeadLetter]:
        moved: list[DeadLetter] = []
        for name, (url, target) in sorted(self._queues.items()):
            if target is None:
                continue
            for letter, receipt in self._receive(name, url, limit - len(moved)):
                # Send first, then delete: a crash in between sends it twice, which every
                # handler shrugs off; the other order could lose it.
                self._sqs.send_message(QueueUrl=target, MessageBody=letter.body)
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=receipt)
                moved.append(letter)
        return moved
