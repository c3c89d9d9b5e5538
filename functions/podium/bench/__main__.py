"""``scripts/bench``: measure speed and cost, print them, write bench-results.json."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from podium.bench.engine import BATCH_SIZES, machine_load, now_iso, run_engine_bench
from podium.bench.results import ResultsError, merge_into, read_results

RESULTS = Path("bench-results.json")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench",
        description=(
            "Measure Podium's speed and cost and print them. The full run measures the "
            "engine (W1-W3), the SQLite home, admission strategies, expressions, "
            "validation and the loops (W4, W5), and merges them into bench-results.json "
            "(sections it does not measure, such as peers, are kept)."
        ),
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--loops", action="store_true", help="W4 and W5 only, merged into bench-results.json"
    )
    mode.add_argument(
        "--validate",
        action="store_true",
        help="definition validation only, merged into bench-results.json",
    )
    mode.add_argument(
        "--strategies",
        action="store_true",
        help="the price of admission (run strategies) only, merged into bench-results.json",
    )
    mode.add_argument(
        "--peers",
        action="store_true",
        help="Podium (SQLite home) and Luigi side by side, merged into bench-results.json",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller workloads (W3 at 1,000, W4 at 10,000)"
    )
    return parser.parse_args(argv)


def merge_results(sections: dict[str, Any], path: Path = RESULTS) -> None:
    """Write ``sections`` into bench-results.json, keeping the sections this run did not
    measure (each says when it was measured, and under what load)."""
    merge_into(sections, path)


def main() -> None:
    args = parse_args(sys.argv[1:])
    try:
        # The file is checked before measuring (which takes up to half an hour), so a
        # file that cannot be merged into stops the bench before, not after.
        read_results(RESULTS)
        run(args)
    except ResultsError as exc:
        sys.exit(f"scripts/bench: {exc}")


def run(args: argparse.Namespace) -> None:
    quick = args.quick
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    console = Console(width=160)
    if args.peers:  # Podium (SQLite home) and Luigi side by side, only
        from podium.bench.peers import main_peers

        main_peers(console, RESULTS)
        return
    if args.loops:  # W4 and W5 only, merged into bench-results.json
        main_loops(console, quick)
        return
    if args.strategies:  # the price of admission only, merged into bench-results.json
        main_strategies(console)
        return
    if args.validate:  # definition validation only, merged into bench-results.json
        main_validate(console, quick)
        return
    results: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "measured_at": now_iso(),
            "loadavg_before": machine_load(),
            "quick": quick,
        },
    }
    engine = run_engine_bench(quick=quick)
    results["engine"] = engine
    table = Table(
        title="Engine on the embedded runtime (DynamoDB on moto, in-process queues), load "
        f"{engine.get('loadavg_before')} before, {engine.get('loadavg_after')} after; "
        f"{_batches(engine)}"
    )
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
        "events/step",
        "$/M steps (requests)",
        "+ GB-s at embedded speed",
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
            str(p.get("eventbridge_events", "")),
            str(r["dollars_per_million_steps_requests"]),
            str(r.get("lambda_gb_seconds_dollars_per_million_steps_at_embedded_speed", "")),
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
    results["strategies"] = print_strategies(console)
    try:
        from podium.bench.expressions import run_expression_bench
    except ImportError:
        pass
    else:
        before = machine_load()
        expr = run_expression_bench()
        results["expressions"] = {
            **expr,
            "loadavg_before": before,
            "loadavg_after": machine_load(),
        }
        console.print_json(data=expr)
    results["validate"] = print_validate(console, quick)
    results["loops"] = print_loops(console, quick)
    results["machine"]["loadavg_after"] = machine_load()  # type: ignore[index]
    merge_results(results)
    console.print("wrote bench-results.json")


def print_validate(console: Console, quick: bool) -> dict[str, Any]:
    from podium.bench.validate import run_validate_bench

    validate = run_validate_bench(quick=quick)
    vt = Table(
        title="Validate a definition (podium validate / push), load "
        f"{validate.get('loadavg_before', validate.get('loadavg'))} before, "
        f"{validate.get('loadavg_after')} after"
    )
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
    merge_results({"validate": print_validate(console, quick)})
    console.print("wrote the validation figures into bench-results.json")


def _batches(section: dict[str, Any]) -> str:
    """Which batch sizes a section's costs assume (a deployment's, engine.BATCH_SIZES)."""
    sizes = section.get("batch_sizes", BATCH_SIZES)
    return f"Lambda batches of {sizes['work']} (work), {sizes['events']} (advance)"


def print_loops(console: Console, quick: bool) -> dict[str, object]:
    from podium.bench.loops import run_loop_bench

    loops = run_loop_bench(quick=quick)
    lt = Table(
        title="Loops on the embedded default (SQLite home): W4 foreach, W5 nested, load "
        f"{loops.get('loadavg_before')} before, {loops.get('loadavg_after')} after"
    )
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
    for name in ("W4", "W5"):
        console.print(name)
        costs = {k: v for k, v in loops[name].items() if "costs_at_" in k}
        console.print_json(data=costs)
    return loops


def print_strategies(console: Console) -> list[dict[str, Any]]:
    """The price of admission per run strategy (cost only: no timed figure)."""
    from podium.bench.strategies import run_strategy_bench

    strategies = run_strategy_bench()
    st = Table(
        title="Admission control: requests per run (20 runs of a one-step workflow); "
        + _batches(strategies[0] if strategies else {})
    )
    for col in (
        "strategy",
        "WCU/run",
        "RCU/run",
        "SQS req/run",
        "Lambda inv/run",
        "events/run",
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
            str(r.get("sqs_requests_per_run", "")),
            str(r.get("lambda_invocations_per_run", "")),
            str(r.get("eventbridge_events_per_run", "")),
            str(r["dollars_per_million_runs"]),
            calls,
        )
    console.print(st)
    return strategies


def main_strategies(console: Console) -> None:
    merge_results({"strategies": print_strategies(console)})
    console.print("wrote the strategies figures into bench-results.json")


def main_loops(console: Console, quick: bool) -> None:
    merge_results({"loops": print_loops(console, quick)})
    console.print("wrote the loops figures into bench-results.json")


if __name__ == "__main__":
    main()
