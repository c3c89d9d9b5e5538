"""podium backfill with an option out of range: an error naming the option (exit 2), as
for any bad option, not a pydantic traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app


@pytest.mark.parametrize(
    ("option", "words"),
    [
        (["--max-active", "5000"], "--max-active"),
        (["--max-active", "0"], "--max-active"),
        (["--from", ""], "--from: String should have at least 1 character"),
        (["--trigger", "t" * 41], "--trigger: String should have at most 40 characters"),
        # An empty one was looked up as a trigger named '' (exit 1), where --cancel's
        # check refused it as a usage error: both refuse it alike now.
        (["--trigger", ""], "--trigger: String should have at least 1 character"),
    ],
)
def test_an_option_out_of_range_is_named(tmp_path: Path, option: list[str], words: str) -> None:
    args = ["backfill", "etl", "--from", "2026-01-01", "--to", "2026-01-03", *option]
    result = CliRunner().invoke(app, [*args, "--home", str(tmp_path / "home"), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "ValidationError" not in result.output
    assert words in " ".join(result.output.split())  # the error box wraps long lines
