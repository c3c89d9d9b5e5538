"""Loop benchmarks: W4, a foreach of 100,000 noop iterations with concurrency 1,000, and
W5, a 2-level nested foreach (100 x 100).

- wall time on the embedded default (a SQLite home on disk, the local runtime);
- engine CPU per iteration (Podium's own code: memory store and queues) at 1,000,
  10,000 and 100,000 iterations, and its flatness;
- AWS requests and dollars per million steps on DynamoDB (moto), counted and priced
  as W1-W3 are (engine.counting), on a smaller loop of W4's shape (W4_COST_SAMPLE:
  more iterations than its concurrency, so the loop relaunches iterations as earlier
  ones end, as W4 does for all but its first 1,000; moto makes a bigger loop slow) and
  on a W5 of 10 x 10. Lambda duration is priced at the embedded default's speed.

A "step" is an iteration's inner step plus the loop step itself (N + 1 for W4).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from podium.adapters.clock import ManualClock
from podium.bench.engine import (
    BATCH_SIZES,
    counting,
    deployed_runtime,
    duration_dollars,
    machine_load,
    now_iso,
)
from podium.local.runtime import LocalRuntime

# W4's cost sample, (iterations, concurrency): W4 (100,000 at 1,000: about 100 waves, 99%
# of its iterations launched as earlier ones end) scaled down to what moto runs in about
# two minutes: 4 waves of 100, 75% relaunched. The concurrency matters more than the
# waves: a loop relaunches in passes of a tenth of its concurrency (core/engine/loops.py),
# so at 20 a pass came every 2 ended iterations and the sample charged each iteration
# about 0.9 write more for relaunching than W4 pays; at 100, every 10.
# (2,000 at 1,000 had not ended after 10 minutes on moto, 2 cores at a load of about 9.)
W4_COST_SAMPLE = (400, 100)


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


def through_the_queues(n: int, concurrency: int) -> dict[str, Any]:
    """W4's shape whose iterations go through the queues, as any iteration whose body
    runs code does: a param on its noop keeps the body from ending as it starts
    (``CompiledWorkflow.ends_at_start``), so its iterations are not written already
    ended. What an iteration costs beyond its inner step's own work."""
    defn = foreach(n, concurrency)
    defn["name"] = f"w4q_{n}"
    defn["steps"][0]["steps"][0]["params"] = {"via": "the queues"}
    return defn


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
    name = defn["name"].replace("w4q_", "w4_")
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


def costs(defn: dict[str, Any], wall_seconds_per_step: float | None = None) -> dict[str, Any]:
    """Requests per step on DynamoDB (moto) and in-process queues, priced as W1-W3's
    (engine.counting), each queue delivered in a deployment's batches
    (engine.BATCH_SIZES). With ``wall_seconds_per_step`` (the embedded default's, from
    ``embedded_wall``), Lambda duration is priced at that speed too."""
    with deployed_runtime(clock=ManualClock()) as rt:
        rt.push(defn)
        with counting(rt) as (counter, requests):
            run = rt.start_run(defn["name"])
            rt.pump()
        status = rt.describe(run.run_id).run.status.value
    if status != "SUCCEEDED":
        raise RuntimeError(f"{defn['name']} ended {status}")
    steps = _steps_of(defn)
    dollars = requests.dollars(counter) / steps * 1e6
    writes = sum(
        n
        for op, n in counter.calls.items()
        if op.split(".")[1] in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems")
    )
    out: dict[str, Any] = {
        "workflow": defn["name"],
        "steps": steps,
        "batch_sizes": dict(BATCH_SIZES),
        "requests_by_kind": dict(counter.calls),
        "per_step": {
            "dynamodb_write_requests": round(writes / steps, 3),
            "dynamodb_write_units": round(counter.write_units / steps, 3),
            "dynamodb_read_units": round(counter.read_units / steps, 3),
            "sqs_requests": round(requests.sqs_requests / steps, 3),
            "lambda_invocations": round(requests.lambda_invocations / steps, 3),
            "eventbridge_events": round(requests.bus_events / steps, 3),
        },
        "dollars_per_million_steps_requests": round(dollars, 3),
    }
    if wall_seconds_per_step is not None:
        duration = duration_dollars(wall_seconds_per_step) * 1e6
        out["lambda_gb_seconds_dollars_per_million_steps_at_embedded_speed"] = round(duration, 3)
        out["dollars_per_million_steps_with_duration_at_embedded_speed"] = round(
            dollars + duration, 3
        )
    return out


def _with_duration(cost: dict[str, Any], wall: dict[str, Any]) -> dict[str, Any]:
    """``cost`` with Lambda duration priced at the embedded default's speed (``wall``,
    the bigger loop's run on the SQLite home): an estimate that moves with the machine's
    load, not AWS's duration, which adds a network round trip per request."""
    if "wall_seconds" in wall and "dollars_per_million_steps_requests" in cost:
        duration = duration_dollars(wall["wall_seconds"] / wall["steps"]) * 1e6
        cost["lambda_gb_seconds_dollars_per_million_steps_at_embedded_speed"] = round(duration, 3)
        cost["dollars_per_million_steps_with_duration_at_embedded_speed"] = round(
            cost["dollars_per_million_steps_requests"] + duration, 3
        )
    return cost


def run_loop_bench(quick: bool = False, biggest: int = 100_000) -> dict[str, Any]:
    started, before = now_iso(), machine_load()
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, biggest]
    cpu = {str(n): round(engine_cpu(foreach(n)), 1) for n in sizes}
    first, last = str(sizes[0]), str(sizes[-1])
    w4 = embedded_wall(foreach(sizes[-1]))
    w5 = embedded_wall(nested(10, 10) if quick else nested(100, 100))
    iterations, concurrency = W4_COST_SAMPLE
    w4_costs = {"concurrency": concurrency, **costs(foreach(iterations, concurrency))}
    queued = {"concurrency": concurrency, **costs(through_the_queues(iterations, concurrency))}
    w5_costs = costs(nested(10, 10))
    return {
        "measured_at": started,
        "loadavg_before": before,
        "loadavg_after": machine_load(),
        "W4": {
            "embedded": w4,
            "engine_cpu_us_per_step": cpu,
            f"engine_cpu_flatness_{last}_over_{first}": round(cpu[last] / cpu[first], 2),
            f"costs_at_{iterations}": _with_duration(w4_costs, w4),
            # Not timed on the embedded default: requests only.
            f"queued_costs_at_{iterations}": queued,
        },
        "W5": {
            "embedded": w5,
            "costs_at_10x10": _with_duration(w5_costs, w5),
        },
    }
