"""IAM is least-privilege: one role per function, no wildcard actions, wildcard
resources only where AWS or run-time naming requires them, and each function holds
exactly the grants of the model in infra/podium_cdk/permissions.py."""

from __future__ import annotations

import json
from typing import Any

from infra_support import (
    Synth,
    arn_of,
    as_list,
    functions_by_handler,
    logical_id_of,
    policy_statements,
    ref,
)

TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}
SEND = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
RECEIVE = {
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
LOGS = {"logs:CreateLogStream", "logs:PutLogEvents"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
PAYLOADS = {"s3:GetObject", "s3:PutObject"}
LIST = {"s3:ListBucket"}  # a missing payload is then a 404, not a 403
SCHEDULES = {
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
}


def every_policy_statement(synth: Synth) -> list[dict[str, Any]]:
    statements = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        statements += policy["Properties"]["PolicyDocument"]["Statement"]
    for role in synth.resources("AWS::IAM::Role").values():
        for inline in role["Properties"].get("Policies", []):
            statements += inline["PolicyDocument"]["Statement"]
    return statements


def grants(synth: Synth, role_id: str) -> dict[str, set[str]]:
    """resource (as JSON) -> allowed actions, over all statements of the role."""
    table: dict[str, set[str]] = {}
    for statement in policy_statements(synth, role_id):
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            table.setdefault(json.dumps(resource, sort_keys=True), set()).update(
                as_list(statement["Action"])
            )
    return table


def test_no_wildcard_action_anywhere(default: Synth) -> None:
    for statement in every_policy_statement(default):
        for action in as_list(statement["Action"]):
            assert "*" not in action, statement


def test_resource_policies_allow_no_wildcard_action(default: Synth) -> None:
    # The only wildcard actions in resource policies are the enforce-TLS denials.
    for type_name in ("AWS::SQS::QueuePolicy", "AWS::S3::BucketPolicy", "AWS::SNS::TopicPolicy"):
        for policy in default.resources(type_name).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Effect"] == "Allow":
                    assert not any("*" in a for a in as_list(statement["Action"])), statement


def test_star_resource_only_for_xray(default: Synth) -> None:
    for statement in every_policy_statement(default):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) == XRAY, statement


def test_one_role_per_function_and_no_managed_policies(default: Synth) -> None:
    functions = functions_by_handler(default)
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(functions) == 5
    for role in default.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]


def test_each_function_has_exactly_its_grants(default: Synth) -> None:
    functions = functions_by_handler(default)
    table = logical_id_of(default, "AWS::DynamoDB::Table", "State")
    work_queue = arn_of(logical_id_of(default, "AWS::SQS::Queue", "WorkQueue"))
    event_queue = arn_of(logical_id_of(default, "AWS::SQS::Queue", "EventQueue"))
    trigger_dlq = arn_of(logical_id_of(default, "AWS::SQS::Queue", "TriggerDlq"))
    bus = arn_of(logical_id_of(default, "AWS::Events::EventBus", "Bus"))
    bucket = logical_id_of(default, "AWS::S3::Bucket", "Payloads")
    payload_objects = {"Fn::Join": ["", [arn_of(bucket), "/payloads/*"]]}
    payload_bucket = arn_of(bucket)
    scheduler_role = arn_of(logical_id_of(default, "AWS::IAM::Role", "SchedulerRole"))
    schedules = {
        "Fn::Join": [
            "",
            [
                "arn:",
                ref("AWS::Partition"),
                ":scheduler:",
                ref("AWS::Region"),
                ":",
                ref("AWS::AccountId"),
                ":schedule/podium/*",
            ],
        ]
    }
    table_resources = [arn_of(table)] + [
        {"Fn::Join": ["", [arn_of(table), f"/index/{index}"]]} for index in ("gsi1", "gsi2")
    ]

    def expected(name: str, *extra: tuple[Any, set[str]]) -> dict[str, set[str]]:
        log_group = logical_id_of(default, "AWS::Logs::LogGroup", f"{name.capitalize()}Logs")
        pairs = [(arn_of(log_group), LOGS), ("*", XRAY)]
        pairs += [(r, TABLE_ACTIONS) for r in table_resources]
        result: dict[str, set[str]] = {}
        for resource, actions in [*pairs, *extra]:
            result.setdefault(json.dumps(resource, sort_keys=True), set()).update(actions)
        return result

    scheduling = ((schedules, SCHEDULES), (scheduler_role, {"iam:PassRole"}))
    model = {
        "api": expected(
            "api", (work_queue, SEND), (event_queue, SEND), (payload_objects, PAYLOADS), (payload_bucket, LIST), (bus, {"events:PutEvents"}),
            *scheduling,
        ),
        "advance": expected(
            "advance", (work_queue, SEND), (event_queue, SEND | RECEIVE),
            (payload_objects, PAYLOADS), (payload_bucket, LIST), (bus, {"events:PutEvents"}), *scheduling,
        ),
        # No lambda:InvokeFunction: the default allowed_function_arns is empty.
        "work": expected(
            "work", (work_queue, RECEIVE | SEND), (event_queue, SEND),
            (payload_objects, PAYLOADS), (payload_bucket, LIST), (bus, {"events:PutEvents"}), *scheduling,
        ),
        "sweep": expected(
            "sweep", (work_queue, SEND), (event_queue, SEND), (payload_objects, PAYLOADS), (payload_bucket, LIST),
            (bus, {"events:PutEvents"}), *scheduling,
        ),
        "events": expected(
            "events", (work_queue, SEND), (event_queue, SEND), (payload_objects, PAYLOADS), (payload_bucket, LIST),
            (trigger_dlq, {"sqs:SendMessage"}), (bus, {"events:PutEvents"}), *scheduling,
        ),
    }  # fmt: skip
    for name, function in functions.items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert grants(default, role_id) == model[name], name


def test_pass_role_only_to_the_scheduler(default: Synth) -> None:
    for statement in every_policy_statement(default):
        if "iam:PassRole" in as_list(statement["Action"]):
            assert statement["Condition"] == {
                "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
            }


def test_lambda_trust_is_lambda_only(default: Synth) -> None:
    for function in functions_by_handler(default).values():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        trust = default.resources("AWS::IAM::Role")[role_id]["Properties"]
        (statement,) = trust["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
