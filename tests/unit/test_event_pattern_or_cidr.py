"""The EventBridge operators event triggers refused at push before: ``$or`` (one of
several patterns, at any level, with the object's other fields), ``prefix`` and
``suffix`` ignoring case (``{"prefix": {"equals-ignore-case": "eventb"}}``) and
``cidr`` (an IP address, v4 or v6, in a network). A rule written for EventBridge works
as a Podium trigger unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from podium.core.engine.event_patterns import PatternError, check_pattern, matches


def test_or_matches_when_one_of_its_patterns_does() -> None:
    pattern = {
        "source": ["aws.s3"],
        "$or": [{"detail": {"bucket": ["raw"]}}, {"detail": {"size": [{"numeric": [">", 100]}]}}],
    }
    check_pattern(pattern)
    assert matches(pattern, {"source": "aws.s3", "detail": {"bucket": "raw", "size": 1}})
    assert matches(pattern, {"source": "aws.s3", "detail": {"bucket": "x", "size": 500}})
    assert not matches(pattern, {"source": "aws.s3", "detail": {"bucket": "x", "size": 1}})
    assert not matches(pattern, {"source": "aws.ec2", "detail": {"bucket": "raw"}})  # AND


def test_or_nests_inside_an_object_and_inside_itself() -> None:
    pattern = {
        "detail": {
            "$or": [
                {"state": ["FAILED"]},
                {"$or": [{"code": [{"prefix": "E"}]}, {"retries": [{"exists": False}]}]},
            ]
        }
    }
    check_pattern(pattern)
    assert matches(pattern, {"detail": {"state": "FAILED", "retries": 1}})
    assert matches(pattern, {"detail": {"state": "OK", "code": "E42", "retries": 1}})
    assert matches(pattern, {"detail": {"state": "OK"}})  # no retries field
    assert not matches(pattern, {"detail": {"state": "OK", "code": "W1", "retries": 0}})


@pytest.mark.parametrize(
    ("rule", "place"),
    [
        ({"$or": []}, "pattern.$or"),
        ({"$or": {"a": ["b"]}}, "pattern.$or"),
        ({"$or": [{"a": ["b"]}, "c"]}, "pattern.$or[1]"),
        ({"$or": [{"a": ["b"]}, {}]}, "pattern.$or[1]"),
        ({"$or": [{"a": ["b"]}, {"a": "c"}]}, "pattern.$or[1].a"),
    ],
)
def test_a_malformed_or_is_refused_naming_its_place(rule: dict[str, Any], place: str) -> None:
    """Controls (refused before too, as unsupported): the new operators are checked."""
    with pytest.raises(PatternError) as refused:
        check_pattern(rule)
    assert str(refused.value).startswith(place + ":"), refused.value


def test_prefix_and_suffix_ignore_case_when_asked() -> None:
    pattern = {
        "service": [{"prefix": {"equals-ignore-case": "eventb"}}],
        "file": [{"suffix": {"equals-ignore-case": ".PNG"}}],
    }
    check_pattern(pattern)
    assert matches(pattern, {"service": "EventBridge", "file": "a.png"})
    assert matches(pattern, {"service": "eventbus", "file": "A.Png"})
    assert not matches(pattern, {"service": "lambda", "file": "a.png"})
    assert not matches(pattern, {"service": "eventbridge", "file": "a.jpg"})
    assert not matches(pattern, {"service": 5, "file": "a.png"})


@pytest.mark.parametrize(
    "rule",
    [
        {"prefix": {"equals-ignore-case": 5}},
        {"prefix": {"wildcard": "a*"}},
        {"suffix": {"equals-ignore-case": "a", "x": "b"}},
        {"cidr": "10.0.0.0/33"},
        {"cidr": "not an address"},
        {"cidr": 10},
    ],
)
def test_malformed_text_and_cidr_operators_are_refused_at_push(rule: dict[str, Any]) -> None:
    """Controls (refused before too, as unsupported): the new operators are checked."""
    with pytest.raises(PatternError) as refused:
        check_pattern({"f": [rule]})
    assert str(refused.value).startswith("pattern.f"), refused.value


def test_cidr_matches_addresses_in_the_network() -> None:
    pattern = {"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/24"}, {"cidr": "2001:db8::/32"}]}}
    check_pattern(pattern)
    for ip in ("10.0.0.1", "10.0.0.255", "2001:db8::1"):
        assert matches(pattern, {"detail": {"sourceIPAddress": ip}}), ip
    for other in ("10.0.1.1", "192.168.0.1", "2001:db9::1", "example.com", 10, None):
        assert not matches(pattern, {"detail": {"sourceIPAddress": other}}), other


def test_a_trigger_with_or_and_cidr_is_pushed_and_starts_runs_for_its_events() -> None:
    from podium.adapters.clock import ManualClock
    from podium.local.runtime import LocalRuntime
    from podium.service.triggers import route_trigger_event

    pattern = {
        "source": ["aws.signin"],
        "detail": {
            "$or": [
                {"sourceIPAddress": [{"cidr": "10.0.0.0/8"}]},
                {"userAgent": [{"prefix": {"equals-ignore-case": "podium"}}]},
            ]
        },
    }
    doc = {
        "name": "on_login",
        "steps": [{"id": "a", "type": "noop"}],
        "triggers": [{"id": "login", "event": {"pattern": pattern}}],
    }
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.push(doc)
        started = []
        for n, detail in enumerate(
            [
                {"sourceIPAddress": "10.1.2.3", "userAgent": "curl"},
                {"sourceIPAddress": "8.8.8.8", "userAgent": "Podium-CLI/1.0"},
                {"sourceIPAddress": "8.8.8.8", "userAgent": "curl"},
            ]
        ):
            event = {"id": f"e-{n}", "source": "aws.signin", "detail-type": "x", "detail": detail}
            result = route_trigger_event(rt.services, event)
            started.append(len((result or {}).get("runs", [])))
        assert started == [1, 1, 0]
