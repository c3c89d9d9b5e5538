"""Found by a review (the test failed before its fix): the payload grant against the keys
the engine writes.

adapters/payloads.py ``S3Payloads`` writes every payload under the prefix ``payloads/``
(``payloads/<run>/<step>/<attempt>/output.json``, ``.../params.json``, loop spaces,
iterations; bootstrap.py builds it with that default) and ``get`` reads nothing outside
it; no other engine code touches the bucket. permissions.py granted s3:GetObject and
s3:PutObject on ``<bucket>/*``: every function could read and overwrite any object of
the bucket, not only payloads. The grant (and its cdk-nag acknowledgment) is now on
``<bucket>/payloads/*`` (permissions.py ``PAYLOAD_PREFIX``).

Uses the session's ``default`` synthesis (tests/infra/conftest.py)."""

from __future__ import annotations

import json
import re
from typing import Any

from infra_support import (
    REPO_ROOT,
    Synth,
    as_list,
    functions_by_handler,
    logical_id_of,
    policy_statements,
)


def _written_prefix() -> str:
    source = (REPO_ROOT / "functions" / "podium" / "adapters" / "payloads.py").read_text()
    found = re.search(r'class S3Payloads:.*?prefix: str = "([^"]+)"', source, re.S)
    assert found, "S3Payloads has no default prefix any more: update this test"
    return found.group(1)


def _object_resources(synth: Synth, role_id: str, bucket_id: str) -> list[Any]:
    found: list[Any] = []
    for statement in policy_statements(synth, role_id):
        actions = as_list(statement["Action"])
        if "s3:GetObject" in actions or "s3:PutObject" in actions:
            found += [r for r in as_list(statement["Resource"]) if bucket_id in json.dumps(r)]
    return found


def test_payload_objects_are_granted_under_the_prefix_the_engine_writes(
    default: Synth,
) -> None:
    """Right behaviour: each function's s3:GetObject/PutObject on the payload bucket is
    limited to ``<bucket>/payloads/*``. Before the fix it was ``<bucket>/*``."""
    prefix = _written_prefix()
    bucket_id = logical_id_of(default, "AWS::S3::Bucket", "Payloads")
    everything = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/*"]]}
    for name, function in functions_by_handler(default).items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        resources = _object_resources(default, role_id, bucket_id)
        assert resources, f"{name}: no payload object grant at all"
        assert everything not in resources, (
            f"{name}: s3:GetObject/PutObject on every object of the payload bucket; the"
            f" engine writes and reads only {prefix}*: {resources}"
        )
        for resource in resources:
            assert f"/{prefix}" in json.dumps(resource), (name, resource)
