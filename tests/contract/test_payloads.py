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


def test_a_reference_made_by_another_store_is_not_read(payloads: Any, tmp_path: Path) -> None:
    """A reference is read back from a record a step's code may have shaped; ``get`` reads
    only what its own store writes (its bucket and prefix, its directory), never an
    object or a file elsewhere (adapters/payloads.py)."""
    outside = tmp_path / "not_a_payload.json"
    outside.write_bytes(b'{"secret": 1}')
    foreign = [
        outside.resolve().as_uri(),  # a file of the machine
        f"file:{outside.resolve()}",
        "file:../not_a_payload.json",  # out of the payloads directory
        "s3://another-bucket/payloads/r1/s/1/output.json",
        "s3://podium-payloads/elsewhere/r1/s/1/output.json",  # the bucket, not its prefix
        "memory://r1/s/1/output.json",  # no put made it
        "r1/s/1/output.json",
    ]
    if isinstance(payloads, S3Payloads):  # there, to be read were they read
        s3 = payloads._s3
        s3.create_bucket(Bucket="another-bucket")
        s3.put_object(Bucket="another-bucket", Key="payloads/r1/s/1/output.json", Body=b"{}")
        s3.put_object(Bucket="podium-payloads", Key="elsewhere/r1/s/1/output.json", Body=b"{}")
    for ref in foreign:
        with pytest.raises(NotFound):
            payloads.get(ref)


def test_a_key_with_a_part_longer_than_a_file_name_reads_back(payloads: Any) -> None:
    """A nested iteration's run id grows with each loop's step id (up to 80 characters a
    level): a key's part may be longer than a file name may be (255 bytes)."""
    run_id = "01KDVDNA004N7XXZQDSER1JRY2" + ".for_each_region_of_the_list_of_regions_0001.0" * 8
    ref = payloads.put(f"{run_id}/load/1/output.json", b'{"rows": 3}')
    other = payloads.put(f"{run_id[:-1]}1/load/1/output.json", b'{"rows": 4}')
    assert payloads.get(ref) == b'{"rows": 3}' and payloads.get(other) == b'{"rows": 4}'


def test_a_moved_home_reads_its_payloads(tmp_path: Path) -> None:
    """FilePayloads' references are relative to its directory: a home moved or renamed
    with its project still reads them."""
    ref = FilePayloads(tmp_path / "etl" / ".podium" / "payloads").put("r1/s/1/output.json", b"1")
    (tmp_path / "etl").rename(tmp_path / "etl-pipeline")
    moved = FilePayloads(tmp_path / "etl-pipeline" / ".podium" / "payloads")
    assert moved.get(ref) == b"1"


def test_an_absolute_reference_of_an_older_home_reads_under_the_current_one(
    tmp_path: Path,
) -> None:
    """References were absolute ``file://`` URIs: one written so, its home moved since,
    is read by its part after ``/payloads/`` under the current directory (the first
    such part that names a file there: the home's own path may hold a /payloads/)."""
    old = tmp_path / "payloads" / "etl" / ".podium" / "payloads"
    files = FilePayloads(old)
    files.put("r1/s/1/output.json", b"1")
    legacy = (old / "r1" / "s" / "1" / "output.json").resolve().as_uri()
    assert files.get(legacy) == b"1"
    (tmp_path / "payloads").rename(tmp_path / "moved")
    moved = FilePayloads(tmp_path / "moved" / "etl" / ".podium" / "payloads")
    assert moved.get(legacy) == b"1"
    with pytest.raises(NotFound):
        moved.get(legacy.replace("/r1/", "/r9/"))
