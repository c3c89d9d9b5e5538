"""``scripts/fuzz``'s counts (functions/podium/bench/fuzz.py ``main``): a batch, a case
count or a number of jobs below one is a usage error, not a traceback or a run that
checked nothing and reported success."""

from __future__ import annotations

import pytest

from podium.bench import fuzz


def _no_worker(*_: object, **__: object) -> object:
    raise AssertionError("a worker was started")


@pytest.mark.parametrize(
    ("option", "value"),
    [("--batch", "0"), ("--batch", "-5"), ("--cases", "0"), ("--jobs", "0"), ("--batch", "x")],
)
def test_a_count_below_one_is_refused_as_a_usage_error(
    option: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What was wrong: ``scripts/fuzz --batch 0`` ended in a traceback
    (``ValueError: range() arg 3 must not be zero`` from ``run_fuzz``), and
    ``scripts/fuzz --batch -5`` fuzzed nothing, printed "cases 0 ... escapes 0, hangs 0,
    crashes 0" and exited 0: a run that checked nothing reported success.
    Expected: argparse refuses a batch, a case count or a number of jobs below one:
    exit 2 with a usage line naming the option."""
    monkeypatch.setattr(fuzz, "_spawn", _no_worker)
    argv = ["--cases", "3", option, value] if option != "--cases" else [option, value]
    try:
        code = fuzz.main(argv)
    except SystemExit as exited:
        code = exited.code  # type: ignore[assignment]
    except Exception as exc:
        raise AssertionError(f"{option} {value}: {type(exc).__name__}: {exc}") from None
    assert code == 2, f"{option} {value} exited {code}"
    assert option in capsys.readouterr().err
