"""allowed_function_arns is matched as IAM matches the grant made from it: an exact
string comparison refused a step naming `extract` when the list held its ARN, and every
wildcard entry (`etl-*`) the deploy guide shows."""

from __future__ import annotations

import logging

import pytest

from podium.adapters.function_allowlist import FunctionAllowlist
from podium.core.ports import FunctionRunner

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:"
ALLOWED = FunctionAllowlist.parse(
    f"{ARN}extract,{ARN}etl-*,load-warehouse,{ARN}scored:*,123456789012:function:tidy"
)


@pytest.mark.parametrize(
    "function",
    [
        "extract",
        f"{ARN}extract",
        "etl-daily",
        f"{ARN}etl-daily",
        "load-warehouse",
        f"{ARN}load-warehouse",
        "scored:prod",
        f"{ARN}scored:7",
        "tidy",
        "arn:aws:lambda:eu-west-1:123456789012:function:tidy",
    ],
)
def test_allowed(function: str) -> None:
    assert ALLOWED is not None and function in ALLOWED


@pytest.mark.parametrize(
    "function",
    [
        "extract2",
        "extract:prod",  # an unqualified entry does not allow the function's aliases
        "scored",  # ...and a qualified one not the function itself
        "load",
        "arn:aws:lambda:us-east-1:123456789012:function:extract",  # another region
        "xetl-daily",
    ],
)
def test_refused(function: str) -> None:
    assert ALLOWED is not None and function not in ALLOWED


def test_star_allows_any_and_empty_allows_none() -> None:
    assert FunctionAllowlist.parse("*") is None
    assert FunctionAllowlist.parse(f"{ARN}a, *") is None
    nothing = FunctionAllowlist.parse("")
    assert nothing is not None and "anything" not in nothing


def deployed_runner(env: dict[str, str]) -> FunctionRunner:
    """The runner bootstrap wires from a deployed function's environment ``env``."""
    from podium import bootstrap

    podium_logger = logging.getLogger("podium")  # the wiring reconfigures it: put it back
    saved = (list(podium_logger.handlers), podium_logger.propagate, podium_logger.level)
    try:
        return bootstrap.from_environment(env).runner
    finally:
        podium_logger.handlers, podium_logger.propagate = saved[0], saved[1]
        podium_logger.setLevel(saved[2])


class RecordingLambda:
    """A Lambda client that records the function each invoke names, then stops."""

    def __init__(self) -> None:
        self.invoked: list[str] = []

    def invoke(self, **kwargs: object) -> dict[str, object]:
        self.invoked.append(str(kwargs["FunctionName"]))
        raise RuntimeError("stop here")  # what the call returns does not matter


def test_the_deployed_runner_lets_a_wildcard_and_a_name_through() -> None:
    """Wired by bootstrap from PODIUM_ALLOWED_FUNCTIONS, as the construct sets it."""
    from podium.core.ports import Invocation

    env = {
        "PODIUM_TABLE_NAME": "t",
        "PODIUM_WORK_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/work",
        "PODIUM_EVENT_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/events",
        "AWS_REGION": "eu-west-1",
        "PODIUM_ALLOWED_FUNCTIONS": f"{ARN}etl-*,{ARN}extract",
    }
    runner = deployed_runner(env)
    lambda_client = RecordingLambda()
    runner._clients.home = lambda_client  # type: ignore[attr-defined]  # the deployment's client
    for name in ("etl-daily", "extract", "load"):
        result = runner.invoke(Invocation(name, {}, f"r/{name}/1"))
        if name == "load":
            assert result.error_type == "Podium.FunctionNotAllowed"
    assert lambda_client.invoked == ["etl-daily", "extract"]
