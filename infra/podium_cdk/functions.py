"""The five engine Lambda functions, each with its own role and log group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
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
