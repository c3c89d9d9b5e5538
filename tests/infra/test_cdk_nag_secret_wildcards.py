"""Found by a review (each test failed before its fix): cdk-nag findings left unacknowledged for a wildcard secret name.

docs/deploy.md: "Any finding that is not acknowledged stops the synthesis", and each
wildcard the operator lists in the props is acknowledged with its reason. secret_names
accepts names (step_targets.py ``_secrets`` turns ``acme/*`` into
``arn:...:secret:acme/*-??????``), but the acknowledgment is made for the raw prop
value (``_acknowledge_operator_wildcards(work, list(props.secret_names), ...)``), i.e.
for ``acme/*``, which is not the resource cdk-nag reports. The finding
``AwsSolutions-IAM5[Resource::arn:aws:secretsmanager:...:secret:acme/*-??????]`` stays
and ``cdk synth`` of such an app fails.

One synthesis (with the AwsSolutions checks) for the module."""

from __future__ import annotations

import pytest
from aws_cdk import App, Environment, Stack
from infra_support import Synth, synthesize

ENV = {"account": "123456789012", "region": "eu-west-1"}


def _build(app: App) -> Stack:
    from podium_cdk import Podium

    stack = Stack(app, "Secrets", env=Environment(**ENV))
    Podium(stack, "Podium", http_hosts=["api.acme.example"], secret_names=["acme/*"])
    return stack


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesize(tmp_path_factory.mktemp("secrets") / "cdk.out", _build)


def test_wildcard_secret_name_is_acknowledged_for_cdk_nag(synth: Synth) -> None:
    """Right behaviour: step_targets.py ``_secrets`` acknowledges the resources it
    granted (``resources``, the formatted ARNs with ``-??????``), not the raw names, so
    a wildcard secret name synthesizes cleanly like every other operator wildcard."""
    findings = [(v.get("ruleName"), v.get("description", "")[:80]) for v in synth.nag_violations]
    assert not synth.nag_violations, findings
