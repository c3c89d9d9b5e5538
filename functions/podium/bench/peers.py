"""``scripts/bench --peers``: Podium's embedded default (the SQLite home, durable on disk)
and Luigi side by side in one run, on the engine workloads W1-W3 of no-op steps; and the
console's run view of a 10,000-step run (API response time and size).

Luigi runs in its own venv (``build/peers-venv``, made with pip when missing), never in
Podium's: ``luigi_peer.py`` is its side. Each figure is the median of ``repeats`` runs,
taken alternately, so a burst of load on a shared machine hits both sides alike.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from podium.bench.engine import chain, fan, machine_load, wide
from podium.bench.results import merge_into, read_results
from podium.local.runtime import LocalRuntime

PEERS_VENV = Path("build/peers-venv")
LUIGI_SCRIPT = Path(__file__).with_name("luigi_peer.py")
TARGET_RATIO = 0.2  # Podium at most one fifth of Luigi's time per step
CONSOLE_STEPS = 10_000


def workloads() -> dict[str, dict[str, Any]]:
    """W1-W3 as engine.py defines them (W3 at its --quick size, 1,000 steps)."""
    return {"W1": chain(100), "W2": fan(500), "W3": wide(1_000)}


# -- Podium -----------------------------------------------------------------------------
def podium_once(defn: dict[str, Any], workers: int = 1) -> dict[str, Any]:
    """ms of orchestration per no-op step: start_run until the run ended, on a fresh home."""
    with (
        tempfile.TemporaryDirectory(prefix="podium-bench-") as home,
        LocalRuntime(store="sqlite", home=home, workers=workers) as rt,
    ):
        rt.push(defn)
        t0 = time.perf_counter()
        run = rt.start_run(defn["name"])
        rt.pump()
        wall = time.perf_counter() - t0
        view = rt.describe(run.run_id)
    if view.run.status.value != "SUCCEEDED":
        raise RuntimeError(f"{defn['name']}: the run ended {view.run.status.value}")
    return {"steps": len(view.steps), "ms_per_step": wall * 1000 / len(view.steps)}


# -- Luigi ------------------------------------------------------------------------------
def luigi_python(venv: Path = PEERS_VENV, *, install: bool = True) -> Path | None:
    """The peers venv's Python with Luigi importable; made (venv + pip) when missing."""
    python = venv / "bin" / "python"
    if _has_luigi(python):
        return python
    if not install:
        return None
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "luigi"], check=True)
    return python if _has_luigi(python) else None


def _has_luigi(python: Path) -> bool:
    if not python.exists():
        return False
    probe = subprocess.run([str(python), "-c", "import luigi"], capture_output=True)
    return probe.returncode == 0


def luigi_once(python: Path, defn: dict[str, Any]) -> dict[str, Any]:
    dag = {s["id"]: list(s.get("depends_on", [])) for s in defn["steps"]}
    done = subprocess.run(
        [str(python), str(LUIGI_SCRIPT)],
        input=json.dumps(dag),
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "steps": out["steps"],
        "ms_per_step": out["wall_seconds"] * 1000 / out["steps"],
        "version": out["luigi"],
    }


# -- the console's run view at 10,000 steps ----------------------------------------------
def console_run_view(steps: int = CONSOLE_STEPS, repeats: int = 3) -> dict[str, Any]:
    """The console's views of a finished 10,000-step run, for two shapes: 50 parallel
    chains (W3's shape) and one fan-out with a join (look-alike siblings fold into one
    graph node)."""
    return {
        "wide": console_views_of(wide(steps), repeats),
        "fan": console_views_of(fan(steps - 2), repeats),
    }


def console_views_of(defn: dict[str, Any], repeats: int) -> dict[str, Any]:
    """A finished run on the SQLite home, then its views through ``podium dev``'s HTTP
    server (the same JSON the deployed API serves): median ms and bytes."""
    from podium.local.dev_server import DevServer

    with (
        tempfile.TemporaryDirectory(prefix="podium-bench-") as home,
        LocalRuntime(store="sqlite", home=home, virtual_time=False) as rt,
    ):
        rt.push(defn)
        run = rt.start_run(defn["name"])
        rt.pump()
        with DevServer(rt, port=0) as server:
            out: dict[str, Any] = {"workflow": defn["name"], "steps": len(defn["steps"])}
            for name, path in (
                ("run_page", f"/api/console/runs/{run.run_id}"),
                ("run_list", "/api/console/runs"),
                ("step_detail", f"/api/console/runs/{run.run_id}/step?name=root"),
            ):
                times, size = [], 0
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(server.url + path, timeout=120) as response:
                        body = response.read()
                    times.append((time.perf_counter() - t0) * 1000)
                    size = len(body)
                out[name] = {"ms": round(statistics.median(times), 1), "bytes": size}
            page = json.loads(body_of(server.url + f"/api/console/runs/{run.run_id}"))
            out["run_page"]["steps_listed"] = len(page["steps"]["items"])
            graph = page["graph"]
            out["run_page"]["graph_nodes"] = len(graph.get("nodes", []))
            out["run_page"]["graph_too_large"] = bool(graph.get("too_large"))
            out["run_page"]["counts"] = page["counts"]
    return out


def body_of(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return bytes(response.read())


# -- the whole comparison -----------------------------------------------------------------
def run_peers_bench(repeats: int = 5, *, luigi: bool = True) -> dict[str, Any]:
    python = luigi_python() if luigi else None
    before = machine_load()
    rows: dict[str, Any] = {}
    for name, defn in workloads().items():
        ours: list[float] = []
        theirs: list[float] = []
        row: dict[str, Any] = {"workflow": defn["name"]}
        for _ in range(repeats):
            p = podium_once(defn)
            ours.append(p["ms_per_step"])
            row["steps"] = p["steps"]
            if python is not None:
                lu = luigi_once(python, defn)
                theirs.append(lu["ms_per_step"])
                row["luigi_version"] = lu["version"]
        row["podium_ms_per_step"] = round(statistics.median(ours), 3)
        row["podium_runs_ms_per_step"] = [round(x, 3) for x in ours]
        if theirs:
            row["luigi_ms_per_step"] = round(statistics.median(theirs), 3)
            row["luigi_runs_ms_per_step"] = [round(x, 3) for x in theirs]
            ratio = row["podium_ms_per_step"] / row["luigi_ms_per_step"]
            row["ratio_to_luigi"] = round(ratio, 3)
            row["meets_target"] = ratio <= TARGET_RATIO
        rows[name] = row
    console = console_run_view()
    return {
        "podium": "LocalRuntime(store='sqlite'), a fresh home on disk per run, 1 worker",
        "luigi": "local scheduler, 1 worker, tasks complete in memory (no output targets)",
        "target_ratio": TARGET_RATIO,
        "repeats": repeats,
        "loadavg_before": before,
        "loadavg_after": machine_load(),
        "cpus": os.cpu_count(),
        "workloads": rows,
        "console_run_view": console,
    }


def print_peers(console: Any, result: dict[str, Any]) -> None:
    from rich.table import Table

    load = " ".join(str(x) for x in result["loadavg_before"])
    table = Table(
        title=f"No-op steps, ms of orchestration per step (median of {result['repeats']};"
        f" load {load})"
    )
    for col in ("workload", "steps", "Podium (SQLite home)", "Luigi", "ratio", "≤ 1/5"):
        table.add_column(col, justify="right")
    for name, row in result["workloads"].items():
        table.add_row(
            name,
            f"{row['steps']:,}",
            str(row["podium_ms_per_step"]),
            str(row.get("luigi_ms_per_step", "-")),
            str(row.get("ratio_to_luigi", "-")),
            {True: "yes", False: "no"}.get(row.get("meets_target"), "-"),
        )
    console.print(table)
    views = Table(title="Console views of a finished 10,000-step run (podium dev, SQLite home)")
    for col in ("shape", "run page ms", "run page KB", "run list ms", "step detail ms"):
        views.add_column(col, justify="right")
    for shape, v in result["console_run_view"].items():
        views.add_row(
            shape,
            str(v["run_page"]["ms"]),
            str(round(v["run_page"]["bytes"] / 1024, 1)),
            str(v["run_list"]["ms"]),
            str(v["step_detail"]["ms"]),
        )
    console.print(views)


def main_peers(console: Any, results_path: Path = Path("bench-results.json")) -> None:
    """``scripts/bench --peers``: only this comparison, merged into bench-results.json
    (a file that cannot be merged into is refused before measuring: ResultsError)."""
    read_results(results_path)
    result = run_peers_bench()
    print_peers(console, result)
    merge_into({"peers": result}, results_path)
    console.print(f"wrote the peers section of {results_path}")
