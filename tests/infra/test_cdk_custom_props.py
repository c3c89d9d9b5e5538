"""Podium inside a user's own stack, with custom props; and the props' validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, RemovalPolicy, Stack
from infra_support import (
    USER_CLUSTER,
    USER_FUNCTIONS,
    USER_TASK_DEFINITION,
    USER_TASK_ROLE,
    Synth,
    as_list,
    functions_by_handler,
    logical_id_of,
    policy_statements,
    ref,
    synthesize,
)

from podium_cdk import Podium, PodiumProps


def work_statements(custom: Synth) -> list[dict[str, object]]:
    work = functions_by_handler(custom)["work"]
    return policy_statements(custom, work["Properties"]["Role"]["Fn::GetAtt"][0])


def statement_with(statements: list[dict[str, object]], action: str) -> dict[str, object]:
    (found,) = [s for s in statements if action in as_list(s["Action"])]
    return found


def test_compute_settings(custom: Synth) -> None:
    functions = functions_by_handler(custom)
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Architectures"] == ["x86_64"], name
        assert props.get("TracingConfig", {"Mode": "PassThrough"}) == {"Mode": "PassThrough"}
        variables = props["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == "acme"
        assert variables["POWERTOOLS_TRACE_DISABLED"] == "true"
        assert variables["LOG_LEVEL"] == "DEBUG"
        assert variables["PODIUM_RUN_RETENTION_DAYS"] == "30"
        assert variables["PODIUM_ALLOWED_FUNCTIONS"] == ",".join(USER_FUNCTIONS)
        assert variables["PODIUM_SCHEDULE_GROUP"] == "acme"
    assert functions["work"]["Properties"]["MemorySize"] == 1024
    assert functions["work"]["Properties"]["Timeout"] == 300
    assert functions["api"]["Properties"]["MemorySize"] == 512
    assert functions["advance"]["Properties"]["ReservedConcurrentExecutions"] == 5
    assert "ReservedConcurrentExecutions" not in functions["work"]["Properties"]
    (work_mapping,) = [
        m["Properties"]
        for m in custom.resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == ref(functions["work"]["id"])
    ]
    assert work_mapping["ScalingConfig"] == {"MaximumConcurrency": 20}
    work_queue = logical_id_of(custom, "AWS::SQS::Queue", "WorkQueue")
    assert (
        custom.resources("AWS::SQS::Queue")[work_queue]["Properties"]["VisibilityTimeout"]
        == 6 * 300
    )


def test_step_targets_are_granted_to_the_work_function_only(custom: Synth) -> None:
    statements = work_statements(custom)
    invoke = statement_with(statements, "lambda:InvokeFunction")
    named = "arn:aws:lambda:eu-west-1:123456789012:function:load-warehouse"
    assert sorted(as_list(invoke["Resource"])) == sorted([*USER_FUNCTIONS[:2], named])
    run = statement_with(statements, "ecs:RunTask")
    assert run["Resource"] == USER_TASK_DEFINITION
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": [USER_CLUSTER]}}
    tasks = "arn:aws:ecs:eu-west-1:123456789012:task/etl/*"
    describe = statement_with(statements, "ecs:DescribeTasks")
    assert set(as_list(describe["Action"])) == {"ecs:DescribeTasks", "ecs:StopTask"}
    assert describe["Resource"] == tasks
    tag = statement_with(statements, "ecs:TagResource")
    assert tag["Condition"] == {"StringEquals": {"ecs:CreateAction": "RunTask"}}
    (pass_role,) = [
        s
        for s in statements
        if "iam:PassRole" in as_list(s["Action"]) and s["Resource"] == USER_TASK_ROLE
    ]
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    # No other function may invoke functions or run tasks.
    for name, function in functions_by_handler(custom).items():
        if name != "work":
            role = function["Properties"]["Role"]["Fn::GetAtt"][0]
            actions = {a for s in policy_statements(custom, role) for a in as_list(s["Action"])}
            assert not {"lambda:InvokeFunction", "ecs:RunTask"} & actions, name


def test_no_xray_grant_without_tracing(custom: Synth) -> None:
    for policy in custom.resources("AWS::IAM::Policy").values():
        assert "xray:" not in json.dumps(policy)


def test_trigger_rules_on_the_default_bus(custom: Synth) -> None:
    functions = functions_by_handler(custom)
    rules = [r["Properties"] for r in custom.resources("AWS::Events::Rule").values()]
    s3_rule = next(r for r in rules if r.get("EventPattern", {}).get("source") == ["aws.s3"])
    assert "EventBusName" not in s3_rule  # S3 sends to the default bus
    assert s3_rule["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["acme-landing"]}},
    }
    assert s3_rule["Targets"][0]["Arn"] == {"Fn::GetAtt": [functions["events"]["id"], "Arn"]}
    custom_rule = next(
        r for r in rules if r.get("EventPattern", {}).get("source") == ["acme.billing"]
    )
    assert custom_rule["EventPattern"]["detail-type"] == ["InvoicePaid"]
    custom.template.has_resource_properties("AWS::Events::EventBus", {"Name": "acme-bus"})


def test_data_removal_and_retention(custom: Synth) -> None:
    (table,) = custom.resources("AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"]["DeletionProtectionEnabled"] is False
    payloads = logical_id_of(custom, "AWS::S3::Bucket", "Payloads")
    bucket = custom.resources("AWS::S3::Bucket")[payloads]
    assert bucket["DeletionPolicy"] == "Delete"
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"Id": "expire-payloads", "ExpirationInDays": 60, "Status": "Enabled"} in rules
    assert bucket["Properties"]["LoggingConfiguration"] == {
        "DestinationBucketName": ref(logical_id_of(custom, "AWS::S3::Bucket", "AccessLogs")),
        "LogFilePrefix": "podium-payloads/",
    }
    # The schedule group (and so its schedules) goes with the stack too: it was always
    # retained, its cron schedules firing at the deleted queue.
    (group,) = custom.resources("AWS::Scheduler::ScheduleGroup").values()
    assert group["DeletionPolicy"] == "Delete"


def test_monitoring_settings(custom: Synth) -> None:
    custom.template.resource_count_is("AWS::CloudWatch::Dashboard", 0)
    names = {
        a["Properties"]["AlarmName"] for a in custom.resources("AWS::CloudWatch::Alarm").values()
    }
    assert names and all(name.startswith("acme-") for name in names)
    custom.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "ops@example.com"}
    )


def test_outputs_in_the_user_stack(custom: Synth) -> None:
    assert {"ApiUrl", "TableName", "EventBusName"} <= set(custom.template.find_outputs("*"))


def test_any_function_wildcard_is_scoped_and_acknowledged(tmp_path: Path) -> None:
    def build(app: App) -> Stack:
        stack = Stack(app, "AnyFunction")
        Podium(stack, "Podium", allowed_function_arns=["*"], alarms=False, dashboard=False)
        return stack

    synth = synthesize(tmp_path / "cdk.out", build)
    assert synth.nag_violations == []
    work = functions_by_handler(synth)["work"]
    assert work["Properties"]["Environment"]["Variables"]["PODIUM_ALLOWED_FUNCTIONS"] == "*"
    invoke = statement_with(
        policy_statements(synth, work["Properties"]["Role"]["Fn::GetAtt"][0]),
        "lambda:InvokeFunction",
    )
    # This account and region only, never Resource "*".
    assert json.dumps(invoke["Resource"]).endswith(':function:*"]]}')


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"name_prefix": "Bad_Prefix"}, "name_prefix"),
        ({"memory_mb": {"worker": 512}}, "unknown handler"),
        ({"reserved_concurrency": {"nope": 1}}, "unknown handler"),
        ({"queue_max_concurrency": {"work": 1}}, "2..1000"),
        ({"queue_max_concurrency": {"api": 5}}, "no queue"),
        ({"work_batch_size": 11}, "batch sizes"),
        ({"ecs_task_definition_arns": [USER_TASK_DEFINITION]}, "ecs_cluster_arns"),
        ({"run_retention_days": 0}, "run_retention_days"),
        ({"architecture": "arm"}, "architecture"),
        ({"removal_policy": RemovalPolicy.SNAPSHOT}, "SNAPSHOT: DynamoDB tables"),
        ({"reserved_concurrency": {"work": 5}}, "queue_max_concurrency\\['work'\\] of at most 5"),
        (
            {"reserved_concurrency": {"advance": 4}, "queue_max_concurrency": {"advance": 10}},
            "at most 4",
        ),
    ],
)
def test_props_are_validated(options: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        PodiumProps(**options)  # type: ignore[arg-type]


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="alarm_emial"):
        Podium(Stack(App(), "S"), "Podium", alarm_emial="ops@example.com")


def test_payload_expiration_follows_run_retention() -> None:
    assert PodiumProps().effective_payload_expiration_days == 120
    assert PodiumProps(run_retention_days=None).effective_payload_expiration_days is None
    assert PodiumProps(payload_expiration_days=7).effective_payload_expiration_days == 7


def test_ready_stack_reads_its_props_from_context() -> None:
    from aws_cdk import RemovalPolicy

    from podium_cdk import props_from_context

    app = App(
        context={
            "podium:namePrefix": "podium-dev",
            "podium:architecture": "x86_64",
            "podium:allowedFunctionArns": "extract, load",
            "podium:runRetentionDays": "7",
            "podium:removalPolicy": "destroy",
            "podium:alarmEmail": "",
        }
    )
    props = props_from_context(app)
    assert props.name_prefix == "podium-dev"
    assert props.architecture == "x86_64"
    assert props.allowed_function_arns == ("extract", "load")
    assert props.run_retention_days == 7
    assert props.removal_policy == RemovalPolicy.DESTROY
    assert props.alarm_email is None


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("runRetentionDays", "seven", "-c podium:runRetentionDays: a whole number of days"),
        ("removalPolicy", "keep", "-c podium:removalPolicy: one of retain, destroy"),
    ],
)
def test_a_bad_context_value_names_its_key(key: str, value: str, said: str) -> None:
    """A bad -c value was a bare traceback from int() or an enum's KeyError."""
    from podium_cdk import props_from_context

    with pytest.raises(ValueError, match=said):
        props_from_context(App(context={f"podium:{key}": value}))


def test_context_keeps_runs_forever_with_none() -> None:
    from podium_cdk import props_from_context

    props = props_from_context(App(context={"podium:runRetentionDays": "none"}))
    assert props.run_retention_days is None


def test_a_named_bus_of_event_triggers_gets_a_rule_that_names_it(custom: Synth) -> None:
    from aws_cdk.assertions import Match

    custom.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": "acme-orders",
            "Targets": [
                Match.object_like(
                    {
                        "InputTransformer": {
                            "InputPathsMap": {"f1": "$"},
                            "InputTemplate": '{"podium_bus":"acme-orders","event":<f1>}',
                        }
                    }
                )
            ],
        },
    )
