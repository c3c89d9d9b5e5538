"""`podium start` in a newcomer's shell: a local home, no AWS account, no config file.

Was: after the README's `podium run examples/sales_etl/workflow.yaml`, `podium start
daily_sales_etl` said only `no AWS credentials found: set AWS_PROFILE ... run 'aws sso
login'` (cli/remote.py ``credentials_of`` did not know the target was defaulted, though
``stack_outputs`` did): nothing said that, with no target given, the default stack
'Podium' was tried, nor that locally a run starts with `podium run FILE` (or `--endpoint
http://127.0.0.1:8321` on `podium dev`). Now the refusal says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from podium.cli.remote import ConfigError, Target, connect


def _flat(text: str) -> str:
    return " ".join(text.split())


def _no_aws_env(tmp_path: Path) -> dict[str, str]:
    """A newcomer's shell: a local home, no AWS account, no Podium config file."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in ("PODIUM_CONFIG", "PODIUM_PROFILE")
    }
    env.update(
        PODIUM_HOME=str(tmp_path / "home"),
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_REGION="eu-west-1",
        COLUMNS="400",
    )
    return env


def test_podium_start_without_a_target_or_credentials_says_how_to_start_locally(
    tmp_path: Path,
) -> None:
    """`podium start daily_sales_etl` with no target and no credentials said only how to
    get AWS credentials. Now it also says the default stack was tried and the local
    ways (`--endpoint` for podium dev, `podium run FILE`)."""
    env = _no_aws_env(tmp_path)
    ran = subprocess.run(
        [sys.executable, "-m", "podium.cli.main", "start", "daily_sales_etl"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    said = _flat(ran.stdout + ran.stderr)
    assert ran.returncode == 2, said
    assert "Traceback" not in said, said
    assert "--endpoint" in said or "podium run" in said, said
    assert "stack 'Podium' was tried" in said, said
    assert "--endpoint http://127.0.0.1:8321" in said and "podium run FILE" in said, said


def test_a_named_stack_without_credentials_says_only_the_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a target given (`--stack prod`), the user chose AWS: the refusal says how to
    get credentials, not the local ways."""
    shell = _no_aws_env(tmp_path)
    for name in [k for k in os.environ if k.startswith("AWS_") and k not in shell]:
        monkeypatch.delenv(name)
    for name, value in shell.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as refused:
        connect(Target(stack="prod", origin="--stack"))
    said = str(refused.value)
    assert "no AWS credentials found" in said, said
    assert "podium run" not in said and "was tried" not in said, said
