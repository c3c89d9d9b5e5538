"""`podium signal send` named a refused argument by the API body's path (body.name,
body.params.<p>), not by what the user typed. It now names the NAME argument and the
options (-p <p>, --payload, --request-id), on the local home and against the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.dev_server import DevServer
from tests.integration.dev_support import memory_dev_server


def _send(tmp_path: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["signal", "send", *args, "--home", str(tmp_path / "h")])
    assert result.exit_code != 0
    return result.output


def test_a_too_long_param_is_named_as_its_p_option(tmp_path: Path) -> None:
    """The bug: cli/signal_command.py _send_local passed the CLI's arguments through
    service/signals.py request_from_json with its default ``where="body"``, so a value
    the CLI user gave as ``-p s=...`` was refused as "body.params.s: is longer than
    1024 characters" (and a bad NAME argument as "body.name: ..."): there is no body on
    the command line. The same command's own checks say "-p s: ..."
    (parse_signal_params).

    Expected: the issue names the option the user typed (``-p s``), as the command's
    other -p errors do."""
    out = _send(tmp_path, "ok", "-p", "s=" + "y" * 1100)
    assert "longer than 1024" in out
    assert "body." not in out, out
    assert "-p s" in out, out


def test_a_bad_signal_name_is_named_as_the_name_argument(tmp_path: Path) -> None:
    """The bug: as above, a bad NAME argument was reported as ``body.name``.

    Expected: the message names the NAME argument, not a request body field."""
    out = _send(tmp_path, "bad name")
    assert "is not a signal name" in out
    assert "body.name" not in out, out
    assert "NAME: 'bad name' is not a signal name" in out, out


def test_the_payload_and_the_request_id_are_named_as_their_options(tmp_path: Path) -> None:
    out = _send(tmp_path, "ok", "--payload", '"' + "é" * 40_000 + '"', "--request-id", "r" * 300)
    assert "body." not in out, out
    assert "--payload: is 80,002 bytes" in out, out
    assert "--request-id: must be a string of 1-256 characters" in out, out


def test_body_paths_map_to_the_command_line() -> None:
    from podium.cli.signal_command import cli_place

    assert cli_place("body.name") == "NAME"
    assert cli_place("body.params") == "-p"
    assert cli_place("body.params.day") == "-p day"
    assert cli_place("body.payload") == "--payload"
    assert cli_place("body.payload.a.b") == "--payload at a.b"
    assert cli_place("body.payload[3]") == "--payload at [3]"
    assert cli_place("body.request_id") == "--request-id"
    assert cli_place("body.ttl_days") == "--ttl-days"
    assert cli_place("body") == "the signal"
    assert cli_place("triggers.t.params.n") == "triggers.t.params.n"  # not the body's


@pytest.fixture
def dev() -> Iterator[DevServer]:
    with memory_dev_server() as server:
        yield server


def test_the_apis_refusal_is_named_as_typed_too(dev: DevServer) -> None:
    """Against the API (``--endpoint``: podium dev, as a deployed stack) the refusal's
    issues, which name the body's fields, are printed as the command line's."""
    result = CliRunner().invoke(
        app, ["signal", "send", "ok", "-p", "s=" + "y" * 1100, "--endpoint", dev.url]
    )
    assert result.exit_code == 1, result.output
    assert "-p s: is longer than 1024 characters" in result.output, result.output
    assert "body." not in result.output, result.output
