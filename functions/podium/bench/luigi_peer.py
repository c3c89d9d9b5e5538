"""Luigi's side of ``scripts/bench --peers``, run by the peers venv's Python (Luigi is
never a dependency of Podium): ``python luigi_peer.py < dag.json`` prints
``{"steps", "wall_seconds"}``.

The DAG (``{step: [its dependencies]}``) becomes one no-op Luigi task per step, complete
once it ran (kept in memory, no output targets), built with the local scheduler and one
worker. The clock covers ``luigi.build``: dependency resolution, scheduling and running.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import luigi  # type: ignore[import-not-found,unused-ignore]

DAG: dict[str, list[str]] = {}
DONE: set[str] = set()


class Step(luigi.Task):  # type: ignore[misc,unused-ignore]
    sid = luigi.Parameter()

    def requires(self) -> list[Any]:
        return [Step(sid=d) for d in DAG[self.sid]]

    def complete(self) -> bool:
        return self.sid in DONE

    def run(self) -> None:
        DONE.add(self.sid)


def main() -> None:
    DAG.update(json.load(sys.stdin))
    needed = {d for deps in DAG.values() for d in deps}
    sinks = [Step(sid=s) for s in DAG if s not in needed]
    logging.getLogger("luigi-interface").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    ok = luigi.build(sinks, local_scheduler=True, workers=1, log_level="WARNING", no_lock=True)
    wall = time.perf_counter() - t0
    if not ok or len(DONE) != len(DAG):
        raise SystemExit(f"luigi ran {len(DONE)} of {len(DAG)} steps (ok={ok})")
    print(json.dumps({"steps": len(DONE), "wall_seconds": wall, "luigi": luigi.__version__}))


if __name__ == "__main__":
    main()
