"""The SQS DLQs of a deployed stack, reached with the caller's own AWS credentials (the
CLI reads their URLs from the stack's outputs). Every call here is allowed by the
construct's ``grant_operate`` (its ``grant_consume_messages`` on the DLQs and
``grant_send_messages`` on the work and event queues)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from podium.core.dead_letters import DeadLetter, DeadLetterCount, share_limit

log = logging.getLogger("podium.dead_letters")

# A peek hides what it read for this long, so one listing sees each message once, then
# makes them visible again at once. A redrive or purge hides a batch while it moves it.
_PEEK_VISIBILITY_S = 30
# A short poll samples some of SQS's servers and may miss the few messages of a sparse
# DLQ; when one comes back short of the count, a long poll (which asks every server)
# looks again, waiting at most this long on a DLQ that really is empty.
_LONG_POLL_S = 1
_BATCH = 10  # SQS's most per receive, send or delete call

_Received = tuple[DeadLetter, str]  # the letter, its receipt handle


class DeadLetterQueueError(Exception):
    """An SQS call on a DLQ was refused or failed (the CLI says which, in a line)."""

    def __init__(self, queue: str, url: str, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation} on the {queue} DLQ ({url}): {code}: {message}")
        self.queue, self.url, self.operation = queue, url, operation
        self.code, self.message = code, message

    @property
    def refused(self) -> bool:
        """Whether the caller's credentials lack a permission (or are not valid)."""
        text = f"{self.code} {self.message}".lower()
        return any(w in text for w in ("accessdenied", "not authorized", "unauthorized"))


@contextmanager
def _calling(queue: str, url: str) -> Iterator[None]:
    """Name the queue in a botocore error (which names only the operation)."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise DeadLetterQueueError(
            queue,
            url,
            exc.operation_name,
            str(error.get("Code", "?")),
            str(error.get("Message", "")),
        ) from exc
    except BotoCoreError as exc:
        raise DeadLetterQueueError(queue, url, "a call", type(exc).__name__, str(exc)) from exc


class SqsDeadLetters:
    def __init__(self, sqs: Any, queues: dict[str, tuple[str, str | None]]) -> None:
        """``queues``: name -> (DLQ URL, URL of the queue to redrive to, or None)."""
        self._sqs, self._queues = sqs, queues

    def counts(self) -> list[DeadLetterCount]:
        out = []
        for name, (url, _) in sorted(self._queues.items()):
            with _calling(name, url):
                attrs = self._sqs.get_queue_attributes(
                    QueueUrl=url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                )["Attributes"]
            out.append(
                DeadLetterCount(
                    name,
                    int(attrs.get("ApproximateNumberOfMessages", 0)),
                    int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                )
            )
        return out

    def _batches(self, name: str, url: str, limit: int, expected: int) -> Iterator[list[_Received]]:
        """Receive up to ``limit`` messages, a batch at a time, until the DLQ is read out:
        a short poll that brings nothing new ends it once ``expected`` (the DLQ's count)
        were seen; short of that, a long poll looks again, and one that brings nothing
        new ends it. Received messages stay hidden: the caller deletes them, or makes
        them visible again when it has read them all."""
        seen: set[str] = set()
        wait = 0
        while len(seen) < limit:
            got = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(_BATCH, limit - len(seen)),
                VisibilityTimeout=_PEEK_VISIBILITY_S,
                WaitTimeSeconds=wait,
                AttributeNames=["ApproximateReceiveCount"],
            ).get("Messages", [])
            fresh = [m for m in got if m["MessageId"] not in seen]
            if not fresh:
                if wait or len(seen) >= expected:
                    return
                wait = _LONG_POLL_S
                continue
            batch = []
            for m in fresh:
                seen.add(m["MessageId"])
                count = m.get("Attributes", {}).get("ApproximateReceiveCount")
                letter = DeadLetter(name, m["MessageId"], m["Body"], int(count) if count else None)
                batch.append((letter, m["ReceiptHandle"]))
            yield batch

    def _show_again(self, url: str, got: list[_Received]) -> None:
        for i in range(0, len(got), _BATCH):
            entries = [
                {"Id": str(j), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
                for j, (_, receipt) in enumerate(got[i : i + _BATCH])
            ]
            answer = self._sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
            failed = (answer or {}).get("Failed", [])
            if failed:  # they show again by themselves when their visibility ends
                codes = sorted({f.get("Code", "?") for f in failed})
                log.warning(
                    "%d dead letter(s) of %s stay hidden for up to %d s (%s)",
                    len(failed), url, _PEEK_VISIBILITY_S, ", ".join(codes),
                )  # fmt: skip

    def peek(self, limit: int, *, redrivable_only: bool = False) -> list[DeadLetter]:
        names = [n for n, (_, to) in sorted(self._queues.items()) if to or not redrivable_only]
        waiting = {c.queue: c.waiting for c in self.counts() if c.queue in names}
        quota = share_limit(limit, waiting)
        # A share the counts did not claim (they are approximate) goes to the next queue.
        spare = limit - sum(quota.values())
        out: list[DeadLetter] = []
        for name in names:
            url = self._queues[name][0]
            allowed = quota[name] + spare
            with _calling(name, url):
                got = [r for b in self._batches(name, url, allowed, waiting[name]) for r in b]
                self._show_again(url, got)  # visible again for the next reader
            spare = allowed - len(got)
            out.extend(letter for letter, _ in got)
        return out

    def _delete(self, url: str, batch: list[_Received]) -> list[DeadLetter]:
        """Delete ``batch``; returns those deleted (a failed one stays, to be seen again)."""
        if not batch:
            return []
        entries = [{"Id": str(j), "ReceiptHandle": r} for j, (_, r) in enumerate(batch)]
        failed = self._sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
        gone = {f["Id"] for f in failed}
        if failed:
            log.warning("%d dead letter(s) of %s not deleted", len(failed), url)
        return [letter for j, (letter, _) in enumerate(batch) if str(j) not in gone]

    def redrive(self, limit: int) -> list[DeadLetter]:
        moved: list[DeadLetter] = []
        counts = {c.queue: c.waiting for c in self.counts()}
        for name, (url, target) in sorted(self._queues.items()):
            if target is None:
                continue  # the trigger DLQ: nowhere to go back to
            with _calling(name, url):
                moved.extend(self._move(name, url, target, limit - len(moved), counts[name]))
        return moved

    def _move(
        self, name: str, url: str, target: str, limit: int, expected: int
    ) -> Iterator[DeadLetter]:
        for batch in self._batches(name, url, limit, expected):
            # Send first, then delete: a crash in between sends it twice, which every
            # handler shrugs off; the other order could lose it.
            sent = self._sqs.send_message_batch(
                QueueUrl=target,
                Entries=[
                    {"Id": str(j), "MessageBody": letter.body}
                    for j, (letter, _) in enumerate(batch)
                ],
            )
            unsent = {f["Id"] for f in sent.get("Failed", [])}
            if unsent:  # left in the DLQ (seen again once its visibility ends)
                log.warning("%d dead letter(s) of %s not sent back", len(unsent), url)
            yield from self._delete(url, [r for j, r in enumerate(batch) if str(j) not in unsent])

    def purge(self, queue: str, limit: int) -> list[DeadLetter]:
        url = self._queues[queue][0]
        # Receive and delete, not PurgeQueue: grant_operate allows these (not
        # sqs:PurgeQueue), and a purge can be repeated at once (PurgeQueue: once a minute).
        expected = {c.queue: c.waiting for c in self.counts()}[queue]
        deleted: list[DeadLetter] = []
        with _calling(queue, url):
            for batch in self._batches(queue, url, limit, expected):
                deleted.extend(self._delete(url, batch))
        return deleted
