"""What admission control costs: AWS requests per run under each run strategy.

Each strategy starts 20 runs of a one-step workflow at once on the embedded runtime and
counts every DynamoDB request (exact write and read units), SQS request (sends, and a
receive and a delete per Lambda batch, in a deployment's batch sizes), Lambda invocation
and EventBridge event per run, priced as the engine's workloads are (engine.counting).
The step itself costs the same under every strategy, so the differences between rows
are the price of the strategy."""

from __future__ import annotations

from typing import Any

from podium.adapters.clock import ManualClock
from podium.bench.engine import BATCH_SIZES, counting, deployed_runtime

RUNS = 20
STRATEGIES: dict[str, Any] = {
    "parallel_1000": {"parallel": 1000},
    "sequential": "sequential",
    "strict_sequential": "strict_sequential",
    "first_only": "first_only",
    "last_only": "last_only",
}


def measure_strategy(name: str, strategy: Any) -> dict[str, Any]:
    defn = {"name": f"s_{name}", "run_strategy": strategy, "steps": [{"id": "a", "type": "noop"}]}
    with deployed_runtime(clock=ManualClock()) as rt:
        rt.push(defn)
        with counting(rt) as (counter, requests):
            for _ in range(RUNS):
                rt.start_run(defn["name"])
            rt.pump()
    dollars = requests.dollars(counter) / RUNS * 1e6
    return {
        "strategy": name,
        "runs": RUNS,
        "batch_sizes": dict(BATCH_SIZES),
        "requests_per_run": {k: round(v / RUNS, 2) for k, v in sorted(counter.calls.items())},
        "write_units_per_run": round(counter.write_units / RUNS, 2),
        "read_units_per_run": round(counter.read_units / RUNS, 2),
        "sqs_sends_per_run": round(requests.send_requests / RUNS, 2),
        "sqs_requests_per_run": round(requests.sqs_requests / RUNS, 2),
        "lambda_invocations_per_run": round(requests.lambda_invocations / RUNS, 2),
        "eventbridge_events_per_run": round(requests.bus_events / RUNS, 2),
        "dollars_per_million_runs": round(dollars, 2),
    }


def run_strategy_bench() -> list[dict[str, Any]]:
    return [measure_strategy(name, strategy) for name, strategy in STRATEGIES.items()]
