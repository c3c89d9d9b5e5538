"""A pure runner for CEL conformance cases in Podium's JSON case-file format.

A case file is a JSON list of cases:

    {"section": "...", "name": "...", "expr": "1 + 2",
     "bindings": {"x": {"int": "3"}},      # optional
     "unchecked": true,                     # optional: evaluated without type-checking
     "value": {"int": "3"}}                 # or "error": "expected message"

Typed values: {"int": "<decimal>"}, {"uint": "<decimal>"}, {"double": n|"inf"|"-inf"|"nan"},
{"string": s}, {"bytes": "<base64>"}, {"bool": b}, {"null": null}, {"type": "int"},
{"list": [...]}, {"map": [[k, v], ...]}, {"duration_seconds": x}, {"timestamp_seconds": x}.

A case passes when evaluation returns an equal value of the same CEL type (NaN equals
NaN), or, for an error case, when compiling or evaluating reports an error. Reading
files is left to callers (the CLI and the test), which keeps this module pure.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .errors import ExpressionError
from .expression import compile_expression
from .values import (
    CelType,
    Duration,
    Timestamp,
    UInt,
    make_duration,
    make_timestamp,
    map_key,
    unkey,
)

# Case names that this implementation deliberately does not support, with the reason.
# Keep in sync with docs/expressions.md ("Conformance").
UNSUPPORTED: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class CaseResult:
    file: str
    section: str
    name: str
    expr: str
    passed: bool
    detail: str = ""


@dataclass(slots=True)
class FileSummary:
    passed: int = 0
    failed: int = 0
    failures: list[CaseResult] = field(default_factory=list)


class CaseFormatError(ValueError):
    """A case file does not follow the documented format."""


def decode_value(typed: Mapping[str, Any]) -> Any:
    """A typed JSON value (see module docs) to a CEL value."""
    if not isinstance(typed, Mapping) or len(typed) != 1:
        raise CaseFormatError(f"a typed value needs exactly one key: {typed!r}")
    ((kind, raw),) = typed.items()
    if kind == "int":
        return int(raw)
    if kind == "uint":
        return UInt(int(raw))
    if kind == "double":
        if isinstance(raw, str):
            return {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}[raw]
        return float(raw)
    if kind == "string":
        return str(raw)
    if kind == "bytes":
        return base64.b64decode(raw)
    if kind == "bool":
        return bool(raw)
    if kind == "null":
        return None
    if kind == "type":
        return CelType(str(raw))
    if kind == "list":
        return [decode_value(v) for v in raw]
    if kind == "map":
        return {map_key(decode_value(k)): decode_value(v) for k, v in raw}
    if kind == "duration_seconds":
        return make_duration(int(Decimal(str(raw)) * 1_000_000_000))
    if kind == "timestamp_seconds":
        return make_timestamp(int(Decimal(str(raw)) * 1_000_000_000))
    raise CaseFormatError(f"unknown value kind {kind!r}")


def same_value(a: Any, b: Any) -> bool:
    """Equality that also requires the same CEL type (int, uint and double differ)."""
    ta, tb = type(a), type(b)
    if ta is not tb:
        return False
    if ta is float:
        return (math.isnan(a) and math.isnan(b)) or a == b
    if ta is list:
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict:
        if len(a) != len(b):
            return False
        keyed = {(type(unkey(k)), unkey(k)): v for k, v in b.items()}
        for k, v in a.items():
            other = keyed.get((type(unkey(k)), unkey(k)), _ABSENT)
            if other is _ABSENT or not same_value(v, other):
                return False
        return True
    return bool(a == b)


_ABSENT = object()


def show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def run_case(case: Mapping[str, Any], file: str = "") -> CaseResult:
    section = str(case.get("section", ""))
    name = str(case.get("name", ""))
    expr = case.get("expr")
    if not isinstance(expr, str):
        raise CaseFormatError(f"case {section}/{name} has no 'expr'")

    def result(passed: bool, detail: str = "") -> CaseResult:
        return CaseResult(file, section, name, expr, passed, detail)

    if name in UNSUPPORTED or f"{section}/{name}" in UNSUPPORTED:
        reason = UNSUPPORTED.get(f"{section}/{name}") or UNSUPPORTED.get(name, "")
        return result(False, f"not supported: {reason}")
    wants_error = "error" in case
    if not wants_error and "value" not in case:
        raise CaseFormatError(f"case {section}/{name} has neither 'value' nor 'error'")
    try:
        bindings = {k: decode_value(v) for k, v in (case.get("bindings") or {}).items()}
        compiled = compile_expression(expr, checked=not case.get("unchecked", False))
        value = compiled.evaluate_cel(bindings)
    except ExpressionError as exc:
        if wants_error:
            return result(True)
        return result(False, f"unexpected error: {exc.message}")
    if wants_error:
        return result(False, f"expected an error ({case['error']}), got {show(value)}")
    expected = decode_value(case["value"])
    if same_value(value, expected):
        return result(True)
    return result(False, f"expected {show(expected)}, got {show(value)}")


def run_cases(cases: Iterable[Mapping[str, Any]], file: str = "") -> list[CaseResult]:
    return [run_case(case, file) for case in cases]


def summarize(results: Iterable[CaseResult]) -> dict[str, FileSummary]:
    files: dict[str, FileSummary] = {}
    for r in results:
        summary = files.setdefault(r.file, FileSummary())
        if r.passed:
            summary.passed += 1
        else:
            summary.failed += 1
            summary.failures.append(r)
    return files


def report(files: Mapping[str, FileSummary]) -> dict[str, Any]:
    """The JSON report: {"passed": N, "failed": N, "files": {name: {...}}}."""
    return {
        "passed": sum(s.passed for s in files.values()),
        "failed": sum(s.failed for s in files.values()),
        "files": {
            name: {
                "passed": s.passed,
                "failed": s.failed,
                "failures": [
                    {"case": f"{r.section}/{r.name}", "expr": r.expr, "detail": r.detail}
                    for r in s.failures
                ],
            }
            for name, s in files.items()
        },
    }


__all__ = [
    "UNSUPPORTED",
    "CaseFormatError",
    "CaseResult",
    "Duration",
    "FileSummary",
    "Timestamp",
    "decode_value",
    "report",
    "run_case",
    "run_cases",
    "same_value",
    "summarize",
]
