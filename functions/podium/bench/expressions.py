"""Expression language benchmark: compile and evaluation time of typical expressions.

    from podium.bench.expressions import run_expression_bench
    report = run_expression_bench()

Peers are measured in the same run when they are importable: cel-python (`celpy`,
pure Python, both its interpreter and its transpiling "compiled" runner) and `cel`
(the Rust-backed `common-expression-language`). They are optional and imported only
inside this module's functions.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

from podium.core.expr import compile_expression
from podium.core.expr.expression import compile_uncached
from podium.core.expr.limits import DEFAULT_LIMITS

# Five orchestration-style expressions and the bindings they read.
EXPRESSIONS: list[tuple[str, str]] = [
    ("params_condition", "params.env == 'prod' && params.retries > 2 || params.force"),
    ("output_size_check", "size(steps.extract.output.rows) > 0"),
    (
        "timestamp_window",
        "timestamp(run.started_at) + duration('90m') > timestamp(event.time)",
    ),
    (
        "map_filter_chain",
        "steps.scan.output.files.filter(f, f.size > 1000).map(f, f.key)",
    ),
    (
        "string_from_params",
        "'s3://' + params.bucket + '/' + params.prefix + '/' + run.logical_date + '.parquet'",
    ),
]

BINDINGS: dict[str, Any] = {
    "params": {
        "env": "prod",
        "retries": 3,
        "force": False,
        "bucket": "acme-data",
        "prefix": "raw/orders",
    },
    "steps": {
        "extract": {"output": {"rows": [{"id": i} for i in range(10)]}},
        "scan": {
            "output": {
                "files": [{"key": f"part-{i:04d}.parquet", "size": i * 250} for i in range(10)]
            }
        },
    },
    "run": {
        "started_at": "2024-05-01T10:00:00Z",
        "logical_date": "2024-05-01",
    },
    "event": {"time": "2024-05-01T11:00:00Z"},
}


def _time_us(fn: Callable[[], object], min_seconds: float = 0.1) -> float:
    """Mean microseconds per call: the best of five timeit runs of ~min_seconds each.

    The best run is the least disturbed by other load on the machine.
    """
    timer = timeit.Timer(fn)
    number, elapsed = timer.autorange()  # at least 0.2 s
    number = max(1, int(number * min_seconds / max(elapsed, 1e-9)))
    best = min(timer.repeat(repeat=5, number=number))
    return best / number * 1e6


def _measure_podium() -> list[dict[str, Any]]:
    rows = []
    for name, source in EXPRESSIONS:
        compiled = compile_expression(source)
        compiled.evaluate(BINDINGS)  # warm up (and fail loudly if broken)
        converted = compiled.convert_bindings(BINDINGS)
        rows.append(
            {
                "name": name,
                "source": source,
                # Uncached: the full parse + compile a definition push pays once.
                "compile_us": round(
                    _time_us(lambda s=source: compile_uncached(s, DEFAULT_LIMITS)), 2
                ),
                "compile_cached_us": round(_time_us(lambda s=source: compile_expression(s)), 3),
                # Plain JSON-like bindings in, plain Python out, conversions included.
                "eval_us": round(_time_us(lambda c=compiled: c.evaluate(BINDINGS)), 3),
                # Bindings converted beforehand, as the peers below are measured.
                "eval_cel_us": round(
                    _time_us(lambda c=compiled, v=converted: c.evaluate_cel(v)), 3
                ),
            }
        )
    return rows


def _measure_celpy() -> dict[str, Any]:
    import celpy  # optional peer, imported only here
    from celpy.celparser import CELParser

    results: dict[str, Any] = {}
    # celpy caches its parser class-wide with the tree class of the first environment;
    # the transpiling runner needs its own tree class, so measure it first.
    for label, runner in (
        ("cel-python (compiled)", celpy.CompiledRunner),
        ("cel-python (interpreted)", celpy.InterpretedRunner),
    ):
        CELParser.CEL_PARSER = None
        env = celpy.Environment(runner_class=runner)
        activation = {k: celpy.json_to_cel(v) for k, v in BINDINGS.items()}
        rows = []
        for name, source in EXPRESSIONS:
            try:
                program = env.program(env.compile(source))
                program.evaluate(activation)
            except Exception as exc:  # a peer's gap is reported, not fatal
                rows.append({"name": name, "error": f"{type(exc).__name__}: {exc}"[:200]})
                continue
            rows.append(
                {
                    "name": name,
                    "compile_us": round(
                        _time_us(lambda s=source, e=env: e.program(e.compile(s)), 0.3), 2
                    ),
                    # Bindings pre-converted to celpy types: conversion not counted.
                    "eval_us": round(_time_us(lambda p=program, a=activation: p.evaluate(a)), 3),
                    # With json_to_cel of the plain bindings, as Podium's evaluate does.
                    "eval_with_conversion_us": round(
                        _time_us(
                            lambda p=program, c=celpy.json_to_cel: p.evaluate(
                                {k: c(v) for k, v in BINDINGS.items()}
                            )
                        ),
                        3,
                    ),
                }
            )
        results[label] = {"expressions": rows}
    CELParser.CEL_PARSER = None
    return results


def _measure_rust_cel() -> dict[str, Any]:
    import cel  # optional peer, imported only here

    context = cel.Context(BINDINGS)
    rows = []
    for name, source in EXPRESSIONS:
        try:
            program = cel.compile(source)
            program.execute(context)
        except Exception as exc:
            rows.append({"name": name, "error": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        rows.append(
            {
                "name": name,
                "compile_us": round(_time_us(lambda s=source: cel.compile(s)), 2),
                "eval_us": round(_time_us(lambda p=program: p.execute(context)), 3),
                "eval_with_context_us": round(
                    _time_us(lambda p=program: p.execute(cel.Context(BINDINGS))), 3
                ),
            }
        )
    return {"cel (rust)": {"expressions": rows}}


def _speedups(ours: list[dict[str, Any]], peers: dict[str, Any]) -> dict[str, Any]:
    """Per peer: how many times faster Podium is (peer time / Podium time).

    `eval_x`: the peer (bindings converted beforehand) against Podium's `evaluate`
    (conversion included) - the harshest comparison. `eval_cel_x`: like for like, both
    with converted bindings. `eval_with_conversion_x`: like for like, both converting
    plain bindings on every evaluation (cel-python only).
    """
    out: dict[str, Any] = {}
    mine = {row["name"]: row for row in ours}
    for peer, data in peers.items():
        ratios = {}
        for row in data.get("expressions", []):
            if "error" in row or row["name"] not in mine:
                continue
            ours_row = mine[row["name"]]
            ratios[row["name"]] = {
                "eval_x": round(row["eval_us"] / ours_row["eval_us"], 2),
                "eval_cel_x": round(row["eval_us"] / ours_row["eval_cel_us"], 2),
                "compile_x": round(row["compile_us"] / ours_row["compile_us"], 2),
            }
            if "eval_with_conversion_us" in row:
                full = row["eval_with_conversion_us"] / ours_row["eval_us"]
                ratios[row["name"]]["eval_with_conversion_x"] = round(full, 2)
        out[peer] = ratios
    return out


def run_expression_bench() -> dict[str, Any]:
    """Measure Podium's expressions and, when installed, cel-python and Rust cel."""
    ours = _measure_podium()
    peers: dict[str, Any] = {}
    for measure in (_measure_celpy, _measure_rust_cel):
        try:
            peers.update(measure())
        except ImportError:
            continue
    return {"expressions": ours, "peers": peers, "speedup": _speedups(ours, peers)}


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(run_expression_bench(), indent=2))
