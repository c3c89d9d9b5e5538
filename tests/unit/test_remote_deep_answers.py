"""The remote CLI read the API's answers with plain ``json.loads``: an answer nested past
Python's parser (a step output 5,000 levels deep, which the API stores and returns)
ended the command with a RecursionError's traceback. It says so in one line instead."""

from __future__ import annotations

import io
from typing import Any

import pytest
import typer

from podium.cli.remote import ApiClient, ApiError
from podium.cli.target_options import reporting_remote_errors

DEEP = b'{"output": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


class _Answer(io.BytesIO):
    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def client(raw: bytes, status: int = 200) -> ApiClient:
    def opener(request: Any, timeout: float) -> _Answer:
        if status != 200:
            import urllib.error

            raise urllib.error.HTTPError(request.full_url, status, "error", {}, io.BytesIO(raw))  # type: ignore[arg-type]
        return _Answer(raw)

    return ApiClient(
        endpoint="http://127.0.0.1:8321", credentials=None, region="local", opener=opener
    )


def test_a_deeply_nested_answer_is_a_clear_error_not_a_traceback() -> None:
    with pytest.raises(ApiError) as raised:
        client(DEEP).get("/runs/r1")
    message = raised.value.message
    assert "nested too deep for this CLI to read" in message and "podium console" in message
    assert "\n" not in message


def test_a_deeply_nested_error_answer_too() -> None:
    with pytest.raises(ApiError) as raised:
        client(DEEP, status=400).get("/runs/r1")
    assert raised.value.status == 400
    assert "nested too deep for this CLI to read" in raised.value.message


def test_the_cli_prints_it_in_one_line_and_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exited, reporting_remote_errors("run r1"):
        client(DEEP).get("/runs/r1")
    assert exited.value.exit_code == 1
    said = capsys.readouterr().err.strip()
    assert said.startswith("run r1: the API answered with JSON nested too deep"), said
    assert "Traceback" not in said and "RecursionError" not in said


def test_an_ordinary_answer_still_reads() -> None:
    assert client(b'{"a": [[1]]}').get("/x") == {"a": [[1]]}
