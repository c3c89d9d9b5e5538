"""Scheduler schedules (cron triggers, timers over 15 minutes) had a retry policy but no
dead-letter queue: a firing that failed for Scheduler's 24 hours was lost without a
trace. The construct now tells the functions the work and event queues' DLQs
(PODIUM_WORK_DLQ_ARN, PODIUM_EVENT_DLQ_ARN), which the schedules name as their
DeadLetterConfig (tests/contract/test_schedule_targets_name_their_dlq.py), and lets the
Scheduler's role send to them.

Uses the session's default synthesis."""

from __future__ import annotations

from infra_support import (
    Synth,
    arn_of,
    as_list,
    functions_by_handler,
    logical_id_of,
    policy_statements,
)


def test_every_function_is_told_the_dlqs(default: Synth) -> None:
    work_dlq = arn_of(logical_id_of(default, "AWS::SQS::Queue", "WorkDlq"))
    event_dlq = arn_of(logical_id_of(default, "AWS::SQS::Queue", "EventDlq"))
    for name, function in functions_by_handler(default).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables.get("PODIUM_WORK_DLQ_ARN") == work_dlq, name
        assert variables.get("PODIUM_EVENT_DLQ_ARN") == event_dlq, name


def test_the_scheduler_role_may_send_to_the_dlqs(default: Synth) -> None:
    role = logical_id_of(default, "AWS::IAM::Role", "SchedulerRole")
    sendable = [
        resource
        for statement in policy_statements(default, role)
        if "sqs:SendMessage" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    for dlq in ("WorkDlq", "EventDlq"):
        assert arn_of(logical_id_of(default, "AWS::SQS::Queue", dlq)) in sendable, sendable
