"""`podium signal send` on the local home refused a --request-id reused with another
signal with the service's message only, naming the body's fields
("request_id r1 ... (ttl_days differ)"), which the user never typed
(cli/signal_command.py _send_local printed ``exc.message`` with no place mapped through
cli_place); the same command against the API names `--request-id` and `--ttl-days`
(_send_remote)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app


def _send(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["signal", "send", *args, "--home", str(tmp_path / "h")])
    return result.exit_code, result.output


def test_another_ttl_named_the_options_typed(tmp_path: Path) -> None:
    code, out = _send(tmp_path, "ready", "-p", "day=mon", "--request-id", "r1")
    assert code == 0, out
    code, out = _send(tmp_path, "ready", "-p", "day=mon", "--request-id", "r1", "--ttl-days", "5")
    assert code == 1, out
    assert "--request-id r1 was already used with a different body (--ttl-days differs)" in out
    assert "--ttl-days: differs from the first request with --request-id r1" in out, out
    assert "ttl_days" not in out and "request_id" not in out, out


def test_other_params_named_the_option_typed(tmp_path: Path) -> None:
    code, out = _send(tmp_path, "ready", "-p", "day=mon", "--request-id", "r1")
    assert code == 0, out
    code, out = _send(tmp_path, "ready", "-p", "day=tue", "--request-id", "r1")
    assert code == 1, out
    assert "(-p params differ)" in out, out
    assert "-p: differs from the first request with --request-id r1" in out, out
    assert "body.params" not in out and "request_id" not in out, out
