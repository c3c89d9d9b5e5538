"""Loop benchmarks: W4, a foreach of 100,000 noop iterations with concurrency 1,000, and
W5, a 2-level nested foreach (100 x 100).

- wall time on the embedded default (a SQLite home on disk, the local runtime);
- engine CPU per iteration (Podium's own code: memory store and queues) at 1,000,
  10,000 and 100,000 iterations, and its flatness;
- AWS requests and dollars per million steps on DynamoDB (moto), counted exactly as
  W1-W3 are (engine.RequestCounter), on a 200-iteration loop: every iteration makes
  the same requests, so the per-step cost does not depend on the loop's size (moto's
  transactions copy the table, which makes a bigger loop there slow, not dearer).

A "step" is an iteration's inner step plus the loop step itself (N + 1 for W4).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.bench.engine import PRICE, RequestCounter, _count_batches
from podium.local.runtime import LocalRuntime


def foreach(n: int, concurrency: int = 1_000) -> dict[str, Any]:
    return {
        "name": f"w4_{n}",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": f"${{podium.range(0, {n})}}"},
                "concurrency": concurrency,
                "steps": [{"id": "work", "type": "noop"}],
            }
        ],
    }


def nested(outer: int, inner: int, concurrency: int = 100) -> dict[str, Any]:
    return {
        "name": f"w5_{outer}x{inner}",
        "steps": [
            {
                "id": "outer",
                "type": "foreach",
                "over": {"a": f"${{podium.range(0, {outer})}}"},
                "concurrency": concurrency,
                "steps": [
                    {
                        "id": "inner",
                        "type": "foreach",
                        "over": {"b": f"${{podium.range(0, {inner})}}"},
                        "concurrency": concurrency,
                        "steps": [{"id": "work", "type": "noop"}],
                    }
                ],
            }
        ],
    }


def _steps_of(defn: dict[str, Any]) -> int:
    """Inner steps run plus loop steps (every iteration of an outer loop runs its
    inner loop step)."""
    name = defn["name"]
    if name.startswith("w5_"):
        outer, inner = (int(x) for x in name[3:].split("x"))
        return 1 + outer * (1 + inner)
    return 1 + int(name[3:])


def _run(rt: LocalRuntime, defn: dict[str, Any]) -> tuple[float, float]:
    rt.push(defn)
    t0, c0 = time.perf_counter(), time.process_time()
    run = rt.start_run(defn["name"])
    rt.pump()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    status = rt.describe(run.run_id).run.status.value
    if status != "SUCCEEDED":
        raise RuntimeError(f"{defn['name']} ended {status}")
    return wall, cpu


def embedded_wall(defn: dict[str, Any]) -> dict[str, Any]:
    """The embedded default: a SQLite home on disk, as `podium run` uses it."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        with LocalRuntime(store="sqlite", home=home, clock=ManualClock()) as rt:
            wall, cpu = _run(rt, defn)
    steps = _steps_of(defn)
    return {
        "workflow": defn["name"],
        "steps": steps,
        "wall_seconds": round(wall, 1),
        "steps_per_second": round(steps / wall, 1),
        "process_cpu_us_per_step": round(cpu / steps * 1e6, 1),
    }


def engine_cpu(defn: dict[str, Any]) -> float:
    """Microseconds of CPU per step in Podium's own code (memory store and queues)."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        _, cpu = _run(rt, defn)
    return cpu / _steps_of(defn) * 1e6


def costs(defn: dict[str, Any]) -> dict[str, Any]:
    """Requests per step on DynamoDB (moto) and in-process queues, priced."""
    from podium import bootstrap

    with LocalRuntime(clock=ManualClock()) as rt:
        rt.push(defn)
        side = bootstrap.aws_clients("us-east-1", embedded=True)["dynamodb"]
        counter = RequestCounter(side, "podium-state")
        events = rt.dynamodb.meta.events
        events.register("before-parameter-build.dynamodb", counter.before)
        events.register("after-call.dynamodb", counter.after)
        sent = rt.work_queue.send_requests + rt.event_queue.send_requests
        run = rt.start_run(defn["name"])
        batches = _count_batches(rt)
        events.unregister("before-parameter-build.dynamodb", counter.before)
        events.unregister("after-call.dynamodb", counter.after)
        send_requests = rt.work_queue.send_requests + rt.event_queue.send_requests - sent
        status = rt.describe(run.run_id).run.status.value
    if status != "SUCCEEDED":
        raise RuntimeError(f"{defn['name']} ended {status}")
    steps = _steps_of(defn)
    sqs = send_requests + 2 * batches  # sends, plus a receive and a delete per batch
    dollars = (
        counter.write_units * PRICE["dynamodb_wcu"]
        + counter.read_units * PRICE["dynamodb_rcu"]
        + sqs * PRICE["sqs_request"]
        + batches * PRICE["lambda_request"]
    )
    writes = sum(
        n
        for op, n in counter.calls.items()
        if op.split(".")[1] in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
    )
    return {
        "workflow": defn["name"],
        "steps": steps,
        "requests_by_kind": dict(counter.calls),
        "per_step": {
            "dynamodb_write_requests": round(writes / steps, 3),
            "dynamodb_write_units": round(counter.write_units / steps, 3),
            "dynamodb_read_units": round(counter.read_units / steps, 3),
            "sqs_requests": round(sqs / steps, 3),
            "lambda_invocations": round(batches / steps, 3),
        },
        "dollars_per_million_steps_requests": round(dollars / steps * 1e6, 3),
    }


def run_loop_bench(quick: bool = False, biggest: int = 100_000) -> dict[str, Any]:
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, biggest]
    cpu = {str(n): round(engine_cpu(foreach(n)), 1) for n in sizes}
    first, last = str(sizes[0]), str(sizes[-1])
    w4 = embedded_wall(foreach(sizes[-1]))
    w5 = embedded_wall(nested(10, 10) if quick else nested(100, 100))
    return {
        "W4": {
            "embedded": w4,
            "engine_cpu_us_per_step": cpu,
            f"engine_cpu_flatness_{last}_over_{first}": round(cpu[last] / cpu[first], 2),
            "costs_at_200": costs(foreach(200)),
        },
        "W5": {
            "embedded": w5,
            "costs_at_10x10": costs(nested(10, 10)),
        },
    }
