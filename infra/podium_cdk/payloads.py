"""The S3 bucket for params and outputs too large for a DynamoDB item."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import nag


class PayloadBucket(Construct):
    """Private, encrypted, TLS-only bucket whose objects expire after the runs.

    Attributes: ``bucket``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy,
        expiration_days: int | None,
        access_logs_bucket: s3.IBucket | None,
    ) -> None:
        super().__init__(scope, construct_id)
        lifecycle = [
            # Interrupted multipart uploads are billed storage that nobody can read.
            s3.LifecycleRule(
                id="abort-incomplete-uploads",
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )
        ]
        if expiration_days is not None:
            lifecycle.append(
                s3.LifecycleRule(id="expire-payloads", expiration=Duration.days(expiration_days))
            )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            # Payloads are written once under unique keys; versions would only cost.
            versioned=False,
            lifecycle_rules=lifecycle,
            removal_policy=removal_policy,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix="podium-payloads/" if access_logs_bucket else None,
        )
        if access_logs_bucket is None:
            nag.acknowledge(
                self.bucket,
                "AwsSolutions-S1",
                "Only Podium's own function roles can read or write this bucket (no "
                "bucket policy grants anyone else); object access is auditable through "
                "CloudTrail data events. Pass access_logs_bucket to turn server access "
                "logs on.",
            )
