"""A param whose literal default failed its own ``validate`` passed ``podium validate``
(exit 0), yet every run that did not set it was refused ("'dev' is not valid"); for a
constant param (mode: constant), which no run may set, no run could ever start. check_defaults
type-checked the default but never evaluated validate. Found by review R33e."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from podium.cli.main import app

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _workflow(tmp_path: Path, params: str) -> Path:
    path = tmp_path / "cv.yaml"
    path.write_text(f"name: cv\nparams:\n{params}steps:\n  - {{id: a, type: noop}}\n")
    return path


def _validated(tmp_path: Path, params: str) -> tuple[Path, int, str]:
    """The workflow with ``params`` written, and what ``podium validate`` said of it."""
    path = _workflow(tmp_path, params)
    return (path, *_cli("validate", str(path)))


def test_a_constant_param_whose_default_fails_its_validate_is_refused_at_push(
    tmp_path: Path,
) -> None:
    path, code, output = _validated(
        tmp_path,
        "  env: {type: string, default: dev, mode: constant,"
        " validate: {expr: \"value in ['prod', 'staging']\", message: prod or staging}}\n",
    )
    assert code == 1, output
    assert "params.env.default: 'dev' is not valid: prod or staging; no run can start" in output
    code, output = _cli("run", str(path), "--home", str(tmp_path / "home"))
    assert code == 1 and "params.env.default" in output  # refused at the push


def test_an_ordinary_param_whose_default_fails_its_validate_is_refused_at_push(
    tmp_path: Path,
) -> None:
    """A run that did not set it always failed; one reading a constant param (known at
    push) too."""
    _, code, output = _validated(
        tmp_path,
        "  n: {type: int, default: 3, validate: 'value > params.floor'}\n"
        "  floor: {type: int, default: 5, mode: constant}\n",
    )
    assert code == 1, output
    assert "params.n.default: 3 is not valid: it must satisfy value > params.floor;" in output
    assert "every run that does not set it would be refused" in output


def test_a_default_whose_validate_reads_what_a_run_may_set_is_still_pushed(
    tmp_path: Path,
) -> None:
    """Guard: a rule reading a param a run may set (or run fields) is only known at the
    run; a default that passes is pushed, and a run that sets a valid value runs."""
    path, code, output = _validated(
        tmp_path,
        "  n: {type: int, default: 3, validate: 'value > params.floor'}\n"
        "  floor: {type: int, default: 5}\n"
        "  env: {type: string, default: prod, mode: constant, validate: \"value == 'prod'\"}\n",
    )
    assert code == 0, output
    code, output = _cli("run", str(path), "--home", str(tmp_path / "home"), "-p", "floor=1")
    assert code == 0, output
