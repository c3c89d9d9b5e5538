"""cdk-nag's AwsSolutions pack finds nothing unacknowledged, and every
acknowledgment carries its reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match
from infra_support import Synth, synthesize

AWS_SOLUTIONS = Match.string_like_regexp("AwsSolutions-.*")


def describe(violations: list[dict[str, object]]) -> str:
    return json.dumps(violations, indent=1)[:4000]


def assert_nag_clean(synth: Synth) -> None:
    assert synth.nag_violations == [], describe(synth.nag_violations)
    annotations = Annotations.from_stack(synth.stack)
    assert annotations.find_error("*", AWS_SOLUTIONS) == []
    assert annotations.find_warning("*", AWS_SOLUTIONS) == []


def test_default_stack_has_no_unacknowledged_findings(default: Synth) -> None:
    assert_nag_clean(default)


def test_custom_stack_has_no_unacknowledged_findings(custom: Synth) -> None:
    # Operator-supplied wildcard ARNs (allowed functions, ECS task definitions) are
    # acknowledged by the construct itself.
    assert_nag_clean(custom)


def acknowledgments(synth: Synth) -> dict[str, str]:
    """'construct path -> rule' to reason, for every acknowledgment in the stack."""
    found = {}
    for node in synth.stack.node.find_all():
        for entry in node.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                for rule, reason in entry.data.items():
                    found[f"{node.node.path} {rule.removeprefix('Annotation::')}"] = reason
    return found


def test_every_acknowledgment_is_expected_and_explained(default: Synth) -> None:
    acks = acknowledgments(default)
    assert all(len(reason) > 40 for reason in acks.values()), acks
    handlers = ("Api", "Advance", "Work", "Sweep", "Events")
    expected = {"Podium/Podium/Payloads/Bucket AwsSolutions-S1"}
    expected |= {f"Podium/Podium/Functions/{h} AwsSolutions-L1" for h in handlers}
    expected |= {
        f"Podium/Podium/Functions/{h}Role AwsSolutions-IAM5[Resource::*]" for h in handlers
    }
    bucket = next(k for k in acks if "PodiumPayloadsBucket" in k).split("Resource::")[1]
    expected |= {
        f"Podium/Podium/Functions/{h}Role AwsSolutions-IAM5[Resource::{bucket}" for h in handlers
    }
    schedules = "arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/podium/*"
    expected |= {
        f"Podium/Podium/Functions/{h}Role AwsSolutions-IAM5[Resource::{schedules}]"
        for h in handlers
    }
    # The console's static files are served without an authorizer (APIG4), and only them.
    from podium_cdk.api import PUBLIC_ROUTES

    expected |= {
        f"Podium/Podium/Api/HttpApi/{m.value}{p.replace('/', '--')} AwsSolutions-APIG4"
        for m, p in PUBLIC_ROUTES
    }
    assert set(acks) == expected


def test_the_checks_do_catch_a_finding(tmp_path: Path) -> None:
    """A control: an insecure queue must fail synthesis, so a clean result above means
    the checks ran."""

    def build(app: App) -> Stack:
        stack = Stack(app, "Control")
        sqs.Queue(stack, "Insecure")
        return stack

    synth = synthesize(tmp_path / "cdk.out", build)
    rules = {v["ruleName"] for v in synth.nag_violations}
    assert {"AwsSolutions-SQS3", "AwsSolutions-SQS4"} <= rules


def test_acknowledge_requires_a_reason() -> None:
    from podium_cdk import nag

    with pytest.raises(ValueError, match="reason"):
        nag.acknowledge(Stack(App(), "S"), "AwsSolutions-S1", "  ")
