"""CEL conformance: run every case in tests/conformance/cel (vendored from the CEL
specification's conformance suite, see its README) and track the pass rate."""

from __future__ import annotations

import json
from pathlib import Path

from podium.core.expr.conformance import CaseResult, report, run_cases, summarize

# In the repository, so that every clone (CI's included) runs them: they were read from a
# directory beside the clone, and a clean clone skipped the test.
CASES_DIR = Path(__file__).resolve().parent / "cel"

# Raise this as support grows; it must never go down. 791/791 cases passed when last raised.
MIN_PASS_RATE = 1.0


def _load() -> list[CaseResult]:
    results: list[CaseResult] = []
    for path in sorted(CASES_DIR.glob("*.json")):
        results.extend(run_cases(json.loads(path.read_text("utf-8")), path.name))
    return results


def test_cel_conformance_pass_rate() -> None:
    results = _load()
    assert results, f"no case files in {CASES_DIR}"
    data = report(summarize(results))
    width = max(len(name) for name in data["files"])
    print(f"\n{'file':<{width}}  passed  failed")
    for name, row in data["files"].items():
        print(f"{name:<{width}}  {row['passed']:>6}  {row['failed']:>6}")
        for failure in row["failures"]:
            print(f"    FAIL {failure['case']}: {failure['detail']}")
    total = data["passed"] + data["failed"]
    rate = data["passed"] / total
    print(f"{'total':<{width}}  {data['passed']:>6}  {data['failed']:>6}  ({rate:.2%})")
    assert rate >= MIN_PASS_RATE, f"pass rate {rate:.2%} below {MIN_PASS_RATE:.2%}"
