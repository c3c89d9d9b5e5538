"""The five engine Lambda functions, each with its own role and log group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import nag
from .props import HANDLER_NAMES, HandlerName, PodiumProps

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}

# Lambda refuses a function whose environment variables, names and values together, come
# to more than 4 KB; CloudFormation then fails to create or update it.
LAMBDA_ENVIRONMENT_LIMIT = 4 * 1024
# The size counted for a name, a URL or an ARN that CloudFormation fills in at deploy time
# (a queue's URL with its generated name is about 100-130 bytes, a role's ARN about 100).
DEPLOY_TIME_VALUE_BYTES = 128
# The longest value of each pseudo parameter (ap-southeast-4, aws-us-gov, .com.cn).
PSEUDO_PARAMETER_BYTES = {
    "AWS::Region": 14,
    "AWS::AccountId": 12,
    "AWS::Partition": 10,
    "AWS::URLSuffix": 16,
}


@dataclass(frozen=True)
class HandlerSpec:
    handler: str
    description: str
    timeout: Duration


def handler_specs(work_timeout: Duration) -> Mapping[HandlerName, HandlerSpec]:
    return {
        # HTTP APIs give up on an integration after 30 seconds.
        "api": HandlerSpec("podium.handlers.api.handler", "Podium HTTP API", Duration.seconds(29)),
        "advance": HandlerSpec(
            "podium.handlers.advance.handler",
            "Podium: advances runs (event queue)",
            Duration.seconds(60),
        ),
        # Waits on synchronous invokes of user functions, up to their own 15 minutes.
        "work": HandlerSpec(
            "podium.handlers.work.handler", "Podium: executes steps (work queue)", work_timeout
        ),
        "sweep": HandlerSpec(
            "podium.handlers.sweep.handler",
            "Podium: re-drives stuck work (schedule)",
            Duration.seconds(60),
        ),
        "events": HandlerSpec(
            "podium.handlers.events.handler",
            "Podium: triggers and signals (EventBridge)",
            Duration.seconds(30),
        ),
    }


class EngineFunctions(Construct):
    """api, advance, work, sweep and events functions.

    Every function gets its own role that starts empty except for writing its own log
    group (no managed policies); ``permissions.grant_engine_permissions`` adds the rest.
    The advance and work functions consume their queues with partial batch responses.

    Attributes: ``api``, ``advance``, ``work``, ``sweep``, ``events`` (the functions),
    ``by_name``, ``roles`` and ``log_groups`` (dicts keyed by handler name), and
    ``specs``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: PodiumProps,
        code: lambda_.Code,
        environment: Mapping[str, str],
        work_queue: sqs.IQueue,
        event_queue: sqs.IQueue,
        trigger_dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        self.specs = handler_specs(props.work_timeout)
        self.roles: dict[HandlerName, iam.Role] = {}
        self.log_groups: dict[HandlerName, logs.LogGroup] = {}
        self.by_name: dict[HandlerName, lambda_.Function] = {}
        for name in HANDLER_NAMES:
            self.by_name[name] = self._function(name, props, code, environment, trigger_dlq)

        self.api = self.by_name["api"]
        self.advance = self.by_name["advance"]
        self.work = self.by_name["work"]
        self.sweep = self.by_name["sweep"]
        self.events = self.by_name["events"]

        self.advance.add_event_source(
            sources.SqsEventSource(
                event_queue,
                batch_size=props.advance_batch_size,
                report_batch_item_failures=True,
                max_concurrency=props.queue_max_concurrency.get("advance"),
            )
        )
        self.work.add_event_source(
            sources.SqsEventSource(
                work_queue,
                # One step per invocation by default: a batch runs its steps one after
                # another, and ten 15-minute steps would not fit in one invocation.
                batch_size=props.work_batch_size,
                report_batch_item_failures=True,
                max_concurrency=props.queue_max_concurrency.get("work"),
            )
        )

    def _function(
        self,
        name: HandlerName,
        props: PodiumProps,
        code: lambda_.Code,
        environment: Mapping[str, str],
        trigger_dlq: sqs.IQueue,
    ) -> lambda_.Function:
        spec = self.specs[name]
        ident = name.capitalize()
        check_environment_size(self, name, environment)
        role = iam.Role(
            self,
            f"{ident}Role",
            description=f"{spec.description} (function role)",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        log_group = logs.LogGroup(
            self,
            f"{ident}Logs",
            retention=props.log_retention,
            removal_policy=props.log_removal_policy,
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            ident,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURES[props.architecture],
            code=code,
            handler=spec.handler,
            role=role,
            memory_size=props.memory_for(name),
            timeout=spec.timeout,
            environment=dict(environment),
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE if props.tracing else lambda_.Tracing.DISABLED,
            reserved_concurrent_executions=props.reserved_concurrency.get(name),
            # Runs legitimately loop through the queues (advance -> work queue -> work ->
            # event queue -> advance ...). Lambda's loop detection would stop a run after
            # about 16 hops, so it is off; the engine's conditional writes end loops.
            recursive_loop=lambda_.RecursiveLoop.ALLOW,
            # Only the events function is invoked asynchronously with a payload worth
            # keeping (EventBridge triggers); the sweep is re-run every tick anyway.
            dead_letter_queue=trigger_dlq if name == "events" else None,
            retry_attempts=0 if name == "sweep" else None,
        )
        nag.acknowledge(
            function,
            "AwsSolutions-L1",
            "The bundle's compiled wheels are built for python3.13 (see "
            "podium_cdk/bundling.py LAMBDA_PYTHON_VERSION); the runtime moves together "
            "with that build setting.",
        )
        if props.tracing:
            nag.wildcard_resource(
                role,
                "*",
                "X-Ray's PutTraceSegments and PutTelemetryRecords support no "
                "resource-level permissions, so AWS requires Resource '*'.",
            )
        self.roles[name] = role
        self.log_groups[name] = log_group
        return function


def check_environment_size(scope: Construct, name: str, environment: Mapping[str, str]) -> None:
    """Refuse, at synthesis, an environment that Lambda would refuse at deploy time."""
    sizes = environment_sizes(scope, environment)
    total = sum(sizes.values())
    if total <= LAMBDA_ENVIRONMENT_LIMIT:
        return
    largest = sorted(sizes, key=lambda k: -sizes[k])[:2]
    raise ValueError(
        f"The {name} function's environment variables come to about {total} bytes (names"
        f" and values; a name, URL or ARN made at deploy time counted as"
        f" {DEPLOY_TIME_VALUE_BYTES} bytes), over Lambda's limit of 4 KB"
        f" ({LAMBDA_ENVIRONMENT_LIMIT} bytes): CloudFormation would fail to create it."
        f" The largest: {', '.join(f'{k} ({sizes[k]} bytes)' for k in largest)}."
        " PODIUM_ALLOWED_FUNCTIONS holds allowed_function_arns and PODIUM_HTTP_HOSTS"
        " http_hosts, comma-separated: list fewer entries, e.g. one wildcard ARN for a"
        " family of functions (arn:aws:lambda:<region>:<account>:function:etl-*), ['*']"
        " for any function of this account and region, or a wildcard host"
        " (*.internal.example.com)."
    )


def environment_sizes(scope: Construct, environment: Mapping[str, str]) -> dict[str, int]:
    """Each variable's size as Lambda counts it (its name and its value, in bytes), with
    values made at deploy time estimated (``DEPLOY_TIME_VALUE_BYTES``)."""
    stack = Stack.of(scope)
    return {
        key: len(key.encode()) + _deployed_size(stack.resolve(value))
        for key, value in environment.items()
    }


def _deployed_size(node: Any) -> int:
    if isinstance(node, str):
        return len(node.encode())
    if isinstance(node, (int, float)):
        return len(str(node))
    if isinstance(node, dict) and len(node) == 1:
        ((function, argument),) = node.items()
        if function == "Fn::Join":
            separator, parts = argument
            joins = len(str(separator).encode()) * max(len(parts) - 1, 0)
            return joins + sum(_deployed_size(part) for part in parts)
        if function == "Ref" and argument in PSEUDO_PARAMETER_BYTES:
            return PSEUDO_PARAMETER_BYTES[argument]
    return DEPLOY_TIME_VALUE_BYTES
