"""Smoke test: the pinned CDK CLI synthesizes the real app from the repository root
(cdk.json -> infra/app.py, cdk-nag on), offline with bundling skipped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from infra_support import REPO_ROOT

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


def test_cdk_synth_of_the_app(tmp_path: Path) -> None:
    if not CDK.exists() or shutil.which("node") is None:
        pytest.skip("the CDK CLI is not installed: run `npm ci` at the repository root")
    out = tmp_path / "cdk.out"
    env = {
        **os.environ,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    # -c podium:skipBundling keeps it offline; test_lambda_bundle covers the bundle.
    result = subprocess.run(
        [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(out),
         "-c", "podium:skipBundling=true", "-c", "podium:alarmEmail=ops@example.com"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    template = json.loads((out / "Podium.template.json").read_text())
    assert "ApiUrl" in template["Outputs"]
    assert any(r["Type"] == "AWS::SNS::Subscription" for r in template["Resources"].values())
    report = json.loads((out / "validation-report.json").read_text())
    assert report["pluginReports"] == []
