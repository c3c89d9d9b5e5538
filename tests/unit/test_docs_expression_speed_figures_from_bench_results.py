"""Speed figures in the docs come from bench-results.json (with the machine's load), as
docs/benchmarks.md says the team quotes them."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _results() -> dict[str, object]:
    data: dict[str, object] = json.loads((ROOT / "bench-results.json").read_text())
    return data


def test_expressions_md_performance_figures_are_those_of_bench_results() -> None:
    """docs/expressions.md's "Performance" table gave compile and evaluate times (271 µs
    to compile ``params.env == 'prod' && ...``, 5.2 µs to evaluate it) and cel-python's
    and Rust cel's beside them, with no load; bench-results.json, the one source speed is
    quoted from, had 548 µs and 5.859 µs and no peers. The section now points to
    benchmarks.md; any figure it gives again must be bench-results.json's."""
    text = (ROOT / "docs" / "expressions.md").read_text()
    section = text.split("## Performance", 1)[1] if "## Performance" in text else ""
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    measured = {
        e["source"]: e
        for e in _results()["expressions"]["expressions"]  # type: ignore[index]
    }
    wrong: list[str] = []
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        source = cells[0].strip("`").replace("\\|", "|")
        bench = measured.get(source)
        if bench is None:
            wrong.append(f"{source}: not in bench-results.json")
            continue
        compile_us, evaluate_us = float(cells[1]), float(cells[2])
        if round(bench["compile_us"]) != round(compile_us):
            wrong.append(f"{source}: compile {compile_us} in the docs, {bench['compile_us']}")
        if round(bench["eval_us"], 1) != round(evaluate_us, 1):
            wrong.append(f"{source}: evaluate {evaluate_us} in the docs, {bench['eval_us']}")
    assert not wrong, "; ".join(wrong)


def test_benchmarks_md_expression_table_is_that_of_bench_results() -> None:
    """The expressions.md check above has no table to read since its figures moved to
    benchmarks.md: the table there (a row per expression, by its bench name) must give
    bench-results.json's compile, cached compile and evaluate times, and name each one."""
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    section = text.split("## Expressions (µs)", 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0]: cells[1:]
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| expression")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
        if not set(cells[0]) <= {"-"}
    }
    measured = _results()["expressions"]["expressions"]  # type: ignore[index]
    assert len(rows) == len(measured) > 0, rows
    for e in measured:
        name = e["name"].replace("_", " ")
        assert name in rows, (name, sorted(rows))
        compile_us, cached_us, evaluate_us = (float(x) for x in rows[name])
        assert round(e["compile_us"]) == round(compile_us), (name, e["compile_us"], compile_us)
        assert e["compile_cached_us"] == cached_us, (name, e["compile_cached_us"], cached_us)
        assert e["eval_us"] == evaluate_us, (name, e["eval_us"], evaluate_us)
