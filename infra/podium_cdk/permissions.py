"""Podium's IAM model in one place: what each engine function may do, and on what.

| function | table | work queue | event queue | payloads | bus     | schedules | steps          |
|----------|-------|------------|-------------|----------|---------|-----------|----------------|
| api      | r/w   | send       | send        | get/put  | put     | manage    | follow         |
| advance  | r/w   | send       | send, recv  | get/put  | put     | manage    | follow         |
| work     | r/w   | send, recv | send        | get/put  | put     | manage    | start, follow  |
| sweep    | r/w   | send       | send        | get/put  | put     | manage    | follow         |
| events   | r/w   | send       | send        | get/put  | put     | manage    | follow         |

"recv" is granted by the queue's event source mapping; "start" and "follow" are the
external step types' grants (step_targets.py). No statement uses a wildcard
action. Wildcard resources appear only where names are made at run time (payload keys
under ``payloads/``, schedule names, the log streams of step functions), where AWS
allows nothing narrower (X-Ray, in functions.py), or where the operator listed a
wildcard ARN in the props; each one is acknowledged for cdk-nag with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Arn, ArnFormat, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from . import nag
from .eventing import Eventing
from .functions import EngineFunctions
from .payloads import PayloadBucket
from .props import HandlerName, PodiumProps
from .queues import Queues
from .table import StateTable

# Transactions need no actions of their own: TransactWriteItems is authorized by the
# Put/Update/Delete/ConditionCheck actions of its parts. No Scan: reads use keys or GSIs.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
PAYLOAD_ACTIONS = ("s3:GetObject", "s3:PutObject")
# Where the engine keeps payloads in the bucket (functions/podium/adapters/payloads.py,
# S3Payloads' default prefix): it writes and reads no other key.
PAYLOAD_PREFIX = "payloads/"
SCHEDULE_ACTIONS = (
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
)
ECS_TASK_ACTIONS = ("ecs:DescribeTasks", "ecs:StopTask")

# Which function may do what (the table in the module docstring).
# The work function sends too: successors it makes ready and retries it schedules. The
# api and events functions too: an operator's resume, retry or skip, and a permit freed by
# a stop (an action's, or a last_only supersede when a trigger starts a run), send the
# step that goes on.
SENDS_TO_WORK: tuple[HandlerName, ...] = ("api", "advance", "work", "sweep", "events")
SENDS_TO_EVENTS: tuple[HandlerName, ...] = ("api", "advance", "work", "sweep", "events")
# The sweeper too: a reclaim or a signal check renders bindings (big params and outputs
# are read from S3) and stores a big matched signal.
USES_PAYLOADS: tuple[HandlerName, ...] = ("api", "advance", "work", "sweep", "events")
# Run status changes are published where runs end: by any engine function (the events
# function starts runs from triggers, and a replayed start may redo an ended run's
# follow-ups).
PUTS_EVENTS: tuple[HandlerName, ...] = ("api", "advance", "work", "sweep", "events")
# Every function that runs engine code may set a timer longer than 15 minutes.
MANAGES_SCHEDULES: tuple[HandlerName, ...] = ("api", "advance", "work", "sweep", "events")

_PAYLOAD_REASON = (
    "Payload object keys are made per run and step at run time; the grant is limited to "
    f"the {PAYLOAD_PREFIX} prefix of Podium's own payload bucket."
)
_SCHEDULE_REASON = (
    "Timer and trigger schedule names are made at run time; the grant is limited to "
    "Podium's own schedule group."
)
_OPERATOR_REASON = "Wildcard ARN listed by the operator in the Podium props ({prop})."


def grant_engine_permissions(
    *,
    props: PodiumProps,
    functions: EngineFunctions,
    table: StateTable,
    queues: Queues,
    payloads: PayloadBucket,
    eventing: Eventing,
) -> None:
    table_resources = [table.table.table_arn, *table.index_arns()]
    payload_objects = payloads.bucket.arn_for_objects(f"{PAYLOAD_PREFIX}*")
    schedules = eventing.schedule_arn_pattern()
    for name, role in functions.roles.items():
        role.add_to_policy(
            iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=table_resources)
        )
        if name in SENDS_TO_WORK:
            queues.work_queue.grant_send_messages(role)
        if name in SENDS_TO_EVENTS:
            queues.event_queue.grant_send_messages(role)
        if name in USES_PAYLOADS:
            role.add_to_policy(
                iam.PolicyStatement(actions=list(PAYLOAD_ACTIONS), resources=[payload_objects])
            )
            # Without it S3 answers a read of a missing key 403, not 404: an expired
            # payload would be an AccessDenied, not the PayloadNotFound views handle.
            # No s3:prefix condition: that check is made for a GetObject, not a list
            # request, which carries no s3:prefix to match; the 404 would be a 403 again.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"], resources=[payloads.bucket.bucket_arn]
                )
            )
            _acknowledge(role, payload_objects, _PAYLOAD_REASON)
        if name in PUTS_EVENTS:
            eventing.bus.grant_put_events_to(role)
        if name in MANAGES_SCHEDULES:
            role.add_to_policy(
                iam.PolicyStatement(actions=list(SCHEDULE_ACTIONS), resources=[schedules])
            )
            _acknowledge(role, schedules, _SCHEDULE_REASON)
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[eventing.scheduler_role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
                )
            )

    work = functions.roles["work"]
    _grant_invoke(work, props.allowed_function_arns)
    _grant_read_logs(functions.roles["api"], props.allowed_function_arns)
    _grant_ecs(work, props)


def allowed_functions_setting(arns: Sequence[str]) -> str:
    """The PODIUM_ALLOWED_FUNCTIONS value: the entries, comma-separated. ``*`` is kept
    beside the others: it covers this region's functions only, and a listed function of
    another region (or account) must stay allowed (adapters/function_allowlist.py)."""
    return ",".join(arns)


def _beside_star(arns: Sequence[str]) -> list[str]:
    """The entries ``*`` does not cover: all but those in the stack's own account and
    region by default (a name, with or without a qualifier), which ``*`` grants."""
    return [a for a in arns if a != "*" and _function_place(a)[:2] != (None, None)]


def _grant_read_logs(role: iam.Role, arns: Sequence[str]) -> None:
    """GET /runs/{id}/logs reads the step functions' log groups (/aws/lambda/<name>)."""
    if not arns:
        return
    stack = Stack.of(role)
    # A function of another region (or account) logs there: its group is granted there.
    # "*" is this region's groups; the entries beside it may be elsewhere.
    if "*" in arns:
        places = [(None, None, "*"), *(_function_place(a) for a in _beside_star(arns))]
    else:
        places = [_function_place(a) for a in arns]
    resources = list(
        dict.fromkeys(
            stack.format_arn(
                service="logs",
                region=region,
                account=account,
                resource="log-group",
                resource_name=f"/aws/lambda/{name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for region, account, name in places
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:FilterLogEvents", "logs:GetLogEvents"], resources=resources
        )
    )
    for resource in resources:
        _acknowledge(
            role,
            resource,
            "Log streams of a step function are made per invocation; the grant is limited to"
            " the log groups of the functions listed in allowed_function_arns.",
        )


def _function_place(name_or_arn: str) -> tuple[str | None, str | None, str]:
    """(region, account, name) of a function: an ARN's own region and account (tokens
    too, split with Fn::Select/Fn::Split), a partial ARN's account, else None (the
    stack's). The name drops any qualifier: Lambda writes an alias's or a version's
    invocations to its function's log group (``/aws/lambda/<name>``)."""
    if Token.is_unresolved(name_or_arn):
        # A token is an ARN (fn.function_arn, an import): its resource name is the
        # function's name, and a qualifier after it is dropped by the split.
        parts = Arn.split(name_or_arn, ArnFormat.COLON_RESOURCE_NAME)
        if parts.resource_name is None:  # the format always has one
            raise ValueError(f"allowed_function_arns: {name_or_arn} names no function")
        return parts.region, parts.account, parts.resource_name
    pieces = name_or_arn.split(":")
    if name_or_arn.startswith("arn:") and len(pieces) >= 7 and pieces[3]:
        return pieces[3], pieces[4] or None, _function_name(name_or_arn)
    account, _, rest = name_or_arn.partition(":function:")
    if rest and account.isascii() and account.isdigit():  # 123456789012:function:name
        return None, account, _function_name(name_or_arn)
    return None, None, _function_name(name_or_arn)


def _function_name(name_or_arn: str) -> str:
    """The function's name of a resolved name, ARN or partial ARN, without its
    qualifier (``load:prod`` -> ``load``)."""
    name = name_or_arn.split(":function:", 1)[1] if ":function:" in name_or_arn else name_or_arn
    return name.split(":", 1)[0]


def _grant_invoke(role: iam.Role, arns: Sequence[str]) -> None:
    if not arns:
        return  # steps of type lambda are refused by the engine; no grant needed
    if "*" in arns:
        # Any function, but only in this account and region; the entries beside it
        # (another region's or account's functions) as listed.
        resources = [
            Stack.of(role).format_arn(
                service="lambda",
                resource="function",
                resource_name="*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            *dict.fromkeys(_function_arn(role, arn) for arn in _beside_star(arns)),
        ]
    else:
        resources = [_function_arn(role, arn) for arn in arns]
    role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=resources))
    _acknowledge_operator_wildcards(role, resources, "allowed_function_arns")


def _function_arn(scope: Construct, name_or_arn: str) -> str:
    """Workflows may name a function instead of giving its ARN; IAM needs the ARN.
    A bare name means a function in this stack's account and region; a partial ARN
    (``123456789012:function:extract``, as Lambda takes it) one in that account."""
    if name_or_arn.startswith("arn:") or Token.is_unresolved(name_or_arn):
        return name_or_arn
    account, _, rest = name_or_arn.partition(":function:")
    if rest and account.isascii() and account.isdigit():
        return Stack.of(scope).format_arn(
            service="lambda",
            account=account,
            resource="function",
            resource_name=rest,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
    return Stack.of(scope).format_arn(
        service="lambda",
        resource="function",
        resource_name=name_or_arn,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def _grant_ecs(role: iam.Role, props: PodiumProps) -> None:
    if not props.ecs_cluster_arns:
        return
    clusters = list(props.ecs_cluster_arns)
    tasks = [_tasks_of_cluster(role, arn) for arn in clusters]
    if props.ecs_task_definition_arns:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"],
                resources=list(props.ecs_task_definition_arns),
                conditions={"ArnEquals": {"ecs:cluster": clusters}},
            )
        )
        # RunTask with tags (the engine tags tasks with their run) needs TagResource.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:TagResource"],
                resources=tasks,
                conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
            )
        )
        _acknowledge_operator_wildcards(
            role, props.ecs_task_definition_arns, "ecs_task_definition_arns"
        )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=list(ECS_TASK_ACTIONS),
            resources=tasks,
            conditions={"ArnEquals": {"ecs:cluster": clusters}},
        )
    )
    for task_arn in tasks:
        _acknowledge(
            role,
            task_arn,
            "ECS task ids are made when a step starts; the grant is limited to tasks "
            "of the clusters listed in ecs_cluster_arns.",
        )
    if props.ecs_pass_role_arns:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=list(props.ecs_pass_role_arns),
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        _acknowledge_operator_wildcards(role, props.ecs_pass_role_arns, "ecs_pass_role_arns")


def _tasks_of_cluster(scope: Construct, cluster_arn: str) -> str:
    """arn:...:cluster/NAME -> arn:...:task/NAME/* (works for tokens too)."""
    parts = Arn.split(cluster_arn, ArnFormat.SLASH_RESOURCE_NAME)
    return Stack.of(scope).format_arn(
        service="ecs",
        resource="task",
        resource_name=f"{parts.resource_name}/*",
        partition=parts.partition,
        region=parts.region,
        account=parts.account,
    )


def _acknowledge_operator_wildcards(role: iam.Role, arns: Sequence[str], prop: str) -> None:
    for arn in arns:
        if "*" in arn or Token.is_unresolved(arn):
            _acknowledge(role, arn, _OPERATOR_REASON.format(prop=prop))


def acknowledge_wildcards(scope: Construct, resources: Sequence[str], reason: str) -> None:
    """Acknowledge the IAM5 finding of each wildcard resource granted to ``scope``."""
    for resource in resources:
        _acknowledge(scope, resource, reason)


def _acknowledge(role: Construct, resource: str, reason: str) -> None:
    """Acknowledge the IAM5 finding of one wildcard resource of ``role``."""
    rendered = _nag_form(role, resource)
    if "*" in rendered:
        nag.wildcard_resource(role, rendered, reason)


def _nag_form(scope: Construct, value: str) -> str:
    """The text cdk-nag uses for a resource in a finding id: literals as written,
    CloudFormation references as <Ref> / <Resource.Attribute>, other functions
    (Fn::Select of a split token ARN) as their JSON."""
    if not Token.is_unresolved(value):
        return value
    return _render(Stack.of(scope).resolve(value))


def _render(node: object) -> str:
    """cdk-nag's flattenCfnReference (utils/flatten-cfn-reference.ts), which names the
    resources of IAM5 findings."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if node.get("Fn::Join"):
            separator, items = node["Fn::Join"]
            return str(separator).join(_render(item) for item in items)
        if node.get("Fn::Sub"):
            return _render(node["Fn::Sub"])
        if node.get("Fn::GetAtt"):
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_render(resource)}.{_render(attribute)}>"
        if node.get("Fn::ImportValue"):
            return _render(node["Fn::ImportValue"])
        if node.get("Ref"):
            return f"<{_render(node['Ref'])}>"
    # JSON.stringify's form: no spaces, non-ASCII as is.
    return json.dumps(node, separators=(",", ":"), ensure_ascii=False)
