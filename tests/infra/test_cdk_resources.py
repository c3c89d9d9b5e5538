"""The default Podium stack: resources, their key properties and their wiring."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match
from infra_support import Synth, arn_of, functions_by_handler, logical_id_of, ref

HANDLERS = {"api", "advance", "work", "sweep", "events"}


def test_resource_counts(default: Synth) -> None:
    t = default.template
    t.resource_count_is("AWS::DynamoDB::Table", 1)
    t.resource_count_is("AWS::SQS::Queue", 5)  # work, event and three DLQs
    t.resource_count_is("AWS::Lambda::Function", 5)
    t.resource_count_is("AWS::IAM::Role", 6)  # one per function + the Scheduler's
    t.resource_count_is("AWS::Lambda::EventSourceMapping", 2)
    t.resource_count_is("AWS::Events::EventBus", 1)
    t.resource_count_is("AWS::Scheduler::ScheduleGroup", 1)
    t.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    # 30 signed, 5 console files, and $default (a wrong method's 405 from the function)
    t.resource_count_is("AWS::ApiGatewayV2::Route", 36)
    t.resource_count_is("AWS::S3::Bucket", 1)
    t.resource_count_is("AWS::SNS::Topic", 1)
    t.resource_count_is("AWS::CloudWatch::Dashboard", 1)


def test_table_is_on_demand_encrypted_recoverable_with_ttl(default: Synth) -> None:
    string = "S"
    default.template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                "SSESpecification": {"SSEEnabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                "DeletionProtectionEnabled": True,
                "StreamSpecification": Match.absent(),
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": index,
                        "KeySchema": [
                            {"AttributeName": f"{index}pk", "KeyType": "HASH"},
                            {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for index in ("gsi1", "gsi2")
                ],
                "AttributeDefinitions": Match.array_with(
                    [
                        {"AttributeName": name, "AttributeType": string}
                        for name in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")
                    ]
                ),
            },
            # Data survives `cdk destroy` unless removal_policy says otherwise.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_queues_are_encrypted_and_wired_to_dlqs(default: Synth) -> None:
    queues = default.resources("AWS::SQS::Queue")
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    for source, dlq in (("WorkQueue", "WorkDlq"), ("EventQueue", "EventDlq")):
        props = queues[logical_id_of(default, "AWS::SQS::Queue", source)]["Properties"]
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": arn_of(logical_id_of(default, "AWS::SQS::Queue", dlq)),
            "maxReceiveCount": 5,
        }
    for dlq in ("WorkDlq", "EventDlq", "TriggerDlq"):
        props = queues[logical_id_of(default, "AWS::SQS::Queue", dlq)]["Properties"]
        assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert "RedrivePolicy" not in props


def test_every_queue_denies_insecure_transport(default: Synth) -> None:
    secured = set()
    for policy in default.resources("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny"
                secured.update(q["Ref"] for q in policy["Properties"]["Queues"])
    assert secured == set(default.resources("AWS::SQS::Queue"))


def test_visibility_timeouts_exceed_their_consumers_timeouts(default: Synth) -> None:
    functions = functions_by_handler(default)
    queues = default.resources("AWS::SQS::Queue")
    for handler, queue in (("work", "WorkQueue"), ("advance", "EventQueue")):
        timeout = functions[handler]["Properties"]["Timeout"]
        visibility = queues[logical_id_of(default, "AWS::SQS::Queue", queue)]["Properties"][
            "VisibilityTimeout"
        ]
        assert visibility == min(6 * timeout, 12 * 3600), handler
    assert functions["work"]["Properties"]["Timeout"] == 900


def test_functions_runtime_architecture_tracing(default: Synth) -> None:
    functions = functions_by_handler(default)
    assert set(functions) == HANDLERS
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Handler"] == f"podium.handlers.{name}.handler"
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        # Runs loop through the queues by design; loop detection would cut them.
        assert props["RecursiveLoop"] == "Allow"
        assert "ReservedConcurrentExecutions" not in props  # opt-in only
        assert props["LoggingConfig"]["LogGroup"] == ref(
            logical_id_of(default, "AWS::Logs::LogGroup", f"{name.capitalize()}Logs")
        )
    # All five share one code asset (bundled once).
    assert len({json.dumps(f["Properties"]["Code"]) for f in functions.values()}) == 1


def test_each_function_environment_names_its_resources(default: Synth) -> None:
    table = logical_id_of(default, "AWS::DynamoDB::Table", "State")
    work_queue = logical_id_of(default, "AWS::SQS::Queue", "WorkQueue")
    event_queue = logical_id_of(default, "AWS::SQS::Queue", "EventQueue")
    bucket = logical_id_of(default, "AWS::S3::Bucket", "Payloads")
    bus = logical_id_of(default, "AWS::Events::EventBus", "Bus")
    scheduler_role = logical_id_of(default, "AWS::IAM::Role", "SchedulerRole")
    expected = {
        "PODIUM_TABLE_NAME": ref(table),
        "PODIUM_WORK_QUEUE_URL": ref(work_queue),
        "PODIUM_EVENT_QUEUE_URL": ref(event_queue),
        "PODIUM_WORK_QUEUE_ARN": arn_of(work_queue),
        "PODIUM_EVENT_QUEUE_ARN": arn_of(event_queue),
        "PODIUM_WORK_DLQ_ARN": arn_of(logical_id_of(default, "AWS::SQS::Queue", "WorkDlq")),
        "PODIUM_EVENT_DLQ_ARN": arn_of(logical_id_of(default, "AWS::SQS::Queue", "EventDlq")),
        "PODIUM_PAYLOAD_BUCKET": ref(bucket),
        "PODIUM_EVENT_BUS_NAME": ref(bus),
        "PODIUM_SCHEDULE_GROUP": "podium",
        "PODIUM_SCHEDULER_ROLE_ARN": arn_of(scheduler_role),
        "PODIUM_ALLOWED_FUNCTIONS": "",
        "PODIUM_HTTP_HOSTS": "",  # no host is reachable by default
        "PODIUM_EXTERNAL_STEP_TYPES": "",  # no external step type is granted by default
        "PODIUM_RUN_RETENTION_DAYS": "90",
        "POWERTOOLS_SERVICE_NAME": "podium",
        "POWERTOOLS_METRICS_NAMESPACE": "Podium",
        "POWERTOOLS_TRACE_DISABLED": "false",
        "LOG_LEVEL": "INFO",
    }
    # The same set for every function keeps bootstrap.py uniform; IAM bounds use.
    for name, function in functions_by_handler(default).items():
        assert function["Properties"]["Environment"]["Variables"] == expected, name


def test_queue_consumers_report_batch_item_failures(default: Synth) -> None:
    functions = functions_by_handler(default)
    mappings = {
        m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
        for m in default.resources("AWS::Lambda::EventSourceMapping").values()
    }
    expected = {"work": ("WorkQueue", 1), "advance": ("EventQueue", 10)}
    assert set(mappings) == {functions[name]["id"] for name in expected}
    for name, (queue, batch_size) in expected.items():
        mapping = mappings[functions[name]["id"]]
        assert mapping["EventSourceArn"] == arn_of(logical_id_of(default, "AWS::SQS::Queue", queue))
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["BatchSize"] == batch_size


def test_eventbridge_bus_rules_and_sweeper_schedule(default: Synth) -> None:
    functions = functions_by_handler(default)
    bus = logical_id_of(default, "AWS::Events::EventBus", "Bus")
    trigger_dlq = logical_id_of(default, "AWS::SQS::Queue", "TriggerDlq")
    default.template.has_resource_properties("AWS::Events::EventBus", {"Name": "podium-bus"})
    default.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": ref(bus),
            "EventPattern": {"account": [{"Ref": "AWS::AccountId"}]},
            "Targets": [
                Match.object_like(
                    {
                        "Arn": arn_of(functions["events"]["id"]),
                        "DeadLetterConfig": {"Arn": arn_of(trigger_dlq)},
                        # The events function learns which bus (handlers/events.py).
                        "InputTransformer": {
                            "InputPathsMap": {"f1": "$"},
                            "InputTemplate": '{"podium_bus":"podium","event":<f1>}',
                        },
                    }
                )
            ],
        },
    )
    default.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 minute)",
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": arn_of(functions["sweep"]["id"]),
                        "RetryPolicy": {"MaximumRetryAttempts": 0},
                    }
                )
            ],
        },
    )
    # No trigger buckets or custom patterns by default: only those two rules.
    default.template.resource_count_is("AWS::Events::Rule", 2)
    # Failed async invocations of the events function are kept too.
    assert functions["events"]["Properties"]["DeadLetterConfig"] == {
        "TargetArn": arn_of(trigger_dlq)
    }


def test_scheduler_group_and_execution_role(default: Synth) -> None:
    group = logical_id_of(default, "AWS::Scheduler::ScheduleGroup", "ScheduleGroup")
    role_id = logical_id_of(default, "AWS::IAM::Role", "SchedulerRole")
    default.template.has_resource_properties("AWS::Scheduler::ScheduleGroup", {"Name": "podium"})
    trust = default.resources("AWS::IAM::Role")[role_id]["Properties"]["AssumeRolePolicyDocument"]
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == arn_of(group)
    default.template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [ref(role_id)],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "sqs:SendMessage",
                        "Effect": "Allow",
                        "Resource": [
                            # The queues, and their DLQs: where a firing goes once
                            # Scheduler's retries are spent (CDK sorts them).
                            arn_of(logical_id_of(default, "AWS::SQS::Queue", "EventDlq")),
                            arn_of(logical_id_of(default, "AWS::SQS::Queue", "EventQueue")),
                            arn_of(logical_id_of(default, "AWS::SQS::Queue", "WorkDlq")),
                            arn_of(logical_id_of(default, "AWS::SQS::Queue", "WorkQueue")),
                        ],
                    }
                ]
            },
        },
    )


def test_http_api_routes_require_iam_but_the_console_files(default: Synth) -> None:
    functions = functions_by_handler(default)
    default.template.has_resource_properties(
        "AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP", "Name": "podium-api"}
    )
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in default.resources("AWS::ApiGatewayV2::Route").values()
    }
    assert set(routes) == {
        "POST /workflows",
        "GET /workflows",
        "GET /workflows/{name}/versions",
        "POST /workflows/{name}/activate",
        "POST /workflows/{name}/rollback",
        "GET /workflows/{name}/breakpoints",
        "POST /workflows/{name}/breakpoints",
        "GET /workflows/{name}",
        "GET /workflows/{name}/triggers",
        "POST /workflows/{name}/triggers/{trigger}/enable",
        "POST /workflows/{name}/triggers/{trigger}/disable",
        "POST /workflows/{name}/backfill",
        "POST /workflows/{name}/backfill/cancel",
        "POST /workflows/{name}/backfill/pause",
        "POST /workflows/{name}/backfill/resume",
        "POST /signals",
        "GET /runs/{run_id}/iterations",
        "POST /workflows/{name}/runs",
        "GET /workflows/{name}/runs",
        "POST /workflows/{name}/unblock",
        "GET /runs/{run_id}",
        "GET /runs/{run_id}/logs",
        "POST /callbacks/{token}",
        "GET /runs/{run_id}/replay",
        "POST /runs/{run_id}/actions",
        "POST /runs/{run_id}/steps/actions",
        "GET /console/workflows",
        "GET /console/runs",
        "GET /console/runs/{run_id}",
        "GET /console/runs/{run_id}/step",
        # The console's page and assets: static files, no data (AuthorizationType NONE).
        "GET /console/app",
        "GET /console/app/app.js",
        "GET /console/app/app.css",
        "GET /console/app/vendor/dagre.min.js",
        "GET /console/app/vendor/aws4fetch.umd.js",
        # What no route matches (IAM): the function answers 405 with Allow, or 404.
        "$default",
    }
    assert {
        key: r["AuthorizationType"]
        for key, r in routes.items()
        if r["AuthorizationType"] != "AWS_IAM"
    } == {key: "NONE" for key in routes if key.startswith("GET /console/app")}
    default.template.has_resource_properties(
        "AWS::ApiGatewayV2::Integration",
        {
            "IntegrationType": "AWS_PROXY",
            "IntegrationUri": arn_of(functions["api"]["id"]),
            "PayloadFormatVersion": "2.0",
        },
    )
    default.template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "AccessLogSettings": {
                "DestinationArn": Match.any_value(),
                "Format": Match.string_like_regexp(r"\$context\.requestId"),
            },
            "DefaultRouteSettings": {"ThrottlingRateLimit": 100, "ThrottlingBurstLimit": 200},
        },
    )


def test_payload_bucket_is_private_encrypted_tls_only_and_expires(default: Synth) -> None:
    bucket = logical_id_of(default, "AWS::S3::Bucket", "Payloads")
    default.template.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "LifecycleConfiguration": {
                    "Rules": Match.array_with(
                        [
                            Match.object_like(
                                {
                                    "Id": "abort-incomplete-uploads",
                                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                                }
                            ),
                            Match.object_like({"Id": "expire-payloads", "ExpirationInDays": 120}),
                        ]
                    )
                },
            },
            "DeletionPolicy": "Retain",
        },
    )
    default.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": ref(bucket),
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_alarms_cover_dlqs_handlers_table_and_queue_age(default: Synth) -> None:
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in default.resources("AWS::CloudWatch::Alarm").values()
    }
    expected = {f"podium-{q}-dlq-not-empty" for q in ("work", "event", "trigger")}
    expected |= {f"podium-{h}-{kind}" for h in HANDLERS for kind in ("errors", "throttles")}
    expected |= {"podium-table-throttles", "podium-event-queue-stale", "podium-sweep-check-failed"}
    assert set(alarms) == expected
    topic = logical_id_of(default, "AWS::SNS::Topic", "AlarmTopic")
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [ref(topic)], name
        assert alarm["TreatMissingData"] == "notBreaching", name
    assert alarms["podium-work-dlq-not-empty"]["MetricName"] == (
        "ApproximateNumberOfMessagesVisible"
    )
    assert alarms["podium-work-dlq-not-empty"]["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {
                "Fn::GetAtt": [logical_id_of(default, "AWS::SQS::Queue", "WorkDlq"), "QueueName"]
            },
        }
    ]
    metrics = json.dumps(alarms["podium-table-throttles"]["Metrics"])
    assert "ReadThrottleEvents" in metrics and "WriteThrottleEvents" in metrics
    sweep = alarms["podium-sweep-check-failed"]
    assert (sweep["Namespace"], sweep["MetricName"]) == ("Podium", "SweepCheckFailed")
    assert sweep["Dimensions"] == [{"Name": "service", "Value": "podium"}]


def test_dashboard_shows_runs_steps_and_queue_age(default: Synth) -> None:
    (dashboard,) = default.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    runs = ("RunsStarted", "RunsSucceeded", "RunsFailed", "RunsTimedOut", "RunsStopped")
    for metric in (*runs, "StepLatency"):
        assert f'\\"Podium\\",\\"{metric}\\",\\"service\\",\\"podium\\"' in body, metric
    assert "ApproximateAgeOfOldestMessage" in body


def test_outputs_the_cli_reads(default: Synth) -> None:
    outputs = default.template.find_outputs("*")
    assert set(outputs) == {
        "ApiUrl",
        "TableName",
        "WorkQueueUrl",
        "EventQueueUrl",
        "EventBusName",
        "PayloadBucketName",
        "WorkDlqUrl",
        "EventDlqUrl",
        "TriggerDlqUrl",
    }
    api = logical_id_of(default, "AWS::ApiGatewayV2::Api", "HttpApi")
    assert outputs["ApiUrl"]["Value"] == {"Fn::GetAtt": [api, "ApiEndpoint"]}
    assert outputs["TableName"]["Value"] == ref(
        logical_id_of(default, "AWS::DynamoDB::Table", "State")
    )


def test_table_matches_the_engines_schema(default: Synth) -> None:
    """The engine declares its keys in one module; the table must agree with it."""
    schema = pytest.importorskip("podium.adapters.table_schema")
    (table,) = default.resources("AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert tuple(k["AttributeName"] for k in props["KeySchema"]) == tuple(schema.KEY_ATTRIBUTES)
    indexes = {
        gsi["IndexName"]: tuple(k["AttributeName"] for k in gsi["KeySchema"])
        for gsi in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {name: tuple(keys) for name, keys in schema.INDEXES.items()}
    assert props["TimeToLiveSpecification"]["AttributeName"] == schema.TTL_ATTRIBUTE
