"""``python -m podium.sim --seeds A:B [--store memory|moto] [--shapes a,b|callbacks]
[--actions] [--json]``.

Prints ``{"seeds": N, "violations": {...}, "failing_seeds": [...]}``. ``--explain SEED``
replays one seed and prints its violations and its interleaving (every call, crash,
throttle, lost reply, delivery and clock jump).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from podium.sim.faults import INJECTED
from podium.sim.harness import factory_for
from podium.sim.shapes import SHAPES
from podium.sim.simulate import SHAPE_SETS, Simulator, resolve_mix, simulate


def _seeds(text: str) -> range:
    start, sep, end = text.partition(":")
    if not sep:
        return range(int(start), int(start) + 1)
    return range(int(start), int(end))


class _NotInjected(logging.Filter):
    """Drops the tracebacks a handler logs for a fault the simulation injected (a crash,
    a throttle, a lost reply: the sweeper logs each check it could not finish), so the
    output shows what matters; ``--explain`` lists every fault in its trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, INJECTED)


def _quiet_injected_faults() -> None:
    quiet = _NotInjected()
    handlers: list[logging.Handler | None] = [*logging.getLogger().handlers]
    for handler in handlers or [logging.lastResort]:
        if handler is not None:  # lastResort may be unset
            handler.addFilter(quiet)


def main(argv: list[str] | None = None) -> int:
    _quiet_injected_faults()
    parser = argparse.ArgumentParser(prog="podium.sim", description=__doc__)
    parser.add_argument("--seeds", default="0:100", help="A:B, a half-open range")
    parser.add_argument("--store", default="memory", choices=("memory", "moto"))
    parser.add_argument(
        "--shapes",
        default="default",
        help=f"shapes and named sets ({', '.join(SHAPE_SETS)}), comma separated; shapes:"
        f" {sorted(SHAPES)}",
    )
    parser.add_argument("--json", action="store_true", help="print only the JSON object")
    parser.add_argument("--explain", type=int, help="replay one seed with its full trace")
    parser.add_argument(
        "--intensity", type=float, default=1.0, help="scale crash/throttle/loss/dup rates"
    )
    parser.add_argument(
        "--actions",
        action="store_true",
        help="operators act at random moments too (pause, retry, stop, kill, restart, skip)",
    )
    args = parser.parse_args(argv)
    mix = resolve_mix(args.shapes)
    if args.explain is not None:
        factory = factory_for(args.store)
        with factory.session():
            sim = Simulator(factory, mix, args.intensity, actions=args.actions)
            result = sim.run_seed(args.explain, trace=True)
        print(f"seed {result.seed}: shape {result.shape}")
        for line in result.trace or []:
            print("  " + line)
        for line in result.verdict.details:
            print("VIOLATION " + line)
        return 1 if result.verdict.violations else 0
    report = simulate(_seeds(args.seeds), args.store, mix, args.intensity, actions=args.actions)
    out = report.as_json()
    if args.json:
        print(json.dumps(out))
    else:
        print(json.dumps(out))
        rate = report.seeds / report.seconds if report.seconds else 0.0
        print(f"{report.seeds} seeds in {report.seconds:.1f} s ({rate:.0f}/s)", file=sys.stderr)
        for result in report.results[:20]:
            print(
                f"seed {result.seed} ({result.shape}; replay: --explain {result.seed}"
                f" --shapes {result.shape}{' --actions' if args.actions else ''}):",
                file=sys.stderr,
            )
            for line in result.verdict.details[:5]:
                print(f"  {line}", file=sys.stderr)
    return 1 if report.failing_seeds else 0


if __name__ == "__main__":
    sys.exit(main())
