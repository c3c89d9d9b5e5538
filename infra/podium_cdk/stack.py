"""``PodiumStack``: the ready-made stack that ``infra/app.py`` deploys.

It only composes and grants: one ``Podium`` construct plus the outputs the CLI reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from .podium import Podium
from .props import PodiumProps

CONTEXT_PREFIX = "podium:"


class PodiumStack(Stack):
    """Attributes: ``podium`` (the construct)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        podium: PodiumProps | None = None,
        **stack_options: Any,
    ) -> None:
        stack_options.setdefault(
            "description", "Podium: serverless workflow orchestrator (Lambda, DynamoDB, SQS)"
        )
        super().__init__(scope, construct_id, **stack_options)
        self.podium = Podium(self, "Podium", props=podium)
        self.podium.add_outputs()


def _csv(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return tuple(v.strip() for v in str(value).split(",") if v.strip())


# context key (after "podium:") -> (PodiumProps field, parser)
_CONTEXT_FIELDS: Mapping[str, tuple[str, Any]] = {
    "namePrefix": ("name_prefix", str),
    "architecture": ("architecture", str),
    "alarmEmail": ("alarm_email", str),
    "allowedFunctionArns": ("allowed_function_arns", _csv),
    "ecsClusterArns": ("ecs_cluster_arns", _csv),
    "ecsTaskDefinitionArns": ("ecs_task_definition_arns", _csv),
    "ecsPassRoleArns": ("ecs_pass_role_arns", _csv),
    "triggerBucketNames": ("trigger_bucket_names", _csv),
    "triggerEventBuses": ("trigger_event_buses", _csv),
    "runRetentionDays": ("run_retention_days", lambda v: _days(v)),
    "removalPolicy": ("removal_policy", lambda v: _removal(v)),
}


def _days(value: object) -> int | None:
    """A whole number of days, or ``none`` (keep runs forever)."""
    text = str(value).strip()
    if text.lower() == "none":
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"a whole number of days, or none; got {text[:40]!r}")
    return int(text)


def _removal(value: object) -> RemovalPolicy:
    names = ("RETAIN", "DESTROY", "SNAPSHOT", "RETAIN_ON_UPDATE_OR_DELETE")
    text = str(value).strip().upper()
    if text not in names:
        raise ValueError(f"one of {', '.join(n.lower() for n in names)}; got {str(value)[:40]!r}")
    return RemovalPolicy[text]


def props_from_context(scope: Construct) -> PodiumProps:
    """PodiumProps from ``-c podium:<key>=<value>`` (or cdk.json "context"), so the
    ready stack deploys without editing code. Keys: see ``_CONTEXT_FIELDS``."""
    values: dict[str, Any] = {}
    for key, (field_name, parse) in _CONTEXT_FIELDS.items():
        raw = scope.node.try_get_context(CONTEXT_PREFIX + key)
        if raw is not None and raw != "":
            try:
                values[field_name] = parse(raw)
            except ValueError as exc:  # a message naming the key, not a traceback
                raise ValueError(f"-c {CONTEXT_PREFIX}{key}: {exc}") from None
    return PodiumProps(**values)
