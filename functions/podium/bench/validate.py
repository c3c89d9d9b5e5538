"""Validation benchmark: seconds and peak memory to validate big definitions.

    from podium.bench.validate import run_validate_bench
    report = run_validate_bench()

Each case runs in a fresh subprocess, so its peak memory is its own (``peak_mib``: the
growth of the peak RSS during validation; ``peak_rss_mib``: the whole process, interpreter
and text included). The definition is built as JSON text, then parsed and validated
(`parse_document` + `validate_definition`, which also compiles and checks every
expression), as `podium validate` and a push do.
Shapes: a chain (each step depends on the one before), a fan-out (every step depends on
one root) and a chain whose every edge has a `when:` reading the first step's output
(the case that made the old ancestor sets quadratic), and the chain again as YAML text
(libyaml's parser, then PyYAML's constructor, with the repeated-key and alias checks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from podium.bench.engine import machine_load, now_iso

SIZES = (1_000, 10_000, 100_000)
SHAPES = ("chain", "fanout", "chain_when", "chain_yaml")

_CHILD = r"""
import json, sys, time, resource

def vm(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0

shape, n = sys.argv[1], int(sys.argv[2])

def step(i):
    if shape == "chain_yaml":
        return f"- {{id: s{i}, type: noop, depends_on: [s{i - 1}]}}"
    if shape == "chain":
        dep = f'"s{i - 1}"'
    elif shape == "fanout":
        dep = '"s0"'
    else:
        dep = f'{{"step": "s{i - 1}", "when": "steps.s0.output != null"}}'
    return f'{{"id": "s{i}", "type": "noop", "depends_on": [{dep}]}}'

# Built as text, so no Python copy of the document is alive before the measurement.
if shape == "chain_yaml":
    text = ("name: bench\nsteps:\n- {id: s0, type: noop}\n"
            + "\n".join(step(i) for i in range(1, n)) + "\n")
else:
    text = ('{"name": "bench", "steps": [{"id": "s0", "type": "noop"}, '
            + ", ".join(step(i) for i in range(1, n)) + "]}")
from podium.core.dsl.load import parse_document, validate_definition
from podium.core.dsl.expressions import WorkflowExpressions
base = vm("VmRSS")
wall, cpu = time.perf_counter(), time.process_time()
defn = validate_definition(parse_document(text))
WorkflowExpressions.of(defn)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                  "peak_mib": round((vm("VmHWM") - base) / 2**20, 1),
                  "peak_rss_mib": round(vm("VmHWM") / 2**20, 1),
                  "text_mib": round(len(text) / 2**20, 2)}))
"""


def validate_case(shape: str, steps: int, timeout: float = 600) -> dict[str, Any]:
    """One case's figures, or an ``error`` row when it crashed or outlived ``timeout``
    seconds (the other cases, and the rest of the bench, still run)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, shape, str(steps)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:  # the child is killed by then
        return {"shape": shape, "steps": steps, "error": f"timed out after {timeout:g} s"}
    if out.returncode != 0:
        return {"shape": shape, "steps": steps, "error": out.stderr.strip()[-500:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return {"shape": shape, "steps": steps, **result}


def run_validate_bench(quick: bool = False) -> dict[str, Any]:
    sizes = SIZES[:2] if quick else SIZES
    started, before = now_iso(), machine_load()
    rows = [validate_case(shape, n) for n in sizes for shape in SHAPES]
    return {
        "measured_at": started,
        "loadavg_before": before,
        "loadavg_after": machine_load(),
        "cpus": os.cpu_count(),
        "rows": rows,
    }


if __name__ == "__main__":
    print(json.dumps(run_validate_bench("--quick" in sys.argv), indent=2))
