"""Found by a review (each test failed before its fix): allowed_function_arns entries in the partial-ARN form.

adapters/function_allowlist.py (which reads the same list from PODIUM_ALLOWED_FUNCTIONS)
documents an entry as "an ARN, a partial ARN (``123456789012:function:name``) or a
name ... matched the way IAM matches the grant made from the same list, so a step the
engine lets through is one IAM allows". permissions.py ``_function_arn`` only knows full
ARNs (``arn:``) and bare names: a partial ARN is treated as a *name* and formatted into
``arn:aws:lambda:<region>:<account>:function:123456789012:function:extract``, an ARN no
function has. The engine lets the step through, IAM refuses every invoke.

One synthesis for the module (no cdk-nag)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import as_list, cdk_context

ACCOUNT, REGION = "123456789012", "eu-west-1"
PARTIAL = f"{ACCOUNT}:function:extract"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any] | None:
    """The synthesized template, or None when the props refuse the partial ARN with a
    ValueError (an acceptable fix too)."""
    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("partial")))
    stack = Stack(app, "Partial", env=Environment(account=ACCOUNT, region=REGION))
    try:
        Podium(stack, "Podium", allowed_function_arns=[PARTIAL])
    except ValueError:
        return None
    return Template.from_stack(stack).to_json()


def test_partial_function_arn_is_granted_as_the_functions_arn(
    template: dict[str, Any] | None,
) -> None:
    """Right behaviour: the work role's lambda:InvokeFunction names
    ``arn:aws:lambda:eu-west-1:123456789012:function:extract`` for the entry
    ``123456789012:function:extract`` (permissions.py ``_function_arn`` should expand a
    partial ARN), or PodiumProps refuses the form with a ValueError. Today the grant
    is on ``...:function:123456789012:function:extract``."""
    if template is None:
        return  # refused at synthesis: fine
    resources: list[Any] = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "lambda:InvokeFunction" in as_list(statement["Action"]):
                resources += as_list(statement["Resource"])
    assert resources, "no lambda:InvokeFunction grant at all"
    expected = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:extract"
    assert expected in resources, resources


def test_a_function_of_another_region_has_its_logs_granted_there(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The api role read the log groups of the allowed functions in the stack's region
    only: a function of another region (invoked there since session 22) logs there, and
    `podium runs logs` of its step was refused. Its group is granted in its region."""
    from podium_cdk import Podium

    far = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:far"
    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("far")))
    stack = Stack(app, "Far", env=Environment(account=ACCOUNT, region=REGION))
    Podium(stack, "Podium", allowed_function_arns=[far, "near"])
    resources: list[Any] = []
    for resource in Template.from_stack(stack).to_json()["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if "logs:FilterLogEvents" in as_list(statement["Action"]):
                resources += as_list(statement["Resource"])
    assert f"arn:aws:logs:us-west-2:{ACCOUNT}:log-group:/aws/lambda/far:*" in resources
    assert f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/near:*" in resources
