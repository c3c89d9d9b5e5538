"""Event patterns matched as EventBridge (its event-ruler) matches them. Each case was
wrong before session 20: a nested pattern never matched a list of objects (the usual
ECS rule on ``detail.containers``), ``exists`` looked at objects as values and failed
under an absent parent, ``anything-but`` with an operator object was not checked at
push and raised per event for a list (a form EventBridge documents), and an s3
trigger missed keys whose prefix and suffix overlap."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.event_patterns import PatternError, check_pattern, matches, s3_pattern

ECS_STOPPED = {
    "source": "aws.ecs",
    "detail-type": "ECS Task State Change",
    "detail": {
        "lastStatus": "STOPPED",
        "containers": [{"name": "sidecar", "exitCode": 0}, {"name": "app", "exitCode": 1}],
    },
}


def test_a_nested_pattern_matches_an_object_of_a_list() -> None:
    pattern = {
        "source": ["aws.ecs"],
        "detail": {"containers": {"exitCode": [{"numeric": [">", 0]}]}},
    }
    check_pattern(pattern)
    assert matches(pattern, ECS_STOPPED)
    assert matches({"detail": {"containers": {"name": ["app"]}}}, ECS_STOPPED)
    assert not matches({"detail": {"containers": {"name": ["db"]}}}, ECS_STOPPED)


def test_a_nested_pattern_takes_all_its_fields_from_one_object_of_the_list() -> None:
    both = {"detail": {"containers": {"name": ["app"], "exitCode": [0]}}}
    assert not matches(both, ECS_STOPPED)  # app exited 1; sidecar's 0 is another object
    assert matches({"detail": {"containers": {"name": ["app"], "exitCode": [1]}}}, ECS_STOPPED)


@pytest.mark.parametrize(
    ("rule", "event", "expected"),
    [
        ({"exists": False}, {"state": "x"}, True),  # absent
        ({"exists": False}, {"c": {"c1": 100}}, True),  # an object is not a value
        ({"exists": True}, {"c": {"c1": 100}}, False),
        ({"exists": True}, {"c": 5}, True),
        ({"exists": True}, {"c": [5]}, True),
        ({"exists": True}, {"c": []}, False),  # no value in it
        ({"exists": True}, {"c": [{"x": 1}]}, False),
    ],
)
def test_exists_looks_at_values_not_objects(
    rule: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    assert matches({"detail": {"c": [rule]}}, {"detail": event}) is expected


def test_exists_false_holds_under_an_absent_parent() -> None:
    pattern = {"detail": {"error": {"code": [{"exists": False}]}}}
    assert matches(pattern, {"detail": {"state": "SUCCEEDED"}})
    assert not matches(pattern, {"detail": {"error": {"code": "E1"}}})
    assert not matches({"detail": {"error": {"code": ["E1"]}}}, {"detail": {}})
    # An empty list holds no object: the fields under it are absent.
    assert matches(pattern, {"detail": {"error": []}})
    assert not matches(
        {"detail": {"error": {"code": [{"exists": True}]}}}, {"detail": {"error": []}}
    )


@pytest.mark.parametrize(
    ("operator", "kept", "dropped"),
    [
        ({"prefix": ["tmp-", "test-"]}, "etl-daily", "tmp-x"),
        ({"suffix": "-dev"}, "etl-daily", "etl-dev"),
        ({"equals-ignore-case": ["STOPPED", "failed"]}, "running", "Stopped"),
        ({"wildcard": ["tmp-*", "*-old"]}, "etl", "a-old"),
    ],
)
def test_anything_but_takes_an_operator_with_a_text_or_a_list(
    operator: dict[str, Any], kept: str, dropped: str
) -> None:
    pattern = {"detail": {"name": [{"anything-but": operator}]}}
    check_pattern(pattern)
    assert matches(pattern, {"detail": {"name": kept}})
    assert not matches(pattern, {"detail": {"name": dropped}})


@pytest.mark.parametrize(
    "argument",
    [{}, {"prefix": "a", "suffix": "b"}, {"prefx": "a"}, {"prefix": 5}, {"prefix": []}, [], [{}]],
)
def test_a_malformed_anything_but_is_refused_at_push(argument: Any) -> None:
    with pytest.raises(PatternError, match=r"pattern\.detail\.name\.anything-but"):
        check_pattern({"detail": {"name": [{"anything-but": argument}]}})


def _created(key: str) -> dict[str, Any]:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": "landing"}, "object": {"key": key}},
    }


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("exports/daily.csv", True),  # the prefix and the suffix overlap
        ("exports/daily.csv/part.csv", True),
        ("exports/daily.csv.bak", False),
        ("exports/daily.cs", False),
        ("other/daily.csv", False),
    ],
)
def test_an_s3_key_has_the_prefix_and_the_suffix_even_where_they_overlap(
    key: str, expected: bool
) -> None:
    pattern = s3_pattern("landing", prefix="exports/daily.csv", suffix=".csv")
    check_pattern(pattern)
    assert matches(pattern, _created(key)) is expected


def test_an_s3_pattern_with_a_suffix_overlapping_itself() -> None:
    pattern = s3_pattern("landing", prefix="a/aa", suffix="aaa")
    hits = [
        k for k in ("a/aa", "a/aaa", "a/aaaa", "a/aaXaaa", "a/a") if matches(pattern, _created(k))
    ]
    assert hits == [
        k
        for k in ("a/aa", "a/aaa", "a/aaaa", "a/aaXaaa", "a/a")
        if k.startswith("a/aa") and k.endswith("aaa")
    ]
