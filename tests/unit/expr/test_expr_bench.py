"""The expression benchmark's report shape (no timing assertions)."""

from __future__ import annotations

import pytest

from podium.bench import expressions


def test_bench_report_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expressions, "_time_us", lambda fn, min_seconds=0.0: (fn(), 1.0)[1])

    def no_peer() -> dict[str, object]:
        raise ImportError

    monkeypatch.setattr(expressions, "_measure_celpy", no_peer)
    monkeypatch.setattr(expressions, "_measure_rust_cel", no_peer)
    report = expressions.run_expression_bench()
    names = [row["name"] for row in report["expressions"]]
    assert len(names) == 5
    for row in report["expressions"]:
        assert set(row) >= {"name", "source", "compile_us", "eval_us"}
    assert report["peers"] == {}
