"""Helpers for the CDK tests: synthesize an app and look things up in its template.

Lambda bundling is skipped (context ``podium:skipBundling``) so synthesis needs no
network; ``test_lambda_bundle.py`` covers the real bundle.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# jsii prints a banner on every start under Node 20 (end of life); it is noise here.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "infra"))

pytest.importorskip("aws_cdk", reason="the infra extra is not installed")
pytest.importorskip("cdk_nag", reason="the infra extra is not installed")

from aws_cdk import App, Stack  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402


def cdk_context(**extra: Any) -> dict[str, Any]:
    """cdk.json's feature flags, so test templates match what `cdk synth` makes."""
    context = dict(json.loads((REPO_ROOT / "cdk.json").read_text())["context"])
    context["podium:skipBundling"] = "true"
    context.update(extra)
    return context


@dataclass
class Synth:
    """One synthesized app: its stack, its template and the cdk-nag outcome."""

    app: App
    stack: Stack
    template: Template
    outdir: Path
    # Violations from the validation report; empty when cdk-nag passed.
    nag_violations: list[dict[str, Any]]

    def resources(self, type_name: str) -> dict[str, dict[str, Any]]:
        return self.template.find_resources(type_name)


def synthesize(outdir: Path, build: Callable[[App], Stack], *, nag: bool = True) -> Synth:
    """Synthesize with the AwsSolutions checks. When they fail, keep the report and
    synthesize again without them, so the template tests still run and only the nag
    tests fail (with the findings in their message)."""
    from podium_cdk import apply_aws_solutions_checks

    app = App(context=cdk_context(), outdir=str(outdir))
    stack = build(app)
    if nag:
        apply_aws_solutions_checks(app)
    try:
        app.synth()
    except RuntimeError as exc:
        if not nag or "ValidationFailed" not in str(exc):
            raise
        report = json.loads((outdir / "validation-report.json").read_text())
        retry = synthesize(outdir.with_name(outdir.name + "-without-nag"), build, nag=False)
        retry.nag_violations = [v for r in report["pluginReports"] for v in r["violations"]]
        return retry
    # Read the file rather than Template.from_stack, which would synthesize again.
    template_file = outdir / f"{stack.artifact_id}.template.json"
    template = Template.from_json(json.loads(template_file.read_text()))
    return Synth(app, stack, template, outdir, [])


def build_default(app: App) -> Stack:
    from podium_cdk import PodiumStack

    return PodiumStack(app, "Podium")


def functions_by_handler(synth: Synth) -> dict[str, dict[str, Any]]:
    """Engine function resources keyed by handler short name (api, work, ...), each
    with its logical id under "id"."""
    found = {}
    for logical_id, resource in synth.resources("AWS::Lambda::Function").items():
        handler = resource["Properties"]["Handler"]
        if handler.startswith("podium.handlers."):
            found[handler.split(".")[2]] = {"id": logical_id, **resource}
    return found


def logical_id_of(synth: Synth, type_name: str, fragment: str) -> str:
    """The logical id of the one resource of ``type_name`` whose id contains
    ``fragment`` (CDK ids follow construct paths: 'PodiumQueuesWorkQueue8087ABB6')."""
    matches = [lid for lid in synth.resources(type_name) if fragment in lid]
    assert len(matches) == 1, f"{type_name} matching {fragment!r}: {matches}"
    return matches[0]


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def arn_of(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def policy_statements(synth: Synth, role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the identity policies attached to a role (inline ones too)."""
    statements: list[dict[str, Any]] = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if ref(role_logical_id) in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    role = synth.resources("AWS::IAM::Role")[role_logical_id]["Properties"]
    for inline in role.get("Policies", []):
        statements += inline["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# A user's own stack that embeds Podium with most props changed.
USER_ENV = {"account": "123456789012", "region": "eu-west-1"}
USER_FUNCTIONS = (
    "arn:aws:lambda:eu-west-1:123456789012:function:extract",
    "arn:aws:lambda:eu-west-1:123456789012:function:etl-*",
    "load-warehouse",  # a bare name: this stack's account and region
)
USER_CLUSTER = "arn:aws:ecs:eu-west-1:123456789012:cluster/etl"
USER_TASK_DEFINITION = "arn:aws:ecs:eu-west-1:123456789012:task-definition/etl-job:*"
USER_TASK_ROLE = "arn:aws:iam::123456789012:role/etl-task"
USER_JOB_QUEUE = "arn:aws:batch:eu-west-1:123456789012:job-queue/features"
USER_JOB_DEFINITION = "arn:aws:batch:eu-west-1:123456789012:job-definition/features:*"
USER_GLUE_JOB = "nightly-etl"
USER_STATE_MACHINE = "arn:aws:states:eu-west-1:123456789012:stateMachine:scoring"
USER_HTTP_HOSTS = ("api.acme.example", "*.internal.acme.example")
USER_SECRET = "acme/warehouse-token"


def build_custom(app: App) -> Stack:
    from aws_cdk import Duration, Environment, RemovalPolicy
    from aws_cdk import aws_events as events
    from aws_cdk import aws_s3 as s3

    from podium_cdk import Podium
    from podium_cdk.nag import acknowledge

    stack = Stack(app, "UserStack", env=Environment(**USER_ENV))
    access_logs = s3.Bucket(
        stack,
        "AccessLogs",
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
    )
    acknowledge(access_logs, "AwsSolutions-S1", "This bucket receives the access logs.")
    podium = Podium(
        stack,
        "Orchestrator",
        name_prefix="acme",
        architecture="x86_64",
        memory_mb={"work": 1024},
        reserved_concurrency={"advance": 5},
        queue_max_concurrency={"work": 20, "advance": 5},
        work_timeout=Duration.minutes(5),
        allowed_function_arns=USER_FUNCTIONS,
        ecs_cluster_arns=[USER_CLUSTER],
        ecs_task_definition_arns=[USER_TASK_DEFINITION],
        ecs_pass_role_arns=[USER_TASK_ROLE],
        batch_job_queue_arns=[USER_JOB_QUEUE],
        batch_job_definition_arns=[USER_JOB_DEFINITION],
        glue_job_names=[USER_GLUE_JOB],
        sfn_state_machine_arns=[USER_STATE_MACHINE],
        http_hosts=USER_HTTP_HOSTS,
        secret_names=[USER_SECRET],
        trigger_bucket_names=["acme-landing"],
        trigger_event_patterns=[
            events.EventPattern(source=["acme.billing"], detail_type=["InvoicePaid"])
        ],
        trigger_event_buses=["acme-orders"],
        alarm_email="ops@example.com",
        removal_policy=RemovalPolicy.DESTROY,
        run_retention_days=30,
        dashboard=False,
        tracing=False,
        log_level="DEBUG",
        access_logs_bucket=access_logs,
    )
    podium.add_outputs()
    # The team's own roles: on-call people act on runs, auditors read (no push rights).
    from aws_cdk import aws_iam as iam

    for name, grant in (("OnCall", podium.grant_operate), ("Auditors", podium.grant_read)):
        role = iam.Role(stack, name, assumed_by=iam.AccountRootPrincipal())
        grant(role)
    return stack
