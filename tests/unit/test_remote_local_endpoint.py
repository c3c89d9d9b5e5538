"""`podium push/start --endpoint http://127.0.0.1:8321` against `podium dev` works
without AWS credentials (unsigned); with credentials, requests are still signed."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.cli.remote import ConfigError, Target, connect, is_local


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_a_local_endpoint_needs_no_credentials(no_credentials: None) -> None:
    client = connect(Target(endpoint="http://127.0.0.1:8321"))
    assert client.credentials is None


def test_a_remote_endpoint_still_needs_them(no_credentials: None) -> None:
    with pytest.raises(ConfigError, match="no AWS credentials"):
        connect(Target(endpoint="https://abc.execute-api.us-east-1.amazonaws.com"))


def test_local_hosts() -> None:
    assert is_local("http://localhost:8321") and is_local("http://[::1]:1")
    assert not is_local("https://example.com")
