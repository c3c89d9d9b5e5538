"""Run status changes reach Podium's bus (EventBridge on moto), once per ended run, from
the run_ended seam; a rule routes them like a user's alert rule would."""

from __future__ import annotations

import json

import boto3

from podium.adapters.clock import ManualClock
from podium.adapters.events import EventBridgeEvents, MemoryEvents
from podium.local.runtime import LocalRuntime
from podium.service.run_events import RUN_STATUS_CHANGE


def test_ended_runs_publish_their_status_to_the_bus() -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="podium-bus")
        url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="failed-runs",
            EventBusName="podium-bus",
            EventPattern=json.dumps(
                {
                    "source": ["podium"],
                    "detail-type": [RUN_STATUS_CHANGE],
                    "detail": {"status": ["FAILED"]},
                }
            ),
        )
        events.put_targets(
            Rule="failed-runs", EventBusName="podium-bus", Targets=[{"Id": "q", "Arn": arn}]
        )
        rt.services.events = EventBridgeEvents(events, "podium-bus")
        ok = rt.run({"name": "fine", "steps": [{"id": "a", "type": "noop"}]})
        bad = rt.run({"name": "broken", "steps": [{"id": "a", "type": "fail", "message": "no"}]})
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        details = [json.loads(m["Body"])["detail"] for m in got]
    assert [(d["run_id"], d["status"], d["error"]) for d in details] == [
        (bad.run.run_id, "FAILED", "a: no")
    ]
    assert ok.run.status.value == "SUCCEEDED"


def test_each_ended_run_is_published_once_locally() -> None:
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        view = rt.run({"name": "one", "steps": [{"id": "a", "type": "noop"}]})
        assert isinstance(rt.services.events, MemoryEvents)
        published = rt.services.events.published
    assert [(e["detail"]["run_id"], e["detail"]["status"]) for e in published] == [
        (view.run.run_id, "RUNNING"),  # its start
        (view.run.run_id, "SUCCEEDED"),  # its end, once
    ]


def test_step_status_changes_reach_the_bus_as_the_workflow_asks() -> None:
    from podium.service.step_events import STEP_STATUS_CHANGE

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="podium-bus")
        url = sqs.create_queue(QueueName="steps")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="failed-steps",
            EventBusName="podium-bus",
            EventPattern=json.dumps({"source": ["podium"], "detail-type": [STEP_STATUS_CHANGE]}),
        )
        events.put_targets(
            Rule="failed-steps", EventBusName="podium-bus", Targets=[{"Id": "q", "Arn": arn}]
        )
        rt.services.events = EventBridgeEvents(events, "podium-bus")
        steps = [
            {"id": "a", "type": "noop"},
            {"id": "b", "type": "fail", "message": "no", "depends_on": ["a"], "retries": 1,
             "retry_delay_seconds": 1},
        ]  # fmt: skip
        bad = rt.run({"name": "broken", "steps": steps})
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        details = [json.loads(m["Body"])["detail"] for m in got]
    # The default (failures): the retried attempt and the final failure, not a's success.
    assert sorted((d["step"], d["status"], d["attempt"]) for d in details) == [
        ("b", "FAILED", 2),
        ("b", "RETRY_WAIT", 1),
    ]
    assert all(d["run_id"] == bad.run.run_id and d["error"] for d in details)


def test_step_events_all_and_none() -> None:
    from podium.service.step_events import STEP_STATUS_CHANGE

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        steps = [{"id": "a", "type": "noop"}, {"id": "b", "type": "noop", "depends_on": ["a"]}]
        rt.run({"name": "all", "step_events": "all", "steps": steps})
        rt.run({"name": "quiet", "step_events": "none", "steps": [{"id": "x", "type": "fail"}]})
        assert isinstance(rt.services.events, MemoryEvents)
        changes = [
            (e["detail"]["workflow"], e["detail"]["step"], e["detail"]["status"])
            for e in rt.services.events.published
            if e["detail-type"] == STEP_STATUS_CHANGE
        ]
    assert changes == [
        ("all", "a", "RUNNING"),
        ("all", "a", "SUCCEEDED"),
        ("all", "b", "RUNNING"),
        ("all", "b", "SUCCEEDED"),
    ]


def test_a_run_publishes_its_start_pause_resume_and_end() -> None:
    """Issue #12 item 4: every run status change is on the bus, not only the end."""
    from podium.core.engine.actions import RunAction
    from podium.service.actions import Actor, run_action

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push({"name": "napper", "steps": [{"id": "z", "type": "sleep", "seconds": 60}]})
        run = rt.start_run("napper")
        rt.pump(wait=False)
        actor = Actor(by="local:test", reason="look")
        run_action(rt.services, run.run_id, RunAction.PAUSE, actor)
        run_action(rt.services, run.run_id, RunAction.RESUME, actor)
        rt.pump()
        published = rt.services.events.published  # type: ignore[union-attr]
    statuses = [
        e["detail"]["status"]
        for e in published
        if e["detail-type"] == RUN_STATUS_CHANGE and e["detail"]["run_id"] == run.run_id
    ]
    assert statuses == ["RUNNING", "PAUSED", "RUNNING", "SUCCEEDED"]


def test_runs_that_end_before_they_start_publish_their_end() -> None:
    """A first_only discard, a last_only run dropped from the queue and a queued run an
    operator stops end without ``run_ended``: their status change is on the bus too."""
    from podium.core.engine.actions import RunAction
    from podium.service.actions import Actor, run_action

    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        nap = [{"id": "z", "type": "sleep", "seconds": 60}]
        for name, strategy in (
            ("first", "first_only"),
            ("seq", "sequential"),
            ("last", "last_only"),
        ):
            rt.push({"name": name, "run_strategy": strategy, "steps": nap})
        rt.start_run("first")
        discarded = rt.start_run("first").run_id
        rt.start_run("seq")
        queued = rt.start_run("seq").run_id
        run_action(rt.services, queued, RunAction.STOP, Actor(by="local:test"))
        rt.start_run("last")
        rt.pump(max_deliveries=2)
        middle = rt.start_run("last").run_id
        rt.start_run("last")
        published = rt.services.events.published  # type: ignore[union-attr]
        middle_end = rt.store.get_run(middle).status.value

    def statuses(run_id: str) -> list[str]:
        return [
            e["detail"]["status"]
            for e in published
            if e["detail-type"] == RUN_STATUS_CHANGE and e["detail"]["run_id"] == run_id
        ]

    assert statuses(discarded) == ["DISCARDED"]
    assert statuses(queued) == ["STOPPED"]
    assert statuses(middle)[-1:] == [middle_end]
