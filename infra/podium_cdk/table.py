"""The single DynamoDB table that holds workflows, runs, steps and leases."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from . import nag

# Key schema shared with the engine's DynamoDB store (functions/podium/adapters).
PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
# A workflow's runs, newest first.
RUNS_BY_WORKFLOW_INDEX = "gsi1"
# Active runs only (a sparse index the sweeper queries).
ACTIVE_RUNS_INDEX = "gsi2"
INDEX_NAMES = (RUNS_BY_WORKFLOW_INDEX, ACTIVE_RUNS_INDEX)


class StateTable(Construct):
    """On-demand table with TTL, encryption and point-in-time recovery.

    Attributes: ``table``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        point_in_time_recovery: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=string),
            # On-demand: an idle deployment pays nothing for capacity.
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # The AWS managed key has no monthly fee and its use shows in CloudTrail.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=point_in_time_recovery
            ),
            time_to_live_attribute=TTL_ATTRIBUTE,
            removal_policy=removal_policy,
            # A retained table must not be deletable by a stray console click either.
            deletion_protection=removal_policy != RemovalPolicy.DESTROY,
        )
        for index in INDEX_NAMES:
            self.table.add_global_secondary_index(
                index_name=index,
                partition_key=dynamodb.Attribute(name=f"{index}pk", type=string),
                sort_key=dynamodb.Attribute(name=f"{index}sk", type=string),
                # Run items are well under 1 KB (big params live elsewhere), so ALL
                # costs the same write unit as KEYS_ONLY and spares a GetItem per row.
                projection_type=dynamodb.ProjectionType.ALL,
            )
        if not point_in_time_recovery:
            nag.acknowledge(
                self.table,
                "AwsSolutions-DDB3",
                "Point-in-time recovery was turned off by the operator "
                "(point_in_time_recovery=False).",
            )

    def index_arns(self) -> list[str]:
        """Exact index ARNs, so grants need no ``index/*`` wildcard."""
        return [f"{self.table.table_arn}/index/{name}" for name in INDEX_NAMES]
