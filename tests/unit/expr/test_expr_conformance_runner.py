"""The pure case-file runner used by the conformance test and `podium expr --cases`."""

from __future__ import annotations

import math

import pytest

from podium.core.expr.conformance import (
    CaseFormatError,
    decode_value,
    report,
    run_case,
    run_cases,
    same_value,
    summarize,
)
from podium.core.expr.values import CelType, Duration, Timestamp, UInt


def test_decode_value() -> None:
    assert decode_value({"int": "-3"}) == -3
    assert type(decode_value({"uint": "3"})) is UInt
    assert math.isnan(decode_value({"double": "nan"}))
    assert decode_value({"bytes": "YWJj"}) == b"abc"
    assert decode_value({"type": "int"}) == CelType("int")
    assert decode_value({"duration_seconds": 1.5}) == Duration(1_500_000_000)
    assert decode_value({"timestamp_seconds": 1}) == Timestamp(1_000_000_000)
    assert decode_value({"map": [[{"string": "k"}, {"list": [{"null": None}]}]]}) == {"k": [None]}
    with pytest.raises(CaseFormatError):
        decode_value({"what": 1})


def test_same_value_is_type_strict() -> None:
    assert same_value(1, 1)
    assert not same_value(1, 1.0)
    assert not same_value(UInt(1), 1)
    assert same_value(math.nan, math.nan)
    assert same_value({"a": [1]}, {"a": [1]})
    assert not same_value({1: "a"}, {UInt(1): "a"})


def test_run_case_and_report() -> None:
    ok = run_case(
        {
            "section": "s",
            "name": "n",
            "expr": "x + 1",
            "bindings": {"x": {"int": "1"}},
            "value": {"int": "2"},
        },
        "f.json",
    )
    assert ok.passed
    unchecked = run_case(
        {"name": "u", "expr": "f(1) || true", "unchecked": True, "value": {"bool": True}}
    )
    assert unchecked.passed
    results = run_cases(
        [
            {"name": "wrong", "expr": "1", "value": {"uint": "1"}},
            {"name": "noerr", "expr": "1", "error": "x"},
        ],
        "g.json",
    )
    assert [r.passed for r in results] == [False, False]
    data = report(summarize([ok, *results]))
    assert (data["passed"], data["failed"]) == (1, 2)
    assert set(data["files"]) == {"f.json", "g.json"}
    with pytest.raises(CaseFormatError):
        run_case({"name": "x", "expr": "1"})
