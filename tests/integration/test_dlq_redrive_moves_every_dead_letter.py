"""``podium dlq redrive`` on a stack moved at most 100 dead letters (MAX_LIST), printed
them as "redriven" and said nothing of the rest, still in the DLQ with its alarm firing;
and one run while a ``podium dlq list`` was reading the DLQ (a listing hides what it
reads for 30 s) said "redriven: none" with nothing left to do. It moves them all now, in
pages (up to MAX_MOVE a time), prints at most ``--limit`` of them, and says how many are
left (in flight too) and to run it again."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from podium.service import dead_letters
from tests.integration import dlq_support
from tests.integration import remote_support as rs
from tests.integration.dlq_support import count, execs, fill, on_stack

stack = dlq_support.stack
user = dlq_support.user


def test_dlq_redrive_moved_every_dead_letter_or_said_how_many_are_left(
    stack: dict[str, str], user: Path
) -> None:
    """After an outage the work DLQ held 130 messages; the redrive moved 100 and said
    nothing of the 30 left."""
    fill(stack["WorkDlqUrl"], execs(130))

    done = on_stack("dlq", "redrive")

    assert done.exit_code == 0, done.output
    left = count(stack["WorkDlqUrl"])
    assert left == 0 or f"{left} " in done.output, (
        f"{left} dead letters left in the work DLQ, and the output does not say so"
    )
    assert left == 0
    assert count(stack["WorkQueueUrl"]) == 130
    assert "130 in all, 30 not shown" in " ".join(done.output.split())


def test_dlq_redrive_json_counted_every_message_moved(stack: dict[str, str], user: Path) -> None:
    fill(stack["WorkDlqUrl"], execs(130))

    done = on_stack("dlq", "redrive", "--json", "--limit", "5")

    assert done.exit_code == 0, done.output
    said = json.loads(done.stdout)
    assert said["count"] == 130 and len(said["messages"]) == 5
    assert count(stack["WorkQueueUrl"]) == 130


def test_a_redrive_stopped_at_its_bound_said_how_many_are_left(
    stack: dict[str, str], user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded (MAX_MOVE a time, made 20 here), the redrive said nothing of the rest."""
    monkeypatch.setattr(dead_letters, "MAX_MOVE", 20)
    monkeypatch.setattr(dead_letters, "_PAGE", 7)
    fill(stack["WorkDlqUrl"], execs(30))

    done = on_stack("dlq", "redrive")

    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert count(stack["WorkQueueUrl"]) == 20
    assert "work DLQ: 10 left: run it again" in said, said


def test_a_redrive_during_a_listing_said_what_was_in_flight(
    stack: dict[str, str], user: Path
) -> None:
    """A ``dlq list`` in another terminal had just received the 2 dead letters (hidden
    for 30 s); the redrive moved none and said "redriven: none", exit 0, as if the DLQ
    were empty."""
    fill(stack["WorkDlqUrl"], execs(2))
    sqs = boto3.client("sqs", region_name=rs.REGION)
    sqs.receive_message(
        QueueUrl=stack["WorkDlqUrl"], MaxNumberOfMessages=10, VisibilityTimeout=30
    )  # the listing's read

    done = on_stack("dlq", "redrive")

    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "work DLQ: 2 left, 2 of them in flight" in said, said
    assert "run it again" in said
