"""``scripts/bench``: measure speed and cost, print them, write bench-results.json."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from podium.bench.engine import run_engine_bench


def main() -> None:
    quick = "--quick" in sys.argv
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    console = Console(width=160)
    if "--peers" in sys.argv:  # Podium (SQLite home) and Luigi side by side, only
        from podium.bench.peers import main_peers

        main_peers(console)
        return
    if "--loops" in sys.argv:  # W4 and W5 only, merged into bench-results.json
        main_loops(console, quick)
        return
    if "--validate" in sys.argv:  # definition validation only, merged into bench-results.json
        main_validate(console, quick)
        return
    results: dict[str, object] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    engine = run_engine_bench(quick=quick)
    results["engine"] = engine
    table = Table(title="Engine on the embedded runtime (DynamoDB on moto, in-process queues)")
    for col in (
        "workload",
        "steps",
        "wall s",
        "steps/s",
        "ms/step",
        "WCU/step",
        "RCU/step",
        "SQS req/step",
        "Lambda inv/step",
        "$/M steps",
    ):
        table.add_column(col, justify="right")
    for name, r in engine["embedded"].items():
        p = r["per_step"]
        table.add_row(
            name,
            str(r["steps"]),
            str(r["wall_seconds"]),
            str(r["steps_per_second"]),
            str(r["ms_per_step"]),
            str(p["dynamodb_write_units"]),
            str(p["dynamodb_read_units"]),
            str(p["sqs_requests"]),
            str(p["lambda_invocations"]),
            str(r["dollars_per_million_steps_requests"]),
        )
    console.print(table)
    console.print(
        f"engine CPU µs/step (memory adapters): {engine['engine_cpu_us_per_step']}, "
        f"flatness 10,000/100 = {engine['engine_cpu_flatness_10000_over_100']}"
    )
    # W1-W3 on the embedded default (the SQLite home); --peers adds Luigi beside it.
    from podium.bench.peers import print_peers, run_peers_bench

    sqlite_home = run_peers_bench(repeats=3, luigi=False)
    results["sqlite_home"] = sqlite_home
    print_peers(console, sqlite_home)
    from podium.bench.strategies import run_strategy_bench

    strategies = run_strategy_bench()
    results["strategies"] = strategies
    st = Table(title="Admission control: requests per run (20 runs of a one-step workflow)")
    for col in (
        "strategy",
        "WCU/run",
        "RCU/run",
        "SQS sends/run",
        "$/M runs",
        "DynamoDB calls/run",
    ):
        st.add_column(col)
    for r in strategies:
        calls = ", ".join(f"{k.split('.')[1]} {v}" for k, v in r["requests_per_run"].items())
        st.add_row(
            r["strategy"],
            str(r["write_units_per_run"]),
            str(r["read_units_per_run"]),
            str(r["sqs_sends_per_run"]),
            str(r["dollars_per_million_runs"]),
            calls,
        )
    console.print(st)
    try:
        from podium.bench.expressions import run_expression_bench
    except ImportError:
        pass
    else:
        expr = run_expression_bench()
        results["expressions"] = expr
        console.print_json(data=expr)
    results["validate"] = print_validate(console, quick)
    results["loops"] = print_loops(console, quick)
    Path("bench-results.json").write_text(json.dumps(results, indent=2) + "\n")
    console.print("wrote bench-results.json")


def print_validate(console: Console, quick: bool) -> dict[str, Any]:
    from podium.bench.validate import run_validate_bench

    validate = run_validate_bench(quick=quick)
    vt = Table(title=f"Validate a definition (podium validate / push), load {validate['loadavg']}")
    for col in ("shape", "steps", "wall s", "CPU s", "peak MiB", "process MiB", "text MiB"):
        vt.add_column(col, justify="right")
    for r in validate["rows"]:
        vt.add_row(
            r["shape"],
            f"{r['steps']:,}",
            str(r.get("seconds", r.get("error", "?"))),
            str(r.get("cpu_seconds", "")),
            str(r.get("peak_mib", "")),
            str(r.get("peak_rss_mib", "")),
            str(r.get("text_mib", "")),
        )
    console.print(vt)
    return validate


def main_validate(console: Console, quick: bool) -> None:
    path = Path("bench-results.json")
    results = json.loads(path.read_text()) if path.exists() else {}
    results["validate"] = print_validate(console, quick)
    path.write_text(json.dumps(results, indent=2) + "\n")
    console.print("wrote the validation figures into bench-results.json")


def print_loops(console: Console, quick: bool) -> dict[str, object]:
    from podium.bench.loops import run_loop_bench

    loops = run_loop_bench(quick=quick)
    lt = Table(title="Loops on the embedded default (SQLite home): W4 foreach, W5 nested")
    for col in ("workload", "steps", "wall s", "steps/s", "CPU µs/step (process)"):
        lt.add_column(col, justify="right")
    for name in ("W4", "W5"):
        r = loops[name]["embedded"]
        lt.add_row(
            name,
            f"{r['steps']:,}",
            str(r["wall_seconds"]),
            str(r["steps_per_second"]),
            str(r["process_cpu_us_per_step"]),
        )
    console.print(lt)
    console.print(
        f"W4 engine CPU µs/step (memory adapters): {loops['W4']['engine_cpu_us_per_step']}"
    )
    console.print_json(data={k: v for k, v in loops["W4"].items() if k.startswith("costs")})
    return loops


def main_loops(console: Console, quick: bool) -> None:
    path = Path("bench-results.json")
    results = json.loads(path.read_text()) if path.exists() else {}
    results["loops"] = print_loops(console, quick)
    path.write_text(json.dumps(results, indent=2) + "\n")
    console.print("wrote the loops figures into bench-results.json")


if __name__ == "__main__":
    main()
