"""The engine's function allowlist (functions/podium/adapters/function_allowlist.py)
and the work role's ``lambda:InvokeFunction`` grant are made from the same
``allowed_function_arns``, but disagreed on regions: the allowlist let a step name any
region's function for an entry without a region (a name, a partial ARN, ``*``), which
the grant covers in the stack's region only, so such a step failed with Lambda's
AccessDenied instead of ``Podium.FunctionNotAllowed``. Here both are read from one
synthesized template: a step the allowlist (as the deployed function parses its
``PODIUM_ALLOWED_FUNCTIONS``) lets through is one the grant covers, and the reverse.

One synthesis per list (no cdk-nag)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import as_list, cdk_context

from podium.adapters.function_allowlist import FunctionAllowlist

ACCOUNT, REGION, OTHER = "123456789012", "eu-west-1", "us-east-1"


def arn(region: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


LISTS = {
    "names": ["extract", "etl-*", f"{ACCOUNT}:function:tidy", arn(OTHER, "far")],
    "star": ["*"],
}
STEPS = [
    "extract",
    arn(REGION, "extract"),
    arn(OTHER, "extract"),
    "etl-daily",
    arn(OTHER, "etl-daily"),
    "tidy",
    arn(OTHER, "tidy"),
    "far",
    arn(OTHER, "far"),
    "unlisted",
]


def _invoked_arn(function: str) -> str:
    """The function the runner invokes: a name (or partial ARN) in the deployment's own
    region, where the work function runs."""
    if function.startswith("arn:"):
        return function
    name = function.split(":function:", 1)[-1]
    account = function.split(":", 1)[0] if ":function:" in function else ACCOUNT
    return f"arn:aws:lambda:{REGION}:{account}:function:{name}"


@pytest.fixture(scope="module", params=sorted(LISTS))
def deployed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, list[str]]:
    """(PODIUM_ALLOWED_FUNCTIONS, the work role's invoke resources) of one list."""
    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp(request.param)))
    stack = Stack(app, "Grants", env=Environment(account=ACCOUNT, region=REGION))
    Podium(stack, "Podium", allowed_function_arns=LISTS[request.param])
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    resources: list[str] = []
    setting = None
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                if "lambda:InvokeFunction" in as_list(statement["Action"]):
                    resources += as_list(statement["Resource"])
        if resource["Type"] == "AWS::Lambda::Function":
            setting = resource["Properties"]["Environment"]["Variables"]["PODIUM_ALLOWED_FUNCTIONS"]
    assert setting is not None and resources
    return setting, resources


@pytest.mark.parametrize("step", STEPS)
def test_the_allowlist_lets_through_what_the_grant_covers(
    deployed: tuple[str, list[str]], step: str
) -> None:
    setting, resources = deployed
    allowlist = FunctionAllowlist.parse(setting, region=REGION)
    allowed = allowlist is None or step in allowlist
    granted = any(fnmatchcase(_invoked_arn(step), pattern) for pattern in resources)
    assert allowed == granted, (
        f"step function {step!r}: the allowlist {'allows' if allowed else 'refuses'} it,"
        f" the grant ({resources}) {'covers' if granted else 'does not cover'} it"
    )
