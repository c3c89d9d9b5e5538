"""Found by a review (each test failed before its fix): wildcard names in the external step types' props.

The construct accepts wildcards in glue_job_names, sfn_state_machine_arns and
batch_job_queue_arns (step_targets.py acknowledges them for cdk-nag through
``_acknowledge_operator_wildcards`` and grants IAM on them, where ``*`` matches), but
copies the same strings into the state-change rules' event patterns, where a plain
string is an exact match. So the rule never matches the jobs IAM lets the steps run:
their ended states never reach the events function and every such step waits for the
poll safety net (or its timeout) instead of completing on the event.

One synthesis for the module (no cdk-nag: the patterns are what is checked)."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import cdk_context

ACCOUNT, REGION = "123456789012", "eu-west-1"
GLUE_JOBS = "etl-*"
STATE_MACHINES = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:scoring-*"
JOB_QUEUES = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/features-*"
JOB_DEFINITIONS = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-definition/features:*"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("wildcards")))
    stack = Stack(app, "Wildcards", env=Environment(account=ACCOUNT, region=REGION))
    Podium(
        stack,
        "Podium",
        glue_job_names=[GLUE_JOBS],
        sfn_state_machine_arns=[STATE_MACHINES],
        batch_job_queue_arns=[JOB_QUEUES],
        batch_job_definition_arns=[JOB_DEFINITIONS],
    )
    return Template.from_stack(stack).to_json()


def _rule_detail(template: dict[str, Any], source: str) -> dict[str, Any]:
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        pattern = resource["Properties"].get("EventPattern") or {}
        if pattern.get("source") == [source]:
            return dict(pattern["detail"])
    raise AssertionError(f"no rule for {source}")


def _matches(filters: list[Any], value: str) -> bool:
    """EventBridge matching of one string against a pattern's list of filters."""
    for f in filters:
        if isinstance(f, str) and f == value:
            return True
        if isinstance(f, dict):
            if "wildcard" in f and fnmatchcase(value, f["wildcard"]):
                return True
            if "prefix" in f and isinstance(f["prefix"], str) and value.startswith(f["prefix"]):
                return True
    return False


def test_iam_grants_the_wildcard_glue_jobs(template: dict[str, Any]) -> None:
    """Control (passes): IAM does cover a job the wildcard names, so steps of
    'etl-nightly' start. The rule below is what misses them."""
    text = json.dumps(template)
    assert f"job/{GLUE_JOBS}" in text


def test_glue_rule_matches_jobs_named_by_a_wildcard(template: dict[str, Any]) -> None:
    """step_targets.py ``_patterns``: ``detail.jobName`` is ``list(props.glue_job_names)``,
    so 'etl-*' only matches a job literally named 'etl-*'; IAM (``job/etl-*``) lets
    'etl-nightly' start. Right behaviour: an entry with ``*``/``?`` becomes an
    EventBridge ``{"wildcard": "etl-*"}`` filter (or the prop refuses wildcards)."""
    detail = _rule_detail(template, "aws.glue")
    assert _matches(detail["jobName"], "etl-nightly"), detail["jobName"]


def test_step_functions_rule_matches_state_machines_named_by_a_wildcard(
    template: dict[str, Any],
) -> None:
    """Same cause for ``detail.stateMachineArn`` (step_targets.py ``_patterns``):
    StartExecution is granted on ``stateMachine:scoring-*`` but the rule matches only
    that literal ARN. Right behaviour: ``{"wildcard": ...}`` for wildcard entries."""
    detail = _rule_detail(template, "aws.states")
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:scoring-daily"
    assert _matches(detail["stateMachineArn"], machine), detail["stateMachineArn"]


def test_batch_rule_matches_job_queues_named_by_a_wildcard(template: dict[str, Any]) -> None:
    """Same cause for ``detail.jobQueue`` (step_targets.py ``_patterns``): SubmitJob is
    granted on ``job-queue/features-*`` but the rule matches only that literal ARN.
    Right behaviour: ``{"wildcard": ...}`` for wildcard entries."""
    detail = _rule_detail(template, "aws.batch")
    queue = f"arn:aws:batch:{REGION}:{ACCOUNT}:job-queue/features-gpu"
    assert _matches(detail["jobQueue"], queue), detail["jobQueue"]
