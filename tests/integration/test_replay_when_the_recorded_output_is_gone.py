"""``podium runs replay`` of an attempt whose recorded output's payload was gone (pruned,
expired) failed whole, though the event it replays never holds the step's own output;
and the reason a missing payload gave was the S3 bucket's retention, on a local home."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from podium.adapters.payloads import FilePayloads, MemoryPayloads, PayloadNotFound, S3Payloads
from tests.integration.test_cli_local import podium, run_id_of

FNS = """
def big(event):
    return {"rows": ["x" * 100] * 200}
"""

WF = """
name: gone
steps:
  - {id: big, type: lambda, function: "gone_fns:big"}
"""


def test_an_attempt_whose_recorded_output_is_gone_is_replayed(tmp_path: Path) -> None:
    """The replay refused with "the recorded output: payload file:... not found (deleted
    by the bucket's retention?)". It replays the attempt, the recorded output shown as
    its reference with why it is missing, and does not claim the same outcome."""
    home = tmp_path / "home"
    (tmp_path / "gone_fns.py").write_text(FNS)
    (tmp_path / "wf.yaml").write_text(WF)
    assert podium(home, "run", "wf.yaml", cwd=tmp_path).returncode == 0
    run_id = run_id_of(home, "gone")
    shutil.rmtree(home / "payloads")  # as a prune of the run that wrote it would
    replayed = podium(home, "runs", "replay", run_id, "big", "--json", cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    body = json.loads(replayed.stdout)
    recorded = body["recorded"]
    assert recorded["status"] == "SUCCEEDED"
    assert "podium runs prune" in recorded["output_missing"], recorded
    assert "bucket" not in recorded["output_missing"], recorded
    assert recorded["output"]["missing"] == recorded["output_missing"]
    assert recorded["output"]["$payload"].startswith("file:")
    assert body["replayed"]["output"] == {"rows": ["x" * 100] * 200}
    assert body["same"] is False

    text = podium(home, "runs", "replay", run_id, "big", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "not found (its file is gone" in text.stdout, text.stdout


@mock_aws
def test_a_missing_payload_says_why_as_its_store_would_lose_it(tmp_path: Path) -> None:
    """Every store's missing payload said "deleted by the bucket's retention?", a local
    home's file and a process's memory too."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="payloads-bucket")
    stores = {
        "payload_expiration_days": S3Payloads(s3, "payloads-bucket"),
        "podium runs prune": FilePayloads(tmp_path),
        "not kept by this process": MemoryPayloads(),
    }
    for why, store in stores.items():
        ref = store.put("r/s/1/output.json", b"{}")
        gone = ref.replace("output", "other")
        with pytest.raises(PayloadNotFound, match=why):
            store.get(gone)
