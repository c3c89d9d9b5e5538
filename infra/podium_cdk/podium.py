"""The ``Podium`` L3 construct: the whole orchestrator in one construct.

It composes the parts (each its own small construct) and wires them together:

    StateTable, Queues, PayloadBucket, Eventing   the state and the pipes
    EngineFunctions                               the five handlers, one role each
    permissions.grant_engine_permissions          the IAM model (who may do what)
    Triggers                                      EventBridge rules + sweeper clock
    Api                                           HTTP API with IAM auth
    Monitoring                                    alarms, SNS topic, dashboard
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .api import Api
from .code import engine_code
from .eventing import Eventing, Triggers
from .functions import EngineFunctions, handler_specs
from .monitoring import METRICS_NAMESPACE, Monitoring
from .payloads import PayloadBucket
from .permissions import allowed_functions_setting, grant_engine_permissions
from .props import PodiumProps
from .queues import Queues
from .step_targets import (
    StepTargetRules,
    acknowledge_describe_wildcards,
    external_step_types,
    grant_step_targets,
    http_hosts_setting,
)
from .table import StateTable

# Names of the stack outputs the podium CLI reads (see add_outputs).
OUTPUT_KEYS = (
    "ApiUrl",
    "TableName",
    "WorkQueueUrl",
    "EventQueueUrl",
    "EventBusName",
    "PayloadBucketName",
    "WorkDlqUrl",
    "EventDlqUrl",
    "TriggerDlqUrl",
)


class Podium(Construct):
    """A complete Podium deployment.

    Use it as ``Podium(self, "Podium", alarm_email="ops@example.com")`` with any field
    of ``PodiumProps`` as a keyword, or pass a ready ``props=PodiumProps(...)``.

    Attributes: ``props``, ``state`` (``StateTable``), ``table``, ``queues``,
    ``work_queue``, ``event_queue``, ``payloads``, ``payload_bucket``, ``eventing``,
    ``event_bus``, ``functions`` (``EngineFunctions``: ``functions.work`` ...),
    ``triggers``, ``api``, ``api_url``, ``monitoring``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: PodiumProps | None = None,
        **options: Any,
    ) -> None:
        super().__init__(scope, construct_id)
        self.props = p = dataclasses.replace(props or PodiumProps(), **options)

        self.state = StateTable(
            self,
            "State",
            removal_policy=p.removal_policy,
            point_in_time_recovery=p.point_in_time_recovery,
        )
        self.queues = Queues(
            self,
            "Queues",
            work_timeout=p.work_timeout,
            advance_timeout=handler_specs(p.work_timeout)["advance"].timeout,
        )
        self.payloads = PayloadBucket(
            self,
            "Payloads",
            removal_policy=p.removal_policy,
            expiration_days=p.effective_payload_expiration_days,
            access_logs_bucket=p.access_logs_bucket,
        )
        self.eventing = Eventing(
            self,
            "Eventing",
            name_prefix=p.name_prefix,
            event_queue=self.queues.event_queue,
            work_queue=self.queues.work_queue,
            dead_letter_queues=[self.queues.work_dlq, self.queues.event_dlq],
        )
        self.functions = EngineFunctions(
            self,
            "Functions",
            props=p,
            code=p.code or engine_code(self, arch=p.architecture),
            environment=self._environment(),
            work_queue=self.queues.work_queue,
            event_queue=self.queues.event_queue,
            trigger_dlq=self.queues.trigger_dlq,
        )
        grant_engine_permissions(
            props=p,
            functions=self.functions,
            table=self.state,
            queues=self.queues,
            payloads=self.payloads,
            eventing=self.eventing,
        )
        grant_step_targets(p, self.functions)
        acknowledge_describe_wildcards(self.functions, p)
        self.step_target_rules = StepTargetRules(
            self,
            "StepTargets",
            props=p,
            events_function=self.functions.events,
            trigger_dlq=self.queues.trigger_dlq,
        )
        self.triggers = Triggers(
            self,
            "Triggers",
            bus=self.eventing.bus,
            events_function=self.functions.events,
            sweep_function=self.functions.sweep,
            trigger_dlq=self.queues.trigger_dlq,
            trigger_bucket_names=p.trigger_bucket_names,
            trigger_event_patterns=p.trigger_event_patterns,
            trigger_event_buses=p.trigger_event_buses,
            sweep_interval=p.sweep_interval,
        )
        self.api = Api(
            self,
            "Api",
            name_prefix=p.name_prefix,
            handler=self.functions.api,
            log_retention=p.log_retention,
            removal_policy=p.log_removal_policy,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            name_prefix=p.name_prefix,
            service_name=p.name_prefix,
            functions=self.functions.by_name,
            queues={"work": self.queues.work_queue, "event": self.queues.event_queue},
            dead_letter_queues=self.queues.dead_letter_queues,
            table=self.table,
            alarm_topic=p.alarm_topic,
            alarm_email=p.alarm_email,
            alarms=p.alarms,
            dashboard=p.dashboard,
        )

    # Shortcuts to the resources people reach for most.
    @property
    def table(self) -> dynamodb.Table:
        return self.state.table

    @property
    def work_queue(self) -> sqs.Queue:
        return self.queues.work_queue

    @property
    def event_queue(self) -> sqs.Queue:
        return self.queues.event_queue

    @property
    def payload_bucket(self) -> s3.Bucket:
        return self.payloads.bucket

    @property
    def event_bus(self) -> events.EventBus:
        return self.eventing.bus

    @property
    def api_url(self) -> str:
        return self.api.url

    def grant_read(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` (a role, a user, a group) read through the API: workflows,
        runs, logs, the console."""
        self._grant_find_stack(grantee)
        return self.api.grant_read(grantee)

    def _grant_find_stack(self, grantee: iam.IGrantable) -> None:
        """The CLI's ``--stack`` reads the stack's outputs (the API's URL, the DLQs')."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["cloudformation:DescribeStacks"],
            resource_arns=[Stack.of(self).stack_id],
        )

    def grant_operate(self, grantee: iam.IGrantable) -> iam.Grant:
        """Read, and act on runs (stop, kill, pause, resume, restart) and steps (skip,
        retry, stop, resume), set breakpoints, activate a version, and list and redrive
        dead letters (podium dlq): on-call people without push rights."""
        self._grant_find_stack(grantee)
        for dlq in self.queues.dead_letter_queues.values():
            dlq.grant_consume_messages(grantee)
        self.work_queue.grant_send_messages(grantee)  # where a redrive sends them back
        self.event_queue.grant_send_messages(grantee)
        return self.api.grant_operate(grantee)

    def _environment(self) -> dict[str, str]:
        """What functions/podium/bootstrap.py reads. Every function gets the same set so
        bootstrap stays uniform; the IAM roles, not the variables, bound what each may
        do."""
        p = self.props
        env = {
            "PODIUM_TABLE_NAME": self.table.table_name,
            "PODIUM_WORK_QUEUE_URL": self.work_queue.queue_url,
            "PODIUM_EVENT_QUEUE_URL": self.event_queue.queue_url,
            "PODIUM_WORK_QUEUE_ARN": self.work_queue.queue_arn,
            "PODIUM_EVENT_QUEUE_ARN": self.event_queue.queue_arn,
            # Where a schedule's firing goes when Scheduler gives up (its queue's DLQ).
            "PODIUM_WORK_DLQ_ARN": self.queues.work_dlq.queue_arn,
            "PODIUM_EVENT_DLQ_ARN": self.queues.event_dlq.queue_arn,
            "PODIUM_PAYLOAD_BUCKET": self.payload_bucket.bucket_name,
            "PODIUM_EVENT_BUS_NAME": self.event_bus.event_bus_name,
            "PODIUM_SCHEDULE_GROUP": self.eventing.schedule_group.schedule_group_name,
            "PODIUM_SCHEDULER_ROLE_ARN": self.eventing.scheduler_role.role_arn,
            "PODIUM_ALLOWED_FUNCTIONS": allowed_functions_setting(p.allowed_function_arns),
            "PODIUM_HTTP_HOSTS": http_hosts_setting(p.http_hosts),
            "PODIUM_EXTERNAL_STEP_TYPES": ",".join(external_step_types(p)),
            "POWERTOOLS_SERVICE_NAME": p.name_prefix,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_TRACE_DISABLED": "false" if p.tracing else "true",
            "LOG_LEVEL": p.log_level,
        }
        if p.run_retention_days is not None:
            env["PODIUM_RUN_RETENTION_DAYS"] = str(p.run_retention_days)
        return env

    def add_outputs(self, scope: Construct | None = None) -> list[CfnOutput]:
        """Add the stack outputs the podium CLI reads (keys in ``OUTPUT_KEYS``) to the
        stack of ``scope`` (default: this construct's stack). Call it once per stack."""
        stack = Stack.of(scope or self)
        values = {
            "ApiUrl": (self.api_url, "Podium HTTP API endpoint (IAM auth)"),
            "TableName": (self.table.table_name, "Podium state table"),
            "WorkQueueUrl": (self.work_queue.queue_url, "Queue of steps to execute"),
            "EventQueueUrl": (self.event_queue.queue_url, "Queue of run events"),
            "EventBusName": (self.event_bus.event_bus_name, "Bus for signals and triggers"),
            "PayloadBucketName": (self.payload_bucket.bucket_name, "Large params/outputs"),
            # podium dlq list|redrive reads and moves dead letters with the caller's role.
            "WorkDlqUrl": (self.queues.work_dlq.queue_url, "Dead letters of the work queue"),
            "EventDlqUrl": (self.queues.event_dlq.queue_url, "Dead letters of the event queue"),
            "TriggerDlqUrl": (self.queues.trigger_dlq.queue_url, "Trigger deliveries that failed"),
        }
        return [
            CfnOutput(stack, key, value=value, description=description)
            for key, (value, description) in values.items()
        ]
