"""Everything a user can configure on the ``Podium`` construct, with defaults.

The props are one frozen, keyword-only dataclass so that a typo is a TypeError at synth
time, and so that the sub-constructs receive one immutable value instead of a dozen
loose arguments. ``docs/deploy.md`` has the same table in prose; keep them in sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, get_args

from aws_cdk import Duration, RemovalPolicy, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns

HandlerName = Literal["api", "advance", "work", "sweep", "events"]
HANDLER_NAMES: tuple[HandlerName, ...] = get_args(HandlerName)
Architecture = Literal["arm64", "x86_64"]

# Enough for pydantic validation of large definitions; the work function mostly waits
# on the synchronous invoke of a user function, so more memory would only cost more.
DEFAULT_MEMORY_MB: Mapping[HandlerName, int] = MappingProxyType(
    {"api": 512, "advance": 512, "work": 512, "sweep": 256, "events": 256}
)

# Lambda's hard limit; the work function may wait this long on a user Lambda.
MAX_LAMBDA_TIMEOUT = Duration.minutes(15)

_PREFIX = re.compile(r"^[a-z][a-z0-9-]{0,29}$")

# SQS's smallest maximum concurrency of an event source (the largest is 1000).
MIN_QUEUE_CONCURRENCY = 2

# What Python's logging (and Powertools' Logger, at every cold start) knows.
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, kw_only=True)
class PodiumProps:
    """Settings of one Podium deployment. Every field has a default that deploys."""

    # Naming. The prefix names the event bus, the schedule group, alarms, the dashboard
    # and the Powertools service; it must be unique per account and region.
    name_prefix: str = "podium"

    # Compute.
    architecture: Architecture = "arm64"
    memory_mb: Mapping[HandlerName, int] = field(default_factory=dict)
    reserved_concurrency: Mapping[HandlerName, int] = field(default_factory=dict)
    queue_max_concurrency: Mapping[Literal["advance", "work"], int] = field(default_factory=dict)
    work_timeout: Duration = MAX_LAMBDA_TIMEOUT
    work_batch_size: int = 1
    advance_batch_size: int = 10
    sweep_interval: Duration = field(default_factory=lambda: Duration.minutes(1))
    tracing: bool = True
    log_level: str = "INFO"
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH

    # What steps and triggers may touch. Functions: ARNs, or names in this account and
    # region; ["*"] allows any function of this account and region.
    allowed_function_arns: Sequence[str] = ()
    ecs_cluster_arns: Sequence[str] = ()
    ecs_task_definition_arns: Sequence[str] = ()
    ecs_pass_role_arns: Sequence[str] = ()
    # The other external step types (infra/podium_cdk/step_targets.py): each one is
    # granted only on what is named here, and a type named nowhere cannot run.
    batch_job_queue_arns: Sequence[str] = ()
    batch_job_definition_arns: Sequence[str] = ()
    glue_job_names: Sequence[str] = ()
    sfn_state_machine_arns: Sequence[str] = ()
    # http steps: the hosts they may call ("api.example.com", "*.example.com",
    # "host:port"; none by default) and the Secrets Manager secrets (names or ARNs)
    # their auth may read.
    http_hosts: Sequence[str] = ()
    secret_names: Sequence[str] = ()
    trigger_bucket_names: Sequence[str] = ()
    trigger_event_patterns: Sequence[events.EventPattern] = ()
    # Other buses whose events event triggers may name (``bus: NAME``): names, or ARNs
    # of buses in the stack's account and region (labelled with the name in the ARN).
    trigger_event_buses: Sequence[str] = ()

    # Data.
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    run_retention_days: int | None = 90
    payload_expiration_days: int | None = None
    point_in_time_recovery: bool = True
    access_logs_bucket: s3.IBucket | None = None

    # Monitoring.
    alarm_email: str | None = None
    alarm_topic: sns.ITopic | None = None
    alarms: bool = True
    dashboard: bool = True

    # Lambda code. None means: bundle functions/podium plus its runtime dependencies
    # (or the raw source when the context flag ``podium:skipBundling`` is true).
    code: lambda_.Code | None = None

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.name_prefix):
            raise ValueError(
                f"name_prefix {self.name_prefix!r}: use 1-30 lowercase letters, digits "
                "or '-', starting with a letter"
            )
        if self.architecture not in get_args(Architecture):
            raise ValueError(f"architecture must be one of {get_args(Architecture)}")
        for name in (*self.memory_mb, *self.reserved_concurrency):
            if name not in HANDLER_NAMES:
                raise ValueError(f"unknown handler {name!r}; known: {HANDLER_NAMES}")
        for name, value in self.queue_max_concurrency.items():
            if name not in ("advance", "work"):
                raise ValueError(f"queue_max_concurrency: {name!r} has no queue")
            if not MIN_QUEUE_CONCURRENCY <= value <= 1000:
                raise ValueError(
                    f"queue_max_concurrency must be within {MIN_QUEUE_CONCURRENCY}..1000"
                    " (SQS limit)"
                )
        for name, mb in self.memory_mb.items():
            if not _whole(mb):
                raise ValueError(f"memory_mb[{name!r}]: {mb!r}; give a whole number of MB")
            if not 128 <= mb <= 10240:
                raise ValueError(f"memory_mb[{name!r}]: {mb} MB; Lambda takes 128 to 10240")
        if self.log_level.upper() not in _LOG_LEVELS:
            raise ValueError(f"log_level {self.log_level!r}: use one of {', '.join(_LOG_LEVELS)}")
        if self.payload_expiration_days is not None and self.payload_expiration_days < 1:
            raise ValueError(
                "payload_expiration_days must be >= 1 (or None: run_retention_days + 30)"
            )
        sweep_ms = self.sweep_interval.to_milliseconds()
        if sweep_ms < 60_000 or sweep_ms % 60_000:
            raise ValueError(
                "sweep_interval must be whole minutes, at least 1 (Duration.minutes(N))"
            )
        timeout_ms = self.work_timeout.to_milliseconds()
        if timeout_ms < 1000 or timeout_ms % 1000:
            raise ValueError("work_timeout must be whole seconds, at least 1 (Duration.seconds(N))")
        if self.work_timeout.to_seconds() > MAX_LAMBDA_TIMEOUT.to_seconds():
            raise ValueError("work_timeout cannot exceed Lambda's 15 minutes")
        for prop, size in (
            ("work_batch_size", self.work_batch_size),
            ("advance_batch_size", self.advance_batch_size),
        ):
            if not 1 <= size <= 10:  # named, so a -c refusal names its key
                raise ValueError(f"batch sizes must be within 1..10; {prop} is {size}")
        if self.run_retention_days is not None and self.run_retention_days < 1:
            raise ValueError("run_retention_days must be >= 1 (or None to keep runs)")
        if self.ecs_task_definition_arns and not self.ecs_cluster_arns:
            raise ValueError("ecs_task_definition_arns needs ecs_cluster_arns to run them in")
        if self.ecs_pass_role_arns and not self.ecs_cluster_arns:
            # Granted with the ECS grants alone: without clusters it would be dropped.
            raise ValueError(
                "ecs_pass_role_arns needs ecs_cluster_arns (and ecs_task_definition_arns):"
                " the roles are passed to the tasks steps run there"
            )
        _refuse_non_arns(self)
        for job in self.glue_job_names:
            if not Token.is_unresolved(job) and job.startswith("arn:"):
                raise ValueError(
                    f"glue_job_names: {job!r} is an ARN; Glue job names are names (the"
                    f" grants and the rule are made from them): write"
                    f" {job.rpartition(':job/')[2] or 'the job name'!r}"
                )
        if self.batch_job_definition_arns and not self.batch_job_queue_arns:
            raise ValueError(
                "batch_job_definition_arns needs batch_job_queue_arns to submit them to"
            )
        if self.batch_job_queue_arns and not self.batch_job_definition_arns:
            raise ValueError("batch_job_queue_arns needs batch_job_definition_arns to submit")
        _refuse_definitions_without_revision(
            self.ecs_task_definition_arns, "ecs_task_definition_arns", "task-definition"
        )
        _refuse_definitions_without_revision(
            self.batch_job_definition_arns, "batch_job_definition_arns", "job-definition"
        )
        for host in self.http_hosts:
            if not host or "/" in host or " " in host or host == "*":
                raise ValueError(
                    f"http_hosts: {host!r} is not a host; use 'api.example.com',"
                    " '*.example.com' or 'host:port' (no scheme, no path)"
                )
        seen: set[str] = set()
        for given in self.trigger_event_buses:
            bus = trigger_bus_name(given)
            if bus in seen:
                # Two rules on one bus: each of its events would start its runs twice.
                raise ValueError(f"trigger_event_buses: the bus {bus!r} is listed twice")
            seen.add(bus)
            if bus in ("podium", "default", event_bus_name(self.name_prefix)):
                # Events from these rules come tagged with the bus's name; "podium" is
                # how Podium's own bus is told apart (signals, status-change triggers)
                # and the default bus is always listened to. Podium's bus by its real
                # name would get a second rule: each of its events handled twice.
                which = "the default bus" if bus == "default" else "Podium's own bus"
                raise ValueError(
                    f"trigger_event_buses: {bus!r} names {which}, always listened to;"
                    " list only your other buses (rename a bus of yours called so)"
                )
        if self.alarm_email and self.alarm_topic:
            raise ValueError("give alarm_email or alarm_topic, not both")
        if self.removal_policy == RemovalPolicy.SNAPSHOT:
            raise ValueError(
                "removal_policy SNAPSHOT: DynamoDB tables do not support it; use RETAIN (keep"
                " the data) or DESTROY"
            )
        for handler, count in self.reserved_concurrency.items():
            if not _whole(count) or count < 0:
                # Lambda takes 0 (the function never runs) and up; CDK's own refusal
                # of the rest does not say which prop.
                raise ValueError(
                    f"reserved_concurrency[{handler!r}]: {count!r}; give a whole number of"
                    " concurrent executions, 0 or more (or leave it unset)"
                )
        for name in ("advance", "work"):
            reserved = self.reserved_concurrency.get(name)  # type: ignore[call-overload]
            cap = self.queue_max_concurrency.get(name)  # type: ignore[call-overload]
            if reserved is not None and reserved < MIN_QUEUE_CONCURRENCY:
                # The cap below must be no higher than the reservation, and SQS takes
                # none under 2: asking for one would only lead to the next refusal.
                raise ValueError(
                    f"reserved_concurrency[{name!r}] = {reserved}: a queue consumer needs"
                    f" at least {MIN_QUEUE_CONCURRENCY} (SQS's smallest maximum concurrency,"
                    " which must not exceed it), or leave it unset and cap the load with"
                    " queue_max_concurrency alone"
                )
            if reserved is not None and (cap is None or cap > reserved):
                # SQS's poller does not see reserved concurrency: past it, its receives
                # are throttled and count toward the DLQ's maxReceiveCount.
                raise ValueError(
                    f"reserved_concurrency[{name!r}] = {reserved} needs"
                    f" queue_max_concurrency[{name!r}] of at most {reserved}, or messages"
                    " throttled at the reserved limit go to the dead-letter queue"
                )

    def memory_for(self, handler: HandlerName) -> int:
        return self.memory_mb.get(handler, DEFAULT_MEMORY_MB[handler])

    @property
    def effective_payload_expiration_days(self) -> int | None:
        """Payloads outlive a run that ends soon after writing them by a month, so a
        run read just before its items' TTL still finds its outputs. The lifecycle rule
        counts from each object's creation and nothing renews it: a run that goes on
        longer than this after writing a payload (a long wait; the sweeper renews its
        table items) loses that payload while it still runs."""
        if self.payload_expiration_days is not None:
            return self.payload_expiration_days
        if self.run_retention_days is None:
            return None
        return self.run_retention_days + 30

    @property
    def log_removal_policy(self) -> RemovalPolicy:
        """SNAPSHOT is not valid for log groups: keep them in that case."""
        if self.removal_policy == RemovalPolicy.SNAPSHOT:
            return RemovalPolicy.RETAIN
        return self.removal_policy


def event_bus_name(name_prefix: str) -> str:
    """The name of Podium's own bus (eventing.py)."""
    return f"{name_prefix}-bus"


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# The ARN props, and how their ARNs look. Those split into their parts (clusters, state
# machines) take ARNs only; the others also "*" (any), which IAM takes.
_ARN_PROPS = {
    "ecs_cluster_arns": ("arn:aws:ecs:<region>:<account>:cluster/<name>", False),
    "sfn_state_machine_arns": ("arn:aws:states:<region>:<account>:stateMachine:<name>", False),
    "ecs_task_definition_arns": (
        "arn:aws:ecs:<region>:<account>:task-definition/<family>:*",
        True,
    ),
    "ecs_pass_role_arns": ("arn:aws:iam::<account>:role/<name>", True),
    "batch_job_queue_arns": ("arn:aws:batch:<region>:<account>:job-queue/<name>", True),
    "batch_job_definition_arns": (
        "arn:aws:batch:<region>:<account>:job-definition/<name>:*",
        True,
    ),
}


def _refuse_non_arns(props: PodiumProps) -> None:
    """A name where an ARN is wanted: granted as written, IAM (or CDK, splitting it) would
    refuse it far from the prop that holds it."""
    for prop, (example, star) in _ARN_PROPS.items():
        for value in getattr(props, prop):
            if Token.is_unresolved(value) or value.startswith("arn:") or (star and value == "*"):
                continue
            raise ValueError(f"{prop}: {value!r} is not an ARN; give ARNs: {example}")


# EventBridge's event bus names (partner buses have slashes: aws.partner/saas/id/name).
_BUS_NAME = re.compile(r"^[/._A-Za-z0-9-]{1,256}$")
_BUS_ARN = re.compile(r"^arn:[a-z-]+:events:[a-z0-9-]+:[0-9]{12}:event-bus/(.+)$")


def trigger_bus_name(bus: str) -> str:
    """The name a ``trigger_event_buses`` entry's events are labelled with, the one an
    event trigger's ``bus: NAME`` gives: the entry itself, or the name in a bus's ARN
    (its place is checked against the stack's in eventing.py). A value that is neither a
    bus name nor a bus ARN would label events no trigger can name (push refuses a ':' in
    a bus): refused. A token (``bus.event_bus_name``) resolves to a name at deploy."""
    if Token.is_unresolved(bus):
        return bus
    arn = _BUS_ARN.match(bus)
    name = arn.group(1) if arn else bus
    if not _BUS_NAME.match(name):
        raise ValueError(
            f"trigger_event_buses: {bus!r} is not an event bus's name or ARN; give the"
            " bus's name (letters, digits and . - _ /), e.g. 'orders', or its ARN"
            " (arn:aws:events:<region>:<account>:event-bus/orders)"
        )
    return name


def _refuse_definitions_without_revision(arns: Sequence[str], prop: str, kind: str) -> None:
    """RunTask and SubmitJob are authorized on the definition's ARN with its revision
    (``family:3``), so a grant on ``.../family`` never matches: refuse it here rather
    than let every step fail with AccessDenied. Not rewritten to ``family:*``: the props
    are the grants as written (and acknowledged for cdk-nag as such)."""
    for arn in arns:
        if Token.is_unresolved(arn):
            continue  # a definition's own ARN (CloudFormation's) carries its revision
        _, found, name = arn.partition(f":{kind}/")
        if found and ":" not in name and "*" not in name:
            raise ValueError(
                f"{prop}: {arn!r} names no revision, so its grant would match no request;"
                f" write {arn + ':*'!r} (every revision) or {arn + ':<revision>'!r}"
            )
