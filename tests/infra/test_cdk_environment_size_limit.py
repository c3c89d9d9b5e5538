"""Found by a review (the test failed before its fix): Lambda refuses a function whose
environment variables total more than 4 KB ("Lambda was unable to configure your
environment variables because the environment variables you have provided exceeded the
4KB limit"), and the construct puts the whole ``allowed_function_arns`` list into every
function's ``PODIUM_ALLOWED_FUNCTIONS`` (podium.py ``_environment``), next to a dozen
other settings. A deployment that listed a few dozen step functions by ARN synthesized
without a word and then failed in CloudFormation (all five functions), with nothing in
PodiumProps' checks or docs/deploy.md saying there is a limit. Now functions.py
``check_environment_size`` measures each function's whole environment (names and
values, deploy-time references estimated) and refuses it at synthesis with a
ValueError naming the limit, the size and the fix; docs/deploy.md states the limit.

One synthesis (no cdk-nag)."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import cdk_context

ACCOUNT, REGION = "123456789012", "eu-west-1"
LAMBDA_ENV_LIMIT = 4 * 1024
FUNCTIONS = [
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:sales-etl-step-{i:02d}" for i in range(80)
]


def _literal_size(value: Any) -> int:
    """A lower bound of a value's deployed length: its literal text only (a Ref or a
    GetAtt resolves to a name or an ARN, which only adds to it)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict) and list(value) == ["Fn::Join"]:
        separator, parts = value["Fn::Join"]
        return len(separator) * max(len(parts) - 1, 0) + sum(_literal_size(p) for p in parts)
    return 0


def test_an_environment_past_lambdas_4kb_is_refused_at_synthesis(tmp_path: Any) -> None:
    """Right behaviour: the construct refuses (ValueError naming the limit) a list of
    functions whose environment cannot fit in 4 KB, or keeps the list out of the
    environment; before the fix 80 ARNs synthesized an environment Lambda refuses to
    create."""
    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path))
    stack = Stack(app, "ManySteps", env=Environment(account=ACCOUNT, region=REGION))
    try:
        Podium(stack, "Podium", allowed_function_arns=FUNCTIONS, alarms=False, dashboard=False)
    except ValueError as exc:  # refused at synthesis: the message says why and what to do
        message = str(exc)
        assert "4 KB" in message and "PODIUM_ALLOWED_FUNCTIONS" in message, message
        assert "allowed_function_arns" in message and "wildcard" in message, message
        return
    template = Template.from_stack(stack).to_json()
    sizes = {}
    for logical_id, resource in template["Resources"].items():
        props = resource["Properties"] if resource["Type"] == "AWS::Lambda::Function" else {}
        if str(props.get("Handler", "")).startswith("podium.handlers."):
            variables = props["Environment"]["Variables"]
            sizes[logical_id] = sum(len(k) + _literal_size(v) for k, v in variables.items())
    assert len(sizes) == 5, sizes
    over = {k: v for k, v in sizes.items() if v > LAMBDA_ENV_LIMIT}
    assert not over, (
        f"environment variables of at least {min(over.values())} bytes (Lambda's limit:"
        f" {LAMBDA_ENV_LIMIT}); CloudFormation will fail to create {sorted(over)}"
    )
