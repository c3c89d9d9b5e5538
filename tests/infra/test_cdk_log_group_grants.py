"""Found by a review (each test failed before its fix): the api role's CloudWatch Logs
grant for ``GET /runs/{run_id}/logs`` (permissions.py ``_grant_read_logs``) against the
entries ``allowed_function_arns`` takes.

- An entry that was a token (``fn.function_arn`` of a function in the user's own CDK app,
  the form docs/deploy.md says "needs no acknowledgment unless it contains a ``*``") was
  turned into the name ``*`` by ``_function_name``: the api role could read every Lambda
  log group of the account and region (``/aws/lambda/*:*``), and the grant was
  acknowledged for cdk-nag as "limited to the log groups of the functions listed". Now
  the name, region and account are taken out of the token ARN with ``Arn.split``
  (Fn::Select/Fn::Split, as ``_tasks_of_cluster`` does), and the grant is on that
  function's own group.
- A bare name with a qualifier (``load:prod``, a form Lambda's Invoke takes and
  adapters/function_allowlist.py documents: "a name ... with an optional qualifier
  (``name:prod``)") was granted the log group ``/aws/lambda/load:prod``, which no function
  has: Lambda writes an alias's invocations to ``/aws/lambda/load``. Now every form drops
  the qualifier (the engine's ``log_group_of`` too:
  tests/unit/test_log_group_of_a_qualified_function.py).

One synthesis for the module (no cdk-nag)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import as_list, cdk_context

ACCOUNT, REGION = "123456789012", "eu-west-1"
LOG_GROUPS = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """(template, logical id of the user's own function)."""
    from aws_cdk import aws_lambda as lambda_

    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("loggrants")))
    stack = Stack(app, "UserApp", env=Environment(account=ACCOUNT, region=REGION))
    extract = lambda_.Function(
        stack,
        "Extract",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    Podium(
        stack,
        "Podium",
        allowed_function_arns=[extract.function_arn, "load:prod"],
        alarms=False,
        dashboard=False,
    )
    template = Template.from_stack(stack).to_json()
    (function_id,) = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and k.startswith("Extract")
    ]
    return template, function_id


def _api_log_resources(template: dict[str, Any]) -> list[Any]:
    """Every resource of a logs:FilterLogEvents grant in the api role's policies."""
    resources: list[Any] = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy" or "FunctionsApiRole" not in logical_id:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "logs:FilterLogEvents" in as_list(statement["Action"]):
                resources += as_list(statement["Resource"])
    assert resources, "the api role has no logs:FilterLogEvents grant at all"
    return resources


def test_a_function_given_by_its_token_arn_opens_only_its_own_log_group(
    synthesized: tuple[dict[str, Any], str],
) -> None:
    """Right behaviour: the api role may read the log group of the function the token
    names (``/aws/lambda/`` + the name taken from the ARN, e.g. with Fn::Select/Fn::Split,
    as ``_tasks_of_cluster`` does for cluster ARNs), not every function's. Before the
    fix ``_function_name`` answered ``*`` for any token, granting ``/aws/lambda/*:*``."""
    template, function_id = synthesized
    resources = _api_log_resources(template)
    every_function = f"{LOG_GROUPS}/aws/lambda/*:*"
    assert every_function not in resources, (
        f"a token ARN in allowed_function_arns lets the api role read every Lambda log"
        f" group of the account and region: {resources}"
    )
    assert any(function_id in json.dumps(r) for r in resources), (
        f"no log-group grant derived from the function {function_id}: {resources}"
    )


def test_a_name_with_a_qualifier_opens_the_functions_log_group(
    synthesized: tuple[dict[str, Any], str],
) -> None:
    """Right behaviour: ``load:prod`` (function ``load``, alias ``prod``) logs to
    ``/aws/lambda/load``, so that group is granted; before the fix the grant named
    ``/aws/lambda/load:prod``, a group that does not exist, and ``podium runs logs``
    of such a step was refused."""
    template, _ = synthesized
    resources = _api_log_resources(template)
    assert f"{LOG_GROUPS}/aws/lambda/load:*" in resources, resources
    assert f"{LOG_GROUPS}/aws/lambda/load:prod:*" not in resources, resources
