"""Engine benchmarks W1-W3: wall time on the embedded runtime, AWS requests per step,
dollars per million steps, and engine CPU per step with the in-memory adapters."""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime

# docs/cost.md: published on-demand prices (us-east-1, arm64 Lambda).
PRICE = {
    "dynamodb_wcu": 0.625 / 1e6,
    "dynamodb_rcu": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000133334,
}
LAMBDA_MEMORY_GB = 0.25
STEP_FUNCTIONS_PER_MILLION = 25.0


def chain(n: int) -> dict[str, Any]:
    return {
        "name": f"w1_chain_{n}",
        "steps": [
            {"id": f"s{i}", "type": "noop", **({"depends_on": [f"s{i - 1}"]} if i else {})}
            for i in range(n)
        ],
    }


def fan(n: int) -> dict[str, Any]:
    return {
        "name": f"w2_fan_{n}",
        "steps": [
            {"id": "root", "type": "noop"},
            *({"id": f"p{i}", "type": "noop", "depends_on": ["root"]} for i in range(n)),
            {"id": "join", "type": "noop", "depends_on": [f"p{i}" for i in range(n)]},
        ],
    }


def wide(n: int, branches: int = 50) -> dict[str, Any]:
    """n steps: a root, ``branches`` parallel chains, no join (W3)."""
    per = (n - 1) // branches
    steps: list[dict[str, Any]] = [{"id": "root", "type": "noop"}]
    for b in range(branches):
        for i in range(per):
            steps.append(
                {
                    "id": f"c{b}_{i}",
                    "type": "noop",
                    "depends_on": ["root" if i == 0 else f"c{b}_{i - 1}"],
                }
            )
    while len(steps) < n:
        steps.append({"id": f"x{len(steps)}", "type": "noop", "depends_on": ["root"]})
    return {"name": f"w3_wide_{n}", "steps": steps}


class RequestCounter:
    """Counts AWS requests by service and operation with botocore event hooks."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.write_units = 0
        self.read_units = 0

    def hook(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = model.name
        self.calls[f"dynamodb.{op}"] += 1
        if op in ("PutItem", "UpdateItem", "DeleteItem"):
            self.write_units += 1  # every hot item stays under 1 KB
        elif op == "TransactWriteItems":
            self.write_units += 2 * len(params.get("TransactItems", []))
        elif op == "GetItem":
            self.read_units += 1  # consistent: 1 unit up to 4 KB (eventual would be 0.5)
        elif op == "Query":
            self.read_units += 1


def measure_embedded(defn: dict[str, Any]) -> dict[str, Any]:
    counter = RequestCounter()
    with LocalRuntime(clock=ManualClock()) as rt:
        rt.dynamodb.meta.events.register("before-call.dynamodb", counter.hook)
        rt.push(defn)
        counter.calls.clear()
        counter.write_units = counter.read_units = 0
        work_sent, event_sent = rt.work_queue.send_requests, rt.event_queue.send_requests
        t0 = time.perf_counter()
        run = rt.start_run(defn["name"])
        deliveries_before = rt.delivered
        batches = _count_batches(rt)
        wall = time.perf_counter() - t0
        view = rt.describe(run.run_id)
        send_requests = (rt.work_queue.send_requests - work_sent) + (
            rt.event_queue.send_requests - event_sent
        )
        deliveries = rt.delivered - deliveries_before
    steps = len(view.steps)
    assert view.run.status.value == "SUCCEEDED", view.run
    # SQS: send requests (a batch of up to 10 messages is one), plus one receive and one
    # delete per Lambda batch.
    sqs_requests = send_requests + 2 * batches
    per_step = {
        "dynamodb_write_units": counter.write_units / steps,
        "dynamodb_read_units": counter.read_units / steps,
        "sqs_requests": sqs_requests / steps,
        "lambda_invocations": batches / steps,
    }
    lambda_seconds = wall  # the engine's own time, all on Lambda in a deployment
    dollars = (
        (
            counter.write_units * PRICE["dynamodb_wcu"]
            + counter.read_units * PRICE["dynamodb_rcu"]
            + sqs_requests * PRICE["sqs_request"]
            + batches * PRICE["lambda_request"]
        )
        / steps
        * 1e6
    )
    return {
        "workflow": defn["name"],
        "steps": steps,
        "wall_seconds": round(wall, 3),
        "steps_per_second": round(steps / wall, 1),
        "ms_per_step": round(wall * 1000 / steps, 3),
        "sqs_send_requests": send_requests,
        "deliveries": deliveries,
        "requests_by_kind": dict(counter.calls),
        "per_step": {k: round(v, 3) for k, v in per_step.items()},
        "dollars_per_million_steps_requests": round(dollars, 3),
        "lambda_gb_seconds_per_million_steps_if_embedded_speed": round(
            lambda_seconds / steps * 1e6 * LAMBDA_MEMORY_GB * PRICE["lambda_gb_second"], 3
        ),
    }


def _count_batches(rt: LocalRuntime) -> int:
    """Pump, counting handler invocations (each one Lambda invocation of a batch)."""
    batches = 0
    original = rt._invoke

    def counting(handler: Any, batch: Any, context: Any) -> set[str]:
        nonlocal batches
        batches += 1
        return original(handler, batch, context)

    rt._invoke = counting  # type: ignore[method-assign]
    try:
        rt.pump()
    finally:
        rt._invoke = original  # type: ignore[method-assign]
    return batches


def engine_cpu(defn: dict[str, Any]) -> float:
    """Microseconds of CPU per step in Podium's own code (memory store and queues)."""
    with LocalRuntime(clock=ManualClock(), store="memory") as rt:
        rt.push(defn)
        t0 = time.process_time()
        run = rt.start_run(defn["name"])
        rt.pump()
        cpu = time.process_time() - t0
        view = rt.describe(run.run_id)
    return cpu / len(view.steps) * 1e6


def run_engine_bench(quick: bool = False) -> dict[str, Any]:
    sizes = {"W1": chain(100), "W2": fan(500), "W3": wide(1_000 if quick else 10_000)}
    embedded = {name: measure_embedded(defn) for name, defn in sizes.items()}
    cpu = {
        str(n): round(engine_cpu(wide(n, branches=max(1, min(50, n // 20)))), 1)
        for n in (100, 1_000, 10_000)
    }
    ratio = cpu["10000"] / cpu["100"] if cpu["100"] else math.nan
    return {
        "embedded": embedded,
        "engine_cpu_us_per_step": cpu,
        "engine_cpu_flatness_10000_over_100": round(ratio, 2),
        "step_functions_dollars_per_million": STEP_FUNCTIONS_PER_MILLION,
    }
