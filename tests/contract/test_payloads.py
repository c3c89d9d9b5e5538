"""Contract suite for Payloads: S3 (moto), files in a home, memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from podium.adapters.payloads import FilePayloads, MemoryPayloads, S3Payloads
from podium.core.engine.errors import NotFound


@pytest.fixture(params=["s3", "file", "memory"])
def payloads(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryPayloads()
    elif request.param == "file":
        yield FilePayloads(tmp_path / "payloads")
    else:
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="podium-payloads")
            yield S3Payloads(s3, "podium-payloads")


def test_put_then_get_by_reference(payloads: Any) -> None:
    ref = payloads.put("r1/extract/1/output.json", b'{"rows": 3}')
    assert payloads.get(ref) == b'{"rows": 3}'


def test_a_replayed_put_overwrites_with_the_same_reference(payloads: Any) -> None:
    first = payloads.put("r1/s/1/output.json", b"1")
    again = payloads.put("r1/s/1/output.json", b"1")
    assert first == again and payloads.get(again) == b"1"


def test_a_missing_payload_is_not_found(payloads: Any) -> None:
    ref = payloads.put("r1/s/1/output.json", b"x")
    missing = ref.replace("r1/s/1", "r9/s/1")
    with pytest.raises(NotFound):
        payloads.get(missing)


def test_a_home_path_with_spaces_reads_back(tmp_path: Path) -> None:
    """Regression: put's URI percent-encodes the path; get did not decode it."""
    files = FilePayloads(tmp_path / "my home" / "payloads")
    ref = files.put("r1/s/1/output.json", b"{}")
    assert files.get(ref) == b"{}"
