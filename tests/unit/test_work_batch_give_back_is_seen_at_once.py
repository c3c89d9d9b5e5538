"""A record of a work batch given back for want of time (work_batch_size > 1).

It was given back as a batch item failure: SQS shows it again only after the queue's
visibility timeout, six times the work function's (90 minutes behind a 15-minute
function), and each give-back counted a receive toward the dead-letter queue. It is sent
to its queue again now, seen at once, and the batch reports no failure."""

from __future__ import annotations

import json

from podium.core.engine.status import RunStatus
from podium.handlers import advance, work
from podium.local.runtime import LocalRuntime
from tests.unit.test_step_lifecycle import HERE, SEEN, _ShortContext, _sqs_event, rt

__all__ = ["rt"]  # the fixture


def test_a_work_record_given_back_is_sent_again_not_failed(rt: LocalRuntime) -> None:
    SEEN.clear()
    step = {"id": "a", "type": "lambda", "function": f"{HERE}:record"}
    rt.push({"name": "one", "run_strategy": {"parallel": 5}, "steps": [step]})
    runs = [rt.start_run("one").run_id for _ in range(2)]
    starts = rt.event_queue.receive(10)
    advance.handler(_sqs_event(starts), None)
    for m in starts:
        rt.event_queue.delete(m.receipt)
    batch = rt.work_queue.receive(10) + rt.work_queue.receive(10)
    assert len(batch) == 2, batch

    answer = work.handler(_sqs_event(batch), _ShortContext())
    for m in batch:  # Lambda deletes what the batch did not report failed
        if m.message_id not in {f["itemIdentifier"] for f in answer["batchItemFailures"]}:
            rt.work_queue.delete(m.receipt)

    assert answer["batchItemFailures"] == []  # was: the second, back after 90 minutes
    again = rt.work_queue.receive(10)
    assert [json.loads(m.body) for m in again] == [json.loads(batch[1].body)]
    work.handler(_sqs_event(again), None)
    rt.work_queue.delete(again[0].receipt)
    rt.pump()
    assert SEEN == ["a", "a"]
    assert {rt.store.get_run(r).status for r in runs} == {RunStatus.SUCCEEDED}
