"""Timers outlive their run: a run pruned from the local home (``podium runs prune
--older-than 30m``) or expired by PODIUM_RUN_RETENTION_DAYS leaves its pending timers
behind (a retry's exec, due up to hours later; a ``stop_work`` retry of an ended
attempt's external work, 12 tries over about 2.5 hours; an ``emit`` look-again). The
deadline, ended-check, signal-check and done/poll timers of a gone run are dropped with
a warning (service/gone_runs.still_there: "raising would only dead-letter them";
docs/operations.md: "the timers a pruned run left ... are dropped when they come due").
These three raised RunNotFound (the run is read with a consistent read, so it is not a
race that a retry could win): the record failed on all 5 receives, went to the DLQ and
fired the DLQ alarm for nothing. They are dropped with a warning too now."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.handlers import advance, work
from podium.local.runtime import LocalRuntime
from tests.unit.test_sqs_batches import record

GONE = "01R24PRUNEDRUNXXXXXXXXXXXX"


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


@pytest.mark.parametrize(
    "body",
    [
        {"t": "stop_work", "run": GONE, "step": "job", "attempt": 1, "n": 3, "why": "stopped"},
        {"t": "emit", "run": GONE, "step": "notify", "attempt": 1, "n": 2},
    ],
    ids=["stop_work", "emit"],
)
def test_an_event_timer_of_a_gone_run_is_dropped_not_dead_lettered(
    rt: LocalRuntime, body: dict[str, Any]
) -> None:
    # The same batch as the timers that are dropped today, for comparison.
    dropped = {"t": "run_deadline", "run": GONE}
    event = {"Records": [record("deadline", dropped), record("timer", body)]}
    # Was: [{"itemIdentifier": "timer"}] (RunNotFound: run '01R24...' not found).
    assert advance.handler(event, None)["batchItemFailures"] == []


def test_a_retry_exec_of_a_gone_run_is_dropped_not_dead_lettered(rt: LocalRuntime) -> None:
    retry = {"t": "exec", "run": GONE, "step": "flaky", "attempt": 2}
    event = {"Records": [record("retry", retry)]}
    # Was: BatchProcessingError (every record failed: RunNotFound), so the message came
    # back 5 times and was dead-lettered.
    answer = work.handler(event, None)
    assert answer.get("batchItemFailures", []) == []
