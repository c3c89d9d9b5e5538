"""``podium dlq list`` read the DLQs one after the other (event, trigger, work) until its
limit (100): an event DLQ holding 105 dead letters took the whole limit, and nothing
said that the work DLQ held any, nor that more were not shown; the operator concluded
the work DLQ was empty. The limit is shared between the DLQs now, and each DLQ's count
(SQS's ApproximateNumberOfMessages) is printed with how many were not shown."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration import dlq_support
from tests.integration.dlq_support import execs, fill, on_stack

stack = dlq_support.stack
user = dlq_support.user


def test_dlq_list_said_there_are_more_than_it_shows(stack: dict[str, str], user: Path) -> None:
    """The event DLQ held 105 dead letters and the work DLQ 3."""
    fill(stack["EventDlqUrl"], [{"t": "start", "run": f"ev{i}"} for i in range(105)])
    fill(stack["WorkDlqUrl"], execs(3, prefix="wk"))

    listed = dlq_support.on_stack("dlq", "list")

    assert listed.exit_code == 0, listed.output
    shown = listed.output.count("start ev") + listed.output.count("exec wk")
    assert shown == 100
    said = listed.output.lower()
    assert "more" in said or "left" in said or "not shown" in said, (
        "108 dead letters, 100 shown, and nothing says the rest are there"
    )
    # Was: 100 event dead letters, not one of the work DLQ's.
    assert listed.output.count("exec wk") == 3
    lines = " ".join(listed.output.split())
    assert "event DLQ: 105 waiting, 8 more not shown" in lines, lines
    assert "work DLQ: 3 waiting" in lines


def test_a_small_limit_showed_some_of_each_queue(stack: dict[str, str], user: Path) -> None:
    fill(stack["EventDlqUrl"], [{"t": "start", "run": f"ev{i}"} for i in range(30)])
    fill(stack["WorkDlqUrl"], execs(30, prefix="wk"))
    fill(stack["TriggerDlqUrl"], [{"source": "acme", "detail-type": "Paid"}] * 2)

    listed = on_stack("dlq", "list", "--limit", "10", "--json")

    assert listed.exit_code == 0, listed.output
    said = json.loads(listed.stdout)
    queues = [m["queue"] for m in said["messages"]]
    assert len(queues) == 10
    assert queues.count("trigger") == 2 and queues.count("event") == 4, queues
    assert queues.count("work") == 4, queues
    held = {q["queue"]: q["waiting"] for q in said["queues"]}
    assert held == {"event": 30, "trigger": 2, "work": 30}
