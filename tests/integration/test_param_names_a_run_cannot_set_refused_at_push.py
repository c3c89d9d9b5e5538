"""A param named ``a=b`` passed ``podium validate``, but ``-p a=b=3`` was read as the param
``a`` (the CLI splits at the first '='): the run was refused with "params.a: unknown
param" and "params.a=b: required param has no value; pass -p a=b=...", the very thing
passed. A param's name now holds letters, digits, '_', '-' and '.' only. Found by review
R33e."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()


def _validate(tmp_path: Path, name: str) -> tuple[int, str]:
    path = tmp_path / "names.yaml"
    path.write_text(
        f"name: names\nparams:\n  {name!r}: {{type: string, default: x}}\n"
        "steps:\n  - {id: a, type: noop}\n"
    )
    result = runner.invoke(app, ["validate", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize(("name", "fixed"), [("a=b", "a_b"), ("day of week", "day_of_week")])
def test_a_param_name_no_run_can_set_is_refused_naming_it_and_the_fix(
    tmp_path: Path, name: str, fixed: str
) -> None:
    code, output = _validate(tmp_path, name)
    assert code == 1, output
    assert f"params.{name}: '{name}' is not a param name" in output
    assert f"e.g. '{fixed}'" in output


@pytest.mark.parametrize("name", ["day", "run_date", "region-1", "s3.bucket", "Größe", "1"])
def test_names_of_letters_digits_and_underscore_dash_dot_are_pushed(
    tmp_path: Path, name: str
) -> None:
    """Guard: the names the examples and users write."""
    code, output = _validate(tmp_path, name)
    assert code == 0, output
