"""``secret_names`` takes "names or ARNs"; an ARN as Secrets Manager's API takes it,
without the six random characters it appends to the name, was granted exactly as
written (step_targets.py ``_secrets``). IAM matches a grant against the secret's real
ARN (``...-AbC123``), so every http step whose auth read that secret failed with
AccessDenied. A name got ``-??????`` appended; a partial ARN now gets it too, and an ARN
whose name already ends in ``-`` and six letters or digits (a full ARN, or a partial one
of a name like ``api-secret``) is granted both ways.

One synthesis (no cdk-nag)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import cdk_context
from test_star_beside_another_regions_function import granted, iam_match

ACCOUNT, REGION = "123456789012", "eu-west-1"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
PARTIAL = SECRETS + "acme/warehouse-token"  # no suffix: a partial ARN
FULL = SECRETS + "acme/billing-Xy12Zq"  # the full ARN of acme/billing
AMBIGUOUS = SECRETS + "acme/api-secret"  # a partial ARN (or acme/api's full one)
WILDCARD = SECRETS + "acme/team/*"


@pytest.fixture(scope="module")
def grants(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("secret-arns")))
    stack = Stack(app, "SecretArns", env=Environment(account=ACCOUNT, region=REGION))
    Podium(
        stack,
        "Podium",
        http_hosts=["api.acme.example"],
        secret_names=[PARTIAL, FULL, AMBIGUOUS, WILDCARD, "acme/by-name"],
    )
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    return granted(template, "FunctionsWorkRole", "secretsmanager:GetSecretValue")


def test_a_secret_given_by_its_partial_arn_is_readable(grants: list[str]) -> None:
    real = PARTIAL + "-AbC123"
    assert any(iam_match(real, g) for g in grants), f"{grants} do not cover {real}"
    assert not any(iam_match(SECRETS + "acme/warehouse-tokens-AbC123", g) for g in grants)


def test_a_name_ending_like_a_suffix_is_readable_read_either_way(grants: list[str]) -> None:
    """acme/api-secret may be a partial ARN (the secret acme/api-secret) or a full one
    (the secret acme/api): both are covered."""
    for real in (AMBIGUOUS + "-AbC123", AMBIGUOUS):
        assert any(iam_match(real, g) for g in grants), f"{grants} do not cover {real}"


def test_full_arns_wildcards_and_names_are_granted_as_before(grants: list[str]) -> None:
    assert FULL in grants and WILDCARD in grants
    assert SECRETS + "acme/by-name-??????" in grants
    assert not any(iam_match(SECRETS + "acme/other-AbC123", g) for g in grants)
