"""``allowed_function_arns=["*", <ARN of another region>]``: ``*`` swallowed the list.

The docs say a full ARN of another region is invoked in that region, but with ``*``
beside it the construct granted only this region's ``function:*``
(permissions.py ``_grant_invoke``), set ``PODIUM_ALLOWED_FUNCTIONS`` to ``*`` alone
(``allowed_functions_setting``), read logs of this region's groups only
(``_grant_read_logs``), and the engine's allowlist collapsed ``*`` plus entries to
``("*",)`` (adapters/function_allowlist.py). A step calling the listed function failed
with Podium.FunctionNotAllowed telling the user to list it, where it already was.

One synthesis (no cdk-nag)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import as_list, cdk_context

from podium.adapters.function_allowlist import FunctionAllowlist

ACCOUNT, REGION, OTHER = "123456789012", "eu-west-1", "us-west-2"
REMOTE = f"arn:aws:lambda:{OTHER}:{ACCOUNT}:function:remote-scorer"
# A partial ARN of another account: "*" (this account's functions) does not cover it.
PARTNER = "999999999999:function:enrich"


def iam_match(resource: str, pattern: str) -> bool:
    """IAM's resource matching: ``*`` any run of characters, ``?`` one, nothing else
    special (fnmatch would also read ``[...]``)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, resource) is not None


def granted(template: dict[str, Any], role_fragment: str, action: str) -> list[str]:
    """The literal resources of ``action`` in the policies of the role whose logical id
    holds ``role_fragment``."""
    found: list[str] = []
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        roles = [r.get("Ref", "") for r in resource["Properties"]["Roles"]]
        if not any(role_fragment in r for r in roles):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            if action in as_list(statement["Action"]):
                found += [r for r in as_list(statement["Resource"]) if isinstance(r, str)]
    return found


def environment_of(template: dict[str, Any], handler: str) -> dict[str, Any]:
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        if resource["Properties"]["Handler"] == f"podium.handlers.{handler}.handler":
            variables: dict[str, Any] = resource["Properties"]["Environment"]["Variables"]
            return variables
    raise AssertionError(f"no {handler} function")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("star-beside")))
    stack = Stack(app, "StarBeside", env=Environment(account=ACCOUNT, region=REGION))
    Podium(stack, "Podium", allowed_function_arns=["*", REMOTE, PARTNER, "load"])
    synthesized: dict[str, Any] = Template.from_stack(stack).to_json()
    return synthesized


def test_a_listed_function_of_another_region_beside_star_is_allowed_and_granted(
    template: dict[str, Any],
) -> None:
    """The function of another region (and the partial ARN of another account) listed
    beside "*" was neither in PODIUM_ALLOWED_FUNCTIONS nor in the work role's grant."""
    invoke = granted(template, "FunctionsWorkRole", "lambda:InvokeFunction")
    setting = environment_of(template, "work")["PODIUM_ALLOWED_FUNCTIONS"]
    allowlist = FunctionAllowlist.parse(setting, region=REGION)
    assert allowlist is not None
    partner_arn = f"arn:aws:lambda:{REGION}:999999999999:function:enrich"
    for function in (REMOTE, partner_arn):
        assert function in allowlist, f"{function} refused by PODIUM_ALLOWED_FUNCTIONS={setting!r}"
        assert any(iam_match(function, p) for p in invoke), f"{function} not in {invoke}"
    # "*" still covers this region's functions, and only those of this account.
    assert f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:anything" in allowlist
    assert f"arn:aws:lambda:{OTHER}:{ACCOUNT}:function:anything" not in allowlist
    assert not any(
        iam_match(f"arn:aws:lambda:{OTHER}:{ACCOUNT}:function:anything", p) for p in invoke
    )


def test_a_listed_function_of_another_region_beside_star_has_its_logs_readable(
    template: dict[str, Any],
) -> None:
    """`podium runs logs` of a step that ran the other region's function reads
    /aws/lambda/remote-scorer in us-west-2; the api role's log grant was made for "*"
    alone (this region's groups), so the read was AccessDenied."""
    logs = granted(template, "FunctionsApiRole", "logs:FilterLogEvents")
    group = f"arn:aws:logs:{OTHER}:{ACCOUNT}:log-group:/aws/lambda/remote-scorer:*"
    assert any(iam_match(group, pattern) for pattern in logs), (
        f"the api role may read {logs}, not the listed function's group {group}"
    )


def test_the_allowlist_keeps_the_entries_beside_star() -> None:
    """FunctionAllowlist.parse("*,<ARN of another region>") kept only ("*",): the listed
    function was refused. Without a region known, "*" matches any function as before."""
    allowlist = FunctionAllowlist.parse(f"*,{REMOTE}", region=REGION)
    assert allowlist is not None
    assert REMOTE in allowlist
    assert "anything" in allowlist
    assert f"arn:aws:lambda:{OTHER}:{ACCOUNT}:function:other" not in allowlist
    assert FunctionAllowlist.parse(f"*,{REMOTE}") is None
