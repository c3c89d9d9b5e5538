"""The function allowlist treated an entry without a region (a name, a partial ARN,
``*``) as any region's function, while the construct grants ``lambda:InvokeFunction``
on it in the stack's region only (infra/podium_cdk/permissions.py ``_function_arn``): a
step naming another region's function got through the engine and failed with Lambda's
``AccessDeniedException`` instead of ``Podium.FunctionNotAllowed``. A step's function
without a region was likewise matched against an entry of another region, though it is
invoked in the deployment's own."""

from __future__ import annotations

import pytest

from podium.adapters.function_allowlist import FunctionAllowlist
from podium.adapters.runners import LambdaFunctionRunner
from podium.core.ports import Invocation
from tests.unit.test_function_allowlist import RecordingLambda, deployed_runner

HOME, OTHER, ACCOUNT = "eu-west-1", "us-east-1", "123456789012"


def arn(region: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


@pytest.mark.parametrize(
    ("setting", "function", "allowed"),
    [
        ("extract", "extract", True),
        ("extract", arn(HOME, "extract"), True),
        ("extract", arn(OTHER, "extract"), False),  # granted in the home region only
        (f"{ACCOUNT}:function:extract", arn(OTHER, "extract"), False),
        (f"{ACCOUNT}:function:extract", arn(HOME, "extract"), True),
        ("*", arn(OTHER, "anything"), False),  # `*`: this region's functions
        ("*", arn(HOME, "anything"), True),
        ("*", "anything", True),
        (arn(OTHER, "extract"), "extract", False),  # a name is invoked in the home region
        (arn(OTHER, "extract"), arn(OTHER, "extract"), True),
        (arn(HOME, "etl-*"), "etl-daily", True),
        (arn(HOME, "extract"), arn(HOME, "extract", "999999999999"), False),  # other account
    ],
)
def test_the_allowlist_covers_what_the_grant_covers(
    setting: str, function: str, allowed: bool
) -> None:
    allowlist = FunctionAllowlist.parse(setting, region=HOME)
    assert allowlist is not None
    assert (function in allowlist) is allowed


def test_the_deployed_runner_refuses_another_regions_function_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a deployed function (Lambda sets AWS_REGION), `allowed_function_arns=["extract"]`
    and a step naming us-east-1's `extract`: the runner called Lambda there, which
    refused (AccessDenied: the grant is eu-west-1's). The engine now refuses the step
    itself, with the error that says to list the function."""
    monkeypatch.setenv("AWS_REGION", HOME)
    env = {
        "PODIUM_TABLE_NAME": "t",
        "PODIUM_WORK_QUEUE_URL": f"https://sqs.{HOME}.amazonaws.com/1/work",
        "PODIUM_EVENT_QUEUE_URL": f"https://sqs.{HOME}.amazonaws.com/1/events",
        "AWS_REGION": HOME,
        "PODIUM_ALLOWED_FUNCTIONS": "extract",
    }
    runner = deployed_runner(env)
    lambda_client = RecordingLambda()
    assert isinstance(runner, LambdaFunctionRunner)
    runner._clients.home = lambda_client  # type: ignore[attr-defined]
    runner._clients.for_function = lambda _: lambda_client  # type: ignore[method-assign]
    refused = runner.invoke(Invocation(arn(OTHER, "extract"), {}, "r/s/1"))
    assert refused.error_type == "Podium.FunctionNotAllowed", refused
    assert lambda_client.invoked == []
    runner.invoke(Invocation("extract", {}, "r/s/2"))
    assert lambda_client.invoked == ["extract"]


def test_star_with_no_region_known_allows_any(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside a deployment (no AWS_REGION), `*` is still "any function", and a name
    matches an entry of any region."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert FunctionAllowlist.parse("*") is None
    allowlist = FunctionAllowlist.parse(arn(OTHER, "extract"))
    assert allowlist is not None and "extract" in allowlist
