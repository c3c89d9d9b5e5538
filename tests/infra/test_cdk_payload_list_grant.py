"""Found by a review (each test failed before its fix): IAM grants of the ready stack cross-checked against the calls the adapters make.

Uses the session's ``default`` synthesis (tests/infra/conftest.py), one per run."""

from __future__ import annotations

import json
from typing import Any

from infra_support import (
    Synth,
    arn_of,
    as_list,
    functions_by_handler,
    logical_id_of,
    policy_statements,
)


def _bucket_id(synth: Synth) -> str:
    return logical_id_of(synth, "AWS::S3::Bucket", "Payloads")


def _allows(statements: list[dict[str, Any]], action: str, resource: Any) -> bool:
    want = json.dumps(resource, sort_keys=True)
    return any(
        action in as_list(s["Action"])
        and want in {json.dumps(r, sort_keys=True) for r in as_list(s["Resource"])}
        and s["Effect"] == "Allow"
        for s in statements
    )


def test_payload_readers_may_list_the_bucket_so_a_missing_payload_is_not_access_denied(
    default: Synth,
) -> None:
    """S3 answers GetObject of a key that does not exist with 404 NoSuchKey only when the
    caller has s3:ListBucket on the bucket; without it the answer is 403 AccessDenied.
    adapters/payloads.py S3Payloads.get turns only NoSuchKey/404 into PayloadNotFound
    ("deleted by the bucket's retention?"), which console_views.py:567 and
    loop_views.py:139 catch to show an expired payload gracefully. The construct grants
    only s3:GetObject/s3:PutObject on ``<bucket>/*`` (permissions.py PAYLOAD_ACTIONS,
    grant_engine_permissions), so on AWS an expired or deleted payload raises a raw
    AccessDenied ClientError instead (a 500 from the API / a failed render).
    Right behaviour: every role that reads payloads also gets s3:ListBucket on the
    payload bucket itself (e.g. ``payloads.bucket.grant_read`` semantics, or an explicit
    statement on ``bucket.bucket_arn``, optionally conditioned on the ``payloads/``
    prefix)."""
    bucket_arn = arn_of(_bucket_id(default))
    missing = []
    for name, function in functions_by_handler(default).items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = policy_statements(default, role_id)
        reads = any("s3:GetObject" in as_list(s["Action"]) for s in statements)
        if reads and not _allows(statements, "s3:ListBucket", bucket_arn):
            missing.append(name)
    assert not missing, f"read payloads without s3:ListBucket on the bucket: {sorted(missing)}"
