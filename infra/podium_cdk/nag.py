"""cdk-nag (v3) glue: the one place that applies the checks and records suppressions.

cdk-nag v3 uses CDK's native ``Validations`` API: the checks run as a policy-validation
plugin during synthesis and fail it on any finding that is not acknowledged. A finding
on a construct is acknowledged on that construct or any of its parents. Rules that
report several findings per resource (IAM5) are acknowledged one finding at a time, as
``AwsSolutions-IAM5[Resource::<the resource>]``.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Suppress one AwsSolutions finding on ``scope`` (and its children), with a reason
    a reviewer can check."""
    if not reason.strip():
        raise ValueError(f"suppression of {rule} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


def wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge the IAM5 finding of one wildcard resource ARN."""
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{resource}]", reason)


def apply_aws_solutions_checks(scope: IConstruct) -> None:
    """Run the AwsSolutions pack on every stack under ``scope`` at synth time."""
    Validations.of(scope).add_plugins(AwsSolutionsChecks(scope))
