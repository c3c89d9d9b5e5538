"""``scripts/bench``'s validation section (functions/podium/bench/validate.py): a case
over its time limit is a row, not a crash, and the machine's load is recorded before the
cases run as well as after."""

from __future__ import annotations

from typing import Any

import pytest

from podium.bench import validate


def test_a_case_over_its_time_limit_is_reported_not_raised() -> None:
    """What was wrong: on a slow or loaded machine a validation case that outlived its
    subprocess timeout (600 s) raised ``subprocess.TimeoutExpired`` out of
    ``validate_case``, which ``scripts/bench`` did not catch: the whole run ended in a
    traceback before ``merge_results``, and the engine, strategies, expressions... it
    had measured for tens of minutes were never written. A case that crashed was already
    reported as a row with ``error``.
    Expected: a case over its time limit is a row with an ``error`` too."""
    try:
        row = validate.validate_case("chain", 1_000, timeout=0.01)
    except Exception as exc:
        raise AssertionError(
            f"validate_case raised {type(exc).__name__} instead of returning an error row"
        ) from None
    assert row == {"shape": "chain", "steps": 1_000, "error": "timed out after 0.01 s"}


def test_the_validate_section_records_the_load_before_it_ran(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What was wrong: docs/benchmarks.md's table of runs gave the ``validate`` section
    a "load before" of 3.36 / 3.93 / 4.37, but ``run_validate_bench`` read the load
    average once, after its twelve subprocesses (up to a minute of 100,000-step
    definitions), and stored it as ``loadavg``: the figure quoted as the load before was
    the load after, and the load the validation timings ran under was in no file.
    Expected: the section carries the load before the first case and after the last,
    as the engine, sqlite_home, expressions and loops sections do."""
    cases: list[str] = []

    def load() -> list[float]:  # 1.0 before any case ran, 2.0 once one has
        return [2.0, 2.0, 2.0] if cases else [1.0, 1.0, 1.0]

    def case(shape: str, steps: int, timeout: float = 600) -> dict[str, Any]:
        cases.append(shape)
        return {"shape": shape, "steps": steps, "seconds": 0.0}

    monkeypatch.setattr(validate, "machine_load", load, raising=False)
    monkeypatch.setattr(validate, "load_average", load, raising=False)
    monkeypatch.setattr(validate, "validate_case", case)
    result = validate.run_validate_bench(quick=True)
    assert result.get("loadavg_before") == [1.0, 1.0, 1.0], result
    assert result.get("loadavg_after") == [2.0, 2.0, 2.0], result
    assert len(result["rows"]) == len(cases) == 8
