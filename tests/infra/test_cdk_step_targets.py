"""Least privilege for the external step types: each type is granted only on the
resources the props name, starting only from the work function; the state-change rules
match only those resources; nothing is granted or matched by default."""

from __future__ import annotations

from typing import Any

import pytest
from infra_support import (
    USER_CLUSTER,
    USER_GLUE_JOB,
    USER_HTTP_HOSTS,
    USER_JOB_DEFINITION,
    USER_JOB_QUEUE,
    USER_STATE_MACHINE,
    Synth,
    as_list,
    functions_by_handler,
    policy_statements,
)

from podium_cdk import PodiumProps

EXTERNAL_PREFIXES = ("batch:", "glue:", "states:", "secretsmanager:", "ecs:")


def statements_of(synth: Synth, handler: str) -> list[dict[str, Any]]:
    function = functions_by_handler(synth)[handler]
    return policy_statements(synth, function["Properties"]["Role"]["Fn::GetAtt"][0])


def actions_of(synth: Synth, handler: str) -> set[str]:
    return {a for s in statements_of(synth, handler) for a in as_list(s["Action"])}


def granting(synth: Synth, handler: str, action: str) -> list[dict[str, Any]]:
    return [s for s in statements_of(synth, handler) if action in as_list(s["Action"])]


def test_nothing_external_is_granted_by_default(default: Synth) -> None:
    for handler in ("api", "advance", "work", "sweep", "events"):
        external = {a for a in actions_of(default, handler) if a.startswith(EXTERNAL_PREFIXES)}
        assert external == set(), handler
    rules = [r["Properties"] for r in default.resources("AWS::Events::Rule").values()]
    sources = {s for r in rules for s in r.get("EventPattern", {}).get("source", [])}
    assert not sources & {"aws.ecs", "aws.batch", "aws.glue", "aws.states"}
    for function in functions_by_handler(default).values():
        assert function["Properties"]["Environment"]["Variables"]["PODIUM_HTTP_HOSTS"] == ""


def test_only_the_work_function_starts_work(custom: Synth) -> None:
    starts = {"ecs:RunTask", "batch:SubmitJob", "glue:StartJobRun", "states:StartExecution"}
    assert starts <= actions_of(custom, "work")
    for handler in ("api", "advance", "sweep", "events"):
        assert not starts & actions_of(custom, handler), handler


def test_batch_is_limited_to_the_named_queue_and_definition(custom: Synth) -> None:
    (submit,) = granting(custom, "work", "batch:SubmitJob")
    assert sorted(as_list(submit["Resource"])) == sorted([USER_JOB_QUEUE, USER_JOB_DEFINITION])
    (tag,) = granting(custom, "work", "batch:TagResource")
    assert tag["Condition"] == {"StringEquals": {"batch:CreateAction": "SubmitJob"}}
    for handler in ("api", "advance", "work", "sweep"):
        (terminate,) = granting(custom, handler, "batch:TerminateJob")
        assert terminate["Resource"] == "arn:aws:batch:eu-west-1:123456789012:job/*"


def test_glue_is_limited_to_the_named_jobs(custom: Synth) -> None:
    job = f"arn:aws:glue:eu-west-1:123456789012:job/{USER_GLUE_JOB}"
    (start,) = granting(custom, "work", "glue:StartJobRun")
    assert start["Resource"] == job
    for handler in ("api", "advance", "work", "sweep", "events"):
        (follow,) = granting(custom, handler, "glue:BatchStopJobRun")
        assert {"glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"} <= set(
            as_list(follow["Action"])
        )
        assert follow["Resource"] == job
    # The events function follows too (a trigger's last_only run stops the one it
    # supersedes, its jobs included); it never starts one.
    assert "glue:StartJobRun" not in actions_of(custom, "events")


def test_step_functions_are_limited_to_the_named_state_machines(custom: Synth) -> None:
    (start,) = granting(custom, "work", "states:StartExecution")
    assert start["Resource"] == USER_STATE_MACHINE
    # Its type is read before a start: an EXPRESS machine is refused (adapters/jobs/sfn.py).
    assert "states:DescribeStateMachine" in as_list(start["Action"])
    (follow,) = granting(custom, "advance", "states:StopExecution")
    assert follow["Resource"] == "arn:aws:states:eu-west-1:123456789012:execution:scoring:*"


def test_secrets_and_http_hosts(custom: Synth) -> None:
    (read,) = granting(custom, "work", "secretsmanager:GetSecretValue")
    assert read["Resource"] == (
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/warehouse-token-??????"
    )
    for handler in ("api", "advance", "sweep", "events"):
        assert "secretsmanager:GetSecretValue" not in actions_of(custom, handler)
    variables = functions_by_handler(custom)["work"]["Properties"]["Environment"]["Variables"]
    assert variables["PODIUM_HTTP_HOSTS"] == ",".join(USER_HTTP_HOSTS)


def test_ecs_tasks_are_followed_within_the_named_clusters(custom: Synth) -> None:
    for handler in ("api", "advance", "sweep", "events"):
        (describe,) = granting(custom, handler, "ecs:DescribeTasks")
        assert describe["Resource"] == "arn:aws:ecs:eu-west-1:123456789012:task/etl/*"
        assert describe["Condition"] == {"ArnEquals": {"ecs:cluster": [USER_CLUSTER]}}
        (listing,) = granting(custom, handler, "ecs:ListTasks")
        assert listing["Condition"] == {"ArnEquals": {"ecs:cluster": [USER_CLUSTER]}}
    assert "ecs:RunTask" not in actions_of(custom, "events")


def test_state_change_rules_match_only_the_named_resources(custom: Synth) -> None:
    events_arn = {"Fn::GetAtt": [functions_by_handler(custom)["events"]["id"], "Arn"]}
    rules = {
        r["Properties"]["EventPattern"]["source"][0]: r["Properties"]
        for r in custom.resources("AWS::Events::Rule").values()
        if r["Properties"].get("EventPattern", {}).get("source", [""])[0].startswith("aws.")
        and r["Properties"]["EventPattern"]["source"][0] != "aws.s3"
    }
    assert rules["aws.ecs"]["EventPattern"]["detail"] == {
        "clusterArn": [USER_CLUSTER],
        "lastStatus": ["STOPPED"],
    }
    assert rules["aws.batch"]["EventPattern"]["detail"]["jobQueue"] == [USER_JOB_QUEUE]
    assert rules["aws.glue"]["EventPattern"]["detail"]["jobName"] == [USER_GLUE_JOB]
    assert rules["aws.states"]["EventPattern"]["detail"]["stateMachineArn"] == [USER_STATE_MACHINE]
    for rule in rules.values():
        assert "EventBusName" not in rule  # AWS services put their events on the default bus
        assert rule["Targets"][0]["Arn"] == events_arn
        assert "DeadLetterConfig" in rule["Targets"][0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_job_definition_arns": [USER_JOB_DEFINITION]}, "batch_job_queue_arns"),
        ({"batch_job_queue_arns": [USER_JOB_QUEUE]}, "batch_job_definition_arns"),
        ({"http_hosts": ["https://api.example.com/x"]}, "not a host"),
        ({"http_hosts": ["*"]}, "not a host"),
    ],
)
def test_props_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PodiumProps(**options)
