"""``scripts/fuzz``: expression safety as a measured property.

Generates expressions (and some templates) of three families:

- **grammar**: random well-formed trees over the language (literals, names, operators,
  macros, functions, conversions, timestamps, regexes);
- **soup**: random sequences of the language's tokens and a few stray characters;
- **adversarial**: deep nesting, long escape runs and unterminated strings, big and
  nested comprehensions, regexes with backtracking shapes over long texts, int64
  overflow, lone surrogates (raw and escaped), very long inputs, growing strings and
  lists, out-of-range timestamps and durations.

Each case is compiled and evaluated in a worker subprocess that handles one batch of
cases at a time; the parent watches the wall clock and kills a worker that stays on one
case past the guard. Outcomes:

- **escape**: any exception other than ``ExpressionError`` (a bug: callers only expect
  ``ExpressionError``);
- **hang**: a case over 1 s (or killed by the guard);
- **slow**: a case over 100 ms;
- **crash**: the worker died (a segfault, the OOM killer).

    python -m podium.bench.fuzz --cases 100000 --seed 1 [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

HANG_SECONDS = 1.0
SLOW_SECONDS = 0.1
GUARD_SECONDS = 10.0  # the parent kills a worker that spends this long on one case
STARTUP_SECONDS = 120.0  # for a worker to import Podium and read its batch

BINDINGS: dict[str, Any] = {
    "params": {
        "env": "prod",
        "n": 3,
        "big": 2**62,
        "neg": -(2**63),
        "ratio": 0.5,
        "flag": True,
        "s": "abc" * 10,
        "long": "ab" * 50_000,
        "rows": list(range(100)),
        "words": [f"w{i}" for i in range(50)],
        "m": {"a": 1, "b": [1, 2, 3], "c": {"d": "e"}},
        "none": None,
    },
    "steps": {
        "a": {"output": {"rows": [{"id": i, "key": f"k{i}"} for i in range(20)], "x": 1}},
        "b": {"output": None},
    },
    "run": {
        "id": "r-1",
        "workflow": "wf",
        "version": 1,
        "start_time": "2024-05-01T10:00:00Z",
        "logical_date": "2024-05-01",
    },
}

# ---- generators ----------------------------------------------------------------------

NAMES = [
    "params.env",
    "params.n",
    "params.big",
    "params.neg",
    "params.ratio",
    "params.flag",
    "params.s",
    "params.long",
    "params.rows",
    "params.words",
    "params.m",
    "params.m.c.d",
    "params.none",
    "params.missing",
    "steps.a.output",
    "steps.a.output.rows",
    "steps.b.output",
    "run.id",
    "run.start_time",
    "run.logical_date",
    "x",
    "unknown",
]
BINARY = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "in"]
FUNCS1 = [
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "timestamp",
    "duration",
    "dyn",
]
METHODS = [
    ("contains", 1),
    ("startsWith", 1),
    ("endsWith", 1),
    ("matches", 1),
    ("size", 0),
    ("getFullYear", 0),
    ("getHours", 1),
]
MACROS = ["all", "exists", "exists_one", "map", "filter"]
TOKENS = [
    *BINARY,
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "?",
    ".",
    "!",
    "-",
    "1",
    "0",
    "-1",
    "1u",
    "1.5",
    "1e308",
    "9223372036854775807",
    "'s'",
    '"s"',
    "b'x'",
    "r'\\d'",
    "'''",
    '"',
    "'",
    "\\",
    "`a`",
    "true",
    "false",
    "null",
    "x",
    "params",
    "steps",
    "has",
    "all",
    "map",
    "filter",
    "size",
    "matches",
    "timestamp",
    "podium.format",
    "podium.dateRange",
    "if",
    "and",
    "=",
    "&",
    "|",
    "$",
    "#",
    "@",
    "${",
    "//",
    "\n",
    "\t",
    "\ud800",
    "\u00e9",
    "\U0001f600",
]
REGEXES = [
    "(a+)+$",
    "(a|a)*b",
    "(a|aa)+c",
    "(.*){20}x",
    "(.{1,20}){50}z",
    "a.{0,900}b",
    "^(\\w+\\s?)*$",
    "(x+x+)+y",
    "[ab]*a[ab]{30}c",
    "((a{1,10}){1,10}){1,10}d",
    "(?:a?){100}a{100}",
    "\\p{L}+\\d*",
    "(?i)ABC|def",
    "[",
    "(?P<n>a)(?P=n)",
    "a{1001}",
    "(a{100}){100}",
]
DATES = "podium.dateRange(timestamp('2000-01-01T00:00:00Z'), timestamp('2002-09-26T00:00:00Z'))"


def _literal(rng: random.Random) -> str:
    kind = rng.randrange(12)
    if kind == 0:
        return str(rng.choice([0, 1, -1, 7, 2**31, 2**62, 2**63 - 1, 2**63, 2**64]))
    if kind == 1:
        return f"{rng.randrange(0, 2**64)}u"
    if kind == 2:
        return rng.choice(["1.5", "0.0", "1e308", "1e-308", ".5", "2.0", "-0.0"])
    if kind == 3:
        chars = "ab\\'\"nxu01\u00e9 "
        body = "".join(rng.choice(chars) for _ in range(rng.randrange(0, 12)))
        return "'" + body.replace("'", "\\'") + "'"
    if kind == 4:
        return rng.choice(["b'abc'", "b'\\xff'", "b''", "b'\\000'"])
    if kind == 5:
        return rng.choice(["true", "false", "null"])
    if kind == 6:
        return rng.choice(["'\\u00e9'", "'\\U0001F600'", "'\\x41'", "'\\101'", "r'\\d+'"])
    if kind == 7:
        return rng.choice(["timestamp('2024-05-01T00:00:00Z')", "duration('1h30m')"])
    if kind == 8:
        return rng.choice(["[]", "{}", "[1, 2, 3]", "{'a': 1}", "['x', 'y']"])
    if kind == 9:
        return rng.choice(["int", "string", "list", "map", "null_type", "bool"])
    return rng.choice(NAMES)


def grammar_expr(rng: random.Random, depth: int = 0) -> str:
    if depth > rng.randrange(2, 7):
        return _literal(rng)
    kind = rng.randrange(14)

    def sub() -> str:
        return grammar_expr(rng, depth + 1)

    if kind <= 2:
        return f"{sub()} {rng.choice(BINARY)} {sub()}"
    if kind == 3:
        return f"({sub()})"
    if kind == 4:
        return f"{rng.choice(['!', '-', '!!', '--'])}{sub()}"
    if kind == 5:
        return f"{sub()} ? {sub()} : {sub()}"
    if kind == 6:
        return f"{rng.choice(FUNCS1)}({sub()})"
    if kind == 7:
        name, arity = rng.choice(METHODS)
        args = ", ".join(sub() for _ in range(arity))
        return f"{sub()}.{name}({args})"
    if kind == 8:
        var = rng.choice(["v", "x", "i"])
        target = rng.choice(["params.rows", "params.words", "steps.a.output.rows", "[1, 2]", sub()])
        return f"{target}.{rng.choice(MACROS)}({var}, {grammar_expr(rng, depth + 1)})"
    if kind == 9:
        return f"[{', '.join(sub() for _ in range(rng.randrange(0, 4)))}]"
    if kind == 10:
        return "{" + ", ".join(f"{sub()}: {sub()}" for _ in range(rng.randrange(0, 3))) + "}"
    if kind == 11:
        return f"{sub()}[{sub()}]"
    if kind == 12:
        return f"has({rng.choice(NAMES[:17])})"
    return _literal(rng)


def token_soup(rng: random.Random) -> str:
    n = rng.randrange(1, 40)
    sep = rng.choice(["", " "])
    return sep.join(rng.choice(TOKENS) for _ in range(n))


def _adv_nesting(rng: random.Random) -> str:
    n = rng.choice([10, 50, 63, 64, 65, 100, 500, 2000])
    o, c = rng.choice([("(", ")"), ("[", "]"), ("{1: ", "}"), ("-(", ")"), ("!(", ")")])
    inner = rng.choice(["1", "x", "true", "params.n"])
    if rng.random() < 0.3:
        return o * n + inner  # unbalanced
    return o * n + inner + c * n


def _adv_escapes(rng: random.Random) -> str:
    n = rng.choice([10, 36, 40, 60, 200, 1000, 4000])
    quote = rng.choice(["'", '"', "'''", '"""', "b'", 'r"', 'b"""'])
    body = rng.choice(["\\", "\\\\", "\\x", "\\u", "\\U0010FFFF", "\\'", '\\"']) * (n // 2 + 1)
    body = body[:n]
    close = rng.choice(["", quote[-1], quote.lstrip("bBrR")])
    return quote + body + close


def _adv_comprehension(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return f"{DATES}.map(x, {DATES}.map(y, y))"
    if kind == 1:
        return f"{DATES}.all(x, {DATES}.exists(y, x == y + 'z'))"
    if kind == 2:
        return f"{DATES}.map(x, params.words.map(y, x + y)).size()"
    if kind == 3:
        return "params.rows.map(a, params.rows.map(b, params.rows.map(c, a + b + c)))"
    if kind == 4:
        return f"{DATES}.filter(x, x.matches(x)).size()"
    return "[" + ", ".join(["params.rows"] * 200) + "].map(l, l.map(v, [v, v, v]))"


def _adv_regex(rng: random.Random) -> str:
    pattern = rng.choice(REGEXES).replace("\\", "\\\\").replace("'", "\\'")
    text = rng.choice(["params.long", "params.s", "'" + "a" * 500 + "'", "run.id"])
    if rng.random() < 0.5:
        return f"{text}.matches('{pattern}')"
    return f"{DATES}.filter(d, {text}.matches('{pattern}')).size()"


def _adv_overflow(rng: random.Random) -> str:
    return rng.choice(
        [
            "9223372036854775807 + 1",
            "-9223372036854775808 - 1",
            "-9223372036854775808 / -1",
            "-9223372036854775808 % -1",
            "params.big * params.big",
            "params.neg * -1",
            "18446744073709551615u + 1u",
            "0u - 1u",
            "-(-9223372036854775808)",
            "int(1e19)",
            "uint(-1)",
            "int('99999999999999999999')",
            "duration('9999999999999h')",
            "timestamp('9999-12-31T23:59:59Z') + duration('1s')",
            "timestamp('0001-01-01T00:00:00Z') - duration('1s')",
            "1 / 0",
            "1 % 0",
            "99999999999999999999",
            "0x" + "f" * 40,
            "1e999",
            "double('nan') == double('nan')",
            "int(double('inf'))",
        ]
    )


def _adv_surrogate(rng: random.Random) -> str:
    return rng.choice(
        [
            "'a\ud800'.matches('a')",
            "'a'.matches('\udc00')",
            "b'\ud800'",
            "'\\ud800'",
            "'\\udc00\\ud800'",
            "b'\\ud800'",
            "'\\U0000D800'",
            "size('\ud800')",
            "'\ud83d\ude00' + 'x'",
            "\ud800",
            "params.s + '\ud800'",
            "bytes('\ud800')",
            "string(b'\\xed\\xa0\\x80')",
        ]
    )


def _adv_long(rng: random.Random) -> str:
    n = rng.choice([1000, 4095, 4096, 4097, 10_000, 100_000])
    kind = rng.randrange(6)
    if kind == 0:
        return "x" * n
    if kind == 1:
        return " + ".join(["1"] * (n // 4))
    if kind == 2:
        return "'" + "a" * n + "'"
    if kind == 3:
        return " && ".join(["true"] * (n // 8))
    if kind == 4:
        return "[" + ",".join(["1"] * (n // 2)) + "]"
    return "params.rows" + ".map(x, x)" * (n // 10)


def _adv_growth(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{DATES}.map(x, params.long).size()",
            f"{DATES}.map(x, params.s + params.s + params.s)",
            "params.long + params.long + params.long",
            f"{DATES} + {DATES} + {DATES}",
            f"{DATES}.map(x, {DATES})",
            "params.words.map(w, params.words.map(v, params.words))",
            "string(params.rows.map(x, params.rows))",
        ]
    )


def _adv_template(rng: random.Random) -> str:
    return rng.choice(
        [
            "prefix-${params.rows}",
            "${" * 50 + "}" * 50,
            "x${params.long}${params.long}",
            "a ${'}'} b ${params.m}",
            "${" + f"{DATES}.map(x, params.long)" + "}-tail",
            "$${literal} ${params.n",
            "${params.s}\ud800",
            "${'\\ud800'}",
            "${run.start_time}/${run.logical_date}",
            "${" + "'" + "\\" * 40 + "}",
        ]
    )


ADVERSARIAL: list[tuple[str, Callable[[random.Random], str], float]] = [
    ("nesting", _adv_nesting, 3),
    ("escapes", _adv_escapes, 3),
    ("comprehension", _adv_comprehension, 0.6),
    ("regex", _adv_regex, 1.2),
    ("overflow", _adv_overflow, 3),
    ("surrogate", _adv_surrogate, 2),
    ("long", _adv_long, 1.5),
    ("growth", _adv_growth, 0.6),
    ("template", _adv_template, 1.5),
]


def generate(n: int, seed: int) -> Iterator[tuple[str, str, bool]]:
    """(family, source, is_template) for n cases: 45% grammar, 25% soup, 30% adversarial."""
    rng = random.Random(seed)
    names = [a[0] for a in ADVERSARIAL]
    gens = {a[0]: a[1] for a in ADVERSARIAL}
    weights = [a[2] for a in ADVERSARIAL]
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            src = grammar_expr(rng)
            if rng.random() < 0.05:
                yield "grammar", f"s3://b/${{{src}}}/x", True
            else:
                yield "grammar", src, False
        elif r < 0.70:
            yield "soup", token_soup(rng), False
        else:
            name = rng.choices(names, weights)[0]
            yield f"adversarial.{name}", gens[name](rng), name == "template"


# ---- the worker ----------------------------------------------------------------------


def _worker(path: str, start: int) -> None:
    """Evaluate the cases of a batch file from ``start``; one JSON line per case."""
    import faulthandler

    faulthandler.enable()
    from podium.core.expr import ExpressionError, compile_expression, compile_template

    with open(path, encoding="utf-8", errors="surrogatepass") as f:
        cases = [json.loads(line) for line in f]
    compile_expression("1 + 1").evaluate({})  # builds the parser: not any case's time
    compile_template("${1}").render({})
    out = sys.stdout
    out.write('{"ready": true}\n')  # the guard starts now, not while importing
    out.flush()
    stall = os.environ.get("PODIUM_FUZZ_STALL")  # the harness's own test: a stuck case
    for i in range(start, len(cases)):
        src, is_template = cases[i]
        if stall is not None and src == stall:
            time.sleep(3600)
        began = time.perf_counter()
        outcome, detail = "ok", ""
        try:
            if is_template:
                compile_template(src).render(BINDINGS)
            else:
                compile_expression(src).evaluate(BINDINGS)
        except ExpressionError:
            outcome = "error"
        except BaseException as exc:  # an escape: anything else is a bug
            outcome, detail = "escape", f"{type(exc).__name__}: {str(exc)[:200]}"
        seconds = time.perf_counter() - began
        out.write(json.dumps({"i": i, "o": outcome, "s": round(seconds, 6), "d": detail}) + "\n")
        out.flush()


# ---- the parent ----------------------------------------------------------------------


@dataclass
class Report:
    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    escapes: int = 0
    hangs: int = 0
    slow: int = 0
    crashes: int = 0
    max_seconds: float = 0.0
    total_seconds: float = 0.0
    by_family: dict[str, Counter[str]] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def example(self, kind: str, family: str, src: str, detail: str = "") -> None:
        shown = src if len(src) <= 160 else src[:150] + f"... ({len(src)} chars)"
        items = self.examples.setdefault(kind, [])
        if len(items) < 10:
            items.append(f"[{family}] {shown!r} {detail}".strip())

    def merge(self, other: Report) -> None:
        self.cases += other.cases
        self.outcomes.update(other.outcomes)
        self.escapes += other.escapes
        self.hangs += other.hangs
        self.slow += other.slow
        self.crashes += other.crashes
        self.max_seconds = max(self.max_seconds, other.max_seconds)
        self.total_seconds += other.total_seconds
        for fam, counts in other.by_family.items():
            self.by_family.setdefault(fam, Counter()).update(counts)
        for kind, items in other.examples.items():
            mine = self.examples.setdefault(kind, [])
            mine.extend(items[: max(0, 10 - len(mine))])


def _spawn(path: str, start: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "podium.bench.fuzz", "--worker", path, str(start)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        bufsize=0,
    )


class _Lines:
    """Lines from a worker's stdout with a timeout: unbuffered reads, so a line already
    received is never left waiting in a buffer that `select` cannot see."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        self._buf = b""

    def next(self, timeout: float) -> str | None:
        """The next line; "" at end of output; None when nothing came within timeout."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._fd, 65536)
            if not chunk:
                return ""
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8") + "\n"


def run_batch(batch: list[tuple[str, str, bool]], guard: float = GUARD_SECONDS) -> Report:
    report = Report()
    with tempfile.NamedTemporaryFile(
        "w", suffix=".jsonl", delete=False, encoding="utf-8", errors="surrogatepass"
    ) as f:
        for _, src, is_template in batch:
            f.write(json.dumps([src, is_template]) + "\n")
        path = f.name
    try:
        nxt = 0
        while nxt < len(batch):
            proc = _spawn(path, nxt)
            lines = _Lines(proc)
            if not lines.next(STARTUP_SECONDS):
                proc.kill()
                proc.wait()
                raise RuntimeError(f"a fuzz worker did not start within {STARTUP_SECONDS} s")
            while nxt < len(batch):
                line = lines.next(guard)
                family, src, _ = batch[nxt]
                report.by_family.setdefault(family, Counter())
                if line is None:  # stuck on one case past the guard
                    proc.kill()
                    proc.wait()
                    report.hangs += 1
                    report.cases += 1
                    report.outcomes["hang"] += 1
                    report.by_family[family]["hang"] += 1
                    report.example("hang", family, src, f"killed after {guard} s")
                    nxt += 1
                    break
                if not line:  # the worker died
                    proc.wait()
                    report.crashes += 1
                    report.cases += 1
                    report.outcomes["crash"] += 1
                    report.by_family[family]["crash"] += 1
                    report.example("crash", family, src, f"exit code {proc.returncode}")
                    nxt += 1
                    break
                result = json.loads(line)
                seconds = float(result["s"])
                outcome = result["o"]
                report.cases += 1
                report.outcomes[outcome] += 1
                report.by_family[family][outcome] += 1
                report.total_seconds += seconds
                report.max_seconds = max(report.max_seconds, seconds)
                if outcome == "escape":
                    report.escapes += 1
                    report.example("escape", family, src, result["d"])
                if seconds > HANG_SECONDS:
                    report.hangs += 1
                    report.by_family[family]["hang"] += 1
                    report.example("hang", family, src, f"{seconds:.2f} s")
                elif seconds > SLOW_SECONDS:
                    report.slow += 1
                    report.by_family[family]["slow"] += 1
                    report.example("slow", family, src, f"{seconds * 1000:.0f} ms")
                nxt += 1
            else:
                proc.wait()
    finally:
        os.unlink(path)
    return report


def run_fuzz(cases: int, seed: int, batch_size: int = 2000, jobs: int = 1) -> Report:
    all_cases = list(generate(cases, seed))
    batches = [all_cases[i : i + batch_size] for i in range(0, len(all_cases), batch_size)]
    total = Report()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for part in pool.map(run_batch, batches):
            total.merge(part)
    return total


def _loadavg() -> list[float]:
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except OSError:
        return []


def _positive(text: str) -> int:
    """A count of at least one: 0 or less would fuzz nothing (or crash) and report
    success."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--worker"]:
        _worker(args[1], int(args[2]))
        return 0
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=_positive, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=_positive, default=2000, help="cases per worker process")
    parser.add_argument("--jobs", type=_positive, default=1, help="worker processes at once")
    parser.add_argument("--json", help="also write the report to this file")
    opts = parser.parse_args(args)
    load_before = _loadavg()
    began = time.perf_counter()
    report = run_fuzz(opts.cases, opts.seed, opts.batch, opts.jobs)
    wall = time.perf_counter() - began
    summary = {
        "cases": report.cases,
        "seed": opts.seed,
        "escapes": report.escapes,
        "hangs_over_1s": report.hangs,
        "over_100ms": report.slow,
        "crashes": report.crashes,
        "outcomes": dict(report.outcomes),
        "max_case_seconds": round(report.max_seconds, 3),
        "mean_case_ms": round(1000 * report.total_seconds / max(1, report.cases), 3),
        "wall_seconds": round(wall, 1),
        "jobs": opts.jobs,
        "loadavg_before": load_before,
        "loadavg_after": _loadavg(),
        "cpus": os.cpu_count(),
        "by_family": {k: dict(v) for k, v in sorted(report.by_family.items())},
        "examples": report.examples,
    }
    print(f"cases {report.cases:,} (seed {opts.seed}) in {wall:.0f} s")
    print(
        f"escapes {report.escapes}, hangs (>1 s) {report.hangs}, "
        f"evaluations >100 ms {report.slow}, crashes {report.crashes}"
    )
    print(
        f"outcomes {dict(report.outcomes)}; max {report.max_seconds:.3f} s, "
        f"mean {summary['mean_case_ms']} ms; load {load_before} -> {summary['loadavg_after']}"
    )
    for fam, counts in sorted(report.by_family.items()):
        print(f"  {fam:28} {dict(counts)}")
    for kind, items in report.examples.items():
        print(f"{kind} examples:")
        for item in items:
            print(f"  {item}")
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2, ensure_ascii=True)
    return 1 if report.escapes or report.hangs or report.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
