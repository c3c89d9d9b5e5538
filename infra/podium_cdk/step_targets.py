"""What the external step types may reach, granted from the props (least privilege), and
the rules that bring their state changes back.

- ecs_task (ecs_cluster_arns, ecs_task_definition_arns, ecs_pass_role_arns): RunTask
  (permissions.py) to start; ListTasks, DescribeTasks, StopTask, DescribeTaskDefinition
  (the logs link) to follow;
- batch_job (batch_job_queue_arns, batch_job_definition_arns): SubmitJob and its
  TagResource to start; ListJobs, DescribeJobs, TerminateJob to follow;
- glue_job (glue_job_names): StartJobRun; GetJobRun(s), BatchStopJobRun;
- sfn_execution (sfn_state_machine_arns): StartExecution, DescribeStateMachine (its
  type); DescribeExecution, StopExecution;
- http (http_hosts, secret_names): GetSecretValue, to the work function only.

Starting belongs to the work function (it claims attempts); following (polls, events,
timeouts, stops) runs wherever a completion, a deadline or a stop is handled, the events
function included (it reads a Glue run, whose state-change event names no attempt, and a
trigger's last_only run stops the run it supersedes). A type whose
props are empty gets no statement and no rule, and is left out of the functions'
PODIUM_EXTERNAL_STEP_TYPES: its steps fail with Podium.ConfigError naming the props to
set (service/runtimes/external.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import Arn, ArnFormat, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .functions import EngineFunctions
from .permissions import _acknowledge, _acknowledge_operator_wildcards, _tasks_of_cluster
from .props import HandlerName, PodiumProps

# The events function too: a trigger's run on a last_only workflow stops the run it
# supersedes, and with it that run's jobs.
FOLLOWERS: tuple[HandlerName, ...] = ("api", "advance", "work", "sweep", "events")

_NO_RESOURCE_LEVEL = (
    "{actions} support no resource-level permissions (AWS allows only '*'); they read"
    " descriptions, and the actions that change anything are limited to the resources"
    " named in the Podium props."
)
_MADE_AT_RUN_TIME = (
    "{what} are made when a step starts; the grant is limited to those of the {scope}"
    " named in the Podium props ({prop})."
)


def external_step_types(props: PodiumProps) -> list[str]:
    """The external step types granted (and ruled) below, for PODIUM_EXTERNAL_STEP_TYPES:
    the functions wire only these, so another type's steps fail naming its props."""
    granted = {
        "ecs_task": props.ecs_cluster_arns,
        "batch_job": props.batch_job_queue_arns,
        "glue_job": props.glue_job_names,
        "sfn_execution": props.sfn_state_machine_arns,
    }
    return [kind for kind, resources in granted.items() if resources]


def grant_step_targets(props: PodiumProps, functions: EngineFunctions) -> None:
    roles = functions.roles
    followers = [roles[name] for name in FOLLOWERS]
    if props.ecs_cluster_arns:
        _ecs(props, followers)
    if props.batch_job_queue_arns:
        _batch(props, roles["work"], followers)
    if props.glue_job_names:
        _glue(props, roles["work"], followers)
    if props.sfn_state_machine_arns:
        _sfn(props, roles["work"], followers)
    if props.secret_names:
        _secrets(props, roles["work"])


def _ecs(props: PodiumProps, followers: list[iam.Role]) -> None:
    clusters = list(props.ecs_cluster_arns)
    for role in followers:
        tasks = [_tasks_of_cluster(role, arn) for arn in clusters]
        # The work function's DescribeTasks/StopTask come with its RunTask grant.
        if role is not followers[FOLLOWERS.index("work")]:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["ecs:DescribeTasks", "ecs:StopTask"],
                    resources=tasks,
                    conditions={"ArnEquals": {"ecs:cluster": clusters}},
                )
            )
            for task in tasks:
                _acknowledge(
                    role,
                    task,
                    _MADE_AT_RUN_TIME.format(
                        what="ECS task ids", scope="clusters", prop="ecs_cluster_arns"
                    ),
                )
        # A lost event: the task is found again by its startedBy (the attempt key).
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:ListTasks"],
                resources=["*"],
                conditions={"ArnEquals": {"ecs:cluster": clusters}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["ecs:DescribeTaskDefinition"], resources=["*"])
        )


def _batch(props: PodiumProps, work: iam.Role, followers: list[iam.Role]) -> None:
    stack = Stack.of(work)
    jobs = stack.format_arn(service="batch", resource="job", resource_name="*")
    work.add_to_policy(
        iam.PolicyStatement(
            actions=["batch:SubmitJob"],
            resources=[*props.batch_job_queue_arns, *props.batch_job_definition_arns],
        )
    )
    work.add_to_policy(
        iam.PolicyStatement(
            actions=["batch:TagResource"],
            resources=[jobs],
            conditions={"StringEquals": {"batch:CreateAction": "SubmitJob"}},
        )
    )
    _acknowledge_operator_wildcards(
        work, props.batch_job_definition_arns, "batch_job_definition_arns"
    )
    _acknowledge_operator_wildcards(work, props.batch_job_queue_arns, "batch_job_queue_arns")
    for role in followers:
        role.add_to_policy(iam.PolicyStatement(actions=["batch:TerminateJob"], resources=[jobs]))
        role.add_to_policy(
            iam.PolicyStatement(actions=["batch:DescribeJobs", "batch:ListJobs"], resources=["*"])
        )
        _acknowledge(
            role,
            jobs,
            "Batch job ids are made when a step starts; only jobs submitted to the queues"
            " named in batch_job_queue_arns can exist for Podium to terminate.",
        )


def _glue(props: PodiumProps, work: iam.Role, followers: list[iam.Role]) -> None:
    stack = Stack.of(work)
    jobs = [
        stack.format_arn(service="glue", resource="job", resource_name=name)
        for name in props.glue_job_names
    ]
    work.add_to_policy(iam.PolicyStatement(actions=["glue:StartJobRun"], resources=jobs))
    for role in followers:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
                resources=jobs,
            )
        )
    for role in followers:
        _acknowledge_operator_wildcards(role, jobs, "glue_job_names")


def _sfn(props: PodiumProps, work: iam.Role, followers: list[iam.Role]) -> None:
    machines = list(props.sfn_state_machine_arns)
    executions = [_executions_of(work, arn) for arn in machines]
    # DescribeStateMachine: an EXPRESS machine is refused before anything starts.
    work.add_to_policy(
        iam.PolicyStatement(
            actions=["states:StartExecution", "states:DescribeStateMachine"], resources=machines
        )
    )
    _acknowledge_operator_wildcards(work, machines, "sfn_state_machine_arns")
    for role in followers:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=executions,
            )
        )
        for execution in executions:
            _acknowledge(
                role,
                execution,
                _MADE_AT_RUN_TIME.format(
                    what="Execution names",
                    scope="state machines",
                    prop="sfn_state_machine_arns",
                ),
            )


def _executions_of(scope: Construct, state_machine_arn: str) -> str:
    """arn:...:stateMachine:NAME -> arn:...:execution:NAME:* (tokens too)."""
    parts = Arn.split(state_machine_arn, ArnFormat.COLON_RESOURCE_NAME)
    return Stack.of(scope).format_arn(
        service="states",
        resource="execution",
        resource_name=f"{parts.resource_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
        partition=parts.partition,
        region=parts.region,
        account=parts.account,
    )


# The six random characters Secrets Manager appends to a secret's name in its ARN.
_SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def _secrets(props: PodiumProps, work: iam.Role) -> None:
    stack = Stack.of(work)
    resources: list[str] = []
    for name in props.secret_names:
        if Token.is_unresolved(name):
            resources.append(name)  # a secret's own ARN (secret.secret_arn): complete
        elif name.startswith("arn:"):
            resources += _secret_arn_grants(name)
        else:
            resources.append(
                stack.format_arn(
                    service="secretsmanager",
                    resource="secret",
                    resource_name=f"{name}-??????",
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            )
    work.add_to_policy(
        iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=resources)
    )
    _acknowledge_operator_wildcards(work, resources, "secret_names")  # as granted


def _secret_arn_grants(arn: str) -> list[str]:
    """What to grant for a secret's ARN as the user wrote it. IAM matches the secret's
    full ARN, whose name ends in six random characters; Secrets Manager's API also takes
    the partial ARN without them, so users copy either. A partial ARN is granted with
    ``-??????`` appended (as a name is). One whose name already ends in ``-`` and six
    letters or digits may be either (``acme/api-secret``: a partial ARN of
    ``acme/api-secret``, or the full ARN of ``acme/api``), so both are granted: the one
    as written matches only the secret that got that random suffix, and the other
    reading at worst a secret named exactly as that ARN's name, in the same place. A
    wildcard (``secret:acme/*``) is granted as written: it matches the suffix itself."""
    name = arn.split(":secret:", 1)[1] if ":secret:" in arn else ""
    if not name or "*" in name or name.endswith("?"):
        return [arn]
    if _SECRET_SUFFIX.search(name):
        return [arn, f"{arn}-??????"]
    return [f"{arn}-??????"]


def acknowledge_describe_wildcards(functions: EngineFunctions, props: PodiumProps) -> None:
    """The '*' resources above, acknowledged once per role (nag reports each once)."""
    actions: list[str] = []
    if props.ecs_cluster_arns:
        actions += ["ecs:ListTasks", "ecs:DescribeTaskDefinition"]
    if props.batch_job_queue_arns:
        actions += ["batch:DescribeJobs", "batch:ListJobs"]
    if not actions:
        return
    for name in FOLLOWERS:
        _acknowledge(
            functions.roles[name],
            "*",
            _NO_RESOURCE_LEVEL.format(actions=", ".join(actions)),
        )


class StepTargetRules(Construct):
    """Rules on the account's default bus (where AWS services put their events) that
    send the ended state of Podium's external work to the events function. Each rule
    matches only the resources named in the props, and only ended states."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: PodiumProps,
        events_function: lambda_.IFunction,
        trigger_dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        to_events = targets.LambdaFunction(events_function, dead_letter_queue=trigger_dlq)
        self.rules: dict[str, events.Rule] = {}
        patterns = _patterns(props)
        for kind, pattern in patterns.items():
            self.rules[kind] = events.Rule(
                self,
                f"{kind.title().replace('_', '')}StateChange",
                description=f"Ended {kind} work of Podium steps",
                event_pattern=pattern,
                targets=[to_events],
            )


def _names_rule(names: Sequence[str]) -> list[Any]:
    """The rule of an event field for names or ARNs the props list: a name with ``*``
    (granted as such in IAM) as EventBridge's ``wildcard`` filter, the others as they
    are (a plain string in a pattern matches only itself)."""
    return [{"wildcard": n} if "*" in n else n for n in names]


def _patterns(props: PodiumProps) -> dict[str, events.EventPattern]:
    found: dict[str, events.EventPattern] = {}
    if props.ecs_cluster_arns:
        found["ecs_task"] = events.EventPattern(
            source=["aws.ecs"],
            detail_type=["ECS Task State Change"],
            detail={"clusterArn": _names_rule(props.ecs_cluster_arns), "lastStatus": ["STOPPED"]},
        )
    if props.batch_job_queue_arns:
        found["batch_job"] = events.EventPattern(
            source=["aws.batch"],
            detail_type=["Batch Job State Change"],
            detail={
                "jobQueue": _names_rule(props.batch_job_queue_arns),
                "status": ["SUCCEEDED", "FAILED"],
            },
        )
    if props.glue_job_names:
        found["glue_job"] = events.EventPattern(
            source=["aws.glue"],
            detail_type=["Glue Job State Change"],
            detail={
                "jobName": _names_rule(props.glue_job_names),
                "state": ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED", "ERROR"],
            },
        )
    if props.sfn_state_machine_arns:
        found["sfn_execution"] = events.EventPattern(
            source=["aws.states"],
            detail_type=["Step Functions Execution Status Change"],
            detail={
                "stateMachineArn": _names_rule(props.sfn_state_machine_arns),
                "status": ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
            },
        )
    return found


def http_hosts_setting(hosts: Sequence[str]) -> str:
    """The PODIUM_HTTP_HOSTS value: comma-separated (empty: no host is reachable)."""
    return ",".join(h.strip() for h in hosts if h.strip())
