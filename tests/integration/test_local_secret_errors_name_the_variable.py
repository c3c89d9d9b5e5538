"""An http step's ``auth.secret`` on the local home (docs/workflow-language.md, HTTP and
Local stand-ins): ``[secrets] "warehouse/token" = "env:WAREHOUSE_TOKEN"`` in podium.toml.

Was: a mapped secret whose variable was not exported was dropped silently
(bootstrap.local_secrets), and the step's error then asked for the mapping already there
("has no local value; map it in podium.toml: [secrets] warehouse/token = ..."), never
naming the variable, and offering a line that is not TOML (an unquoted key with ``/``).
Now MappedSecrets is given the [secrets] mapping too (adapters/http_transport.py), so a
mapped secret whose variable is unset says "reads env:WAREHOUSE_TOKEN, which is not set
in this environment", and the line offered for an unmapped one quotes the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

WORKFLOW = """
name: refresh_tables
steps:
  - id: refresh
    type: http
    method: POST
    url: "https://api.example.com/tables/sales/refresh"
    auth: {secret: warehouse/token, key: token, header: Authorization, prefix: "Bearer "}
    retries: 0
"""
TOML = """
[http.map]
"https://api.example.com" = "fake_api:handle"

[secrets]
"warehouse/token" = "env:WAREHOUSE_TOKEN"
"""
FAKE_API = """
def handle(request):
    return {"status": 200, "body": {"auth": request["headers"].get("authorization")}}
"""


def _run(tmp_path: Path, toml: str) -> str:
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    (tmp_path / "podium.toml").write_text(toml)
    (tmp_path / "fake_api.py").write_text(FAKE_API)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME", "WAREHOUSE_TOKEN")
    }
    env.update(PODIUM_HOME=str(tmp_path / "home"), COLUMNS="400", HOME=str(tmp_path))
    ran = subprocess.run(
        [sys.executable, "-m", "podium.cli.main", "run", "wf.yaml", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert ran.returncode == 1, ran.stdout + ran.stderr
    (step,) = json.loads(ran.stdout)["steps"]
    assert step["status"] == "FAILED", step
    assert str(step["error"]).startswith("Podium.ConfigError: "), step
    return str(step["error"])


def test_a_mapped_secret_whose_variable_is_unset_names_the_variable(tmp_path: Path) -> None:
    error = _run(tmp_path, TOML)
    # The secret is mapped; WAREHOUSE_TOKEN is what is missing (export it).
    assert "WAREHOUSE_TOKEN" in error, error


def test_the_line_offered_for_an_unmapped_secret_is_valid_toml(tmp_path: Path) -> None:
    error = _run(tmp_path, TOML.split("[secrets]")[0])
    assert "[secrets]" in error, error
    # "map it in podium.toml: [secrets] <the line>": the line as pasted under [secrets].
    line = error.split("[secrets]", 1)[1].strip()
    try:
        parsed = tomllib.loads(f"[secrets]\n{line}\n")
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"the offered line {line!r} is not TOML ({exc}): quote the key")
    assert "warehouse/token" in parsed["secrets"], parsed
