"""PutEvents refusing some entries of a call (``FailedEntryCount`` > 0, an ``ErrorCode``
per refused entry) was one plain RuntimeError after three calls without a wait: a
refusal for good (InvalidArgument, AccessDeniedException) was put twice more like a
throttle, and a throttle was put again at once. Now the refused entries alone are put
again, after a doubling wait, while their refusals pass (ThrottlingException,
InternalFailure); any other code is raised at once as ``EventsRefused``, naming it.

moto refuses an entry only for what it checks itself (a missing DetailType: an
InvalidArgument entry), never for throttling or EventBridge's own faults: those answers
come from botocore's Stubber on a real client (the API model checks both the request
and the stubbed answer)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from podium.adapters.events import EventBridgeEvents
from podium.core.errors import EventsRefused, PodiumError


def _event(n: int, detail_type: str = "Podium Run Status Change") -> dict[str, Any]:
    return {"detail-type": detail_type, "detail": {"run_id": f"r{n}"}}


def _entry(n: int) -> dict[str, Any]:
    return {
        "Source": "podium",
        "DetailType": "Podium Run Status Change",
        "Detail": json.dumps({"run_id": f"r{n}"}, separators=(",", ":")),
        "EventBusName": "podium-bus",
    }


def _ok(n: int) -> dict[str, Any]:
    return {"EventId": f"id-{n}"}


def _no(code: str) -> dict[str, Any]:
    return {"ErrorCode": code, "ErrorMessage": f"{code} said so"}


def _answer(*results: dict[str, Any]) -> dict[str, Any]:
    return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": list(results)}


def test_a_refusal_for_good_is_raised_at_once_naming_its_code() -> None:
    """moto: an entry EventBridge refuses as invalid was put three times, then a
    RuntimeError that named no code; its sibling in the call is delivered once."""
    with mock_aws():
        client = boto3.client("events", region_name="us-east-1")
        client.create_event_bus(Name="podium-bus")
        calls: list[int] = []
        client.meta.events.register(
            "before-call.events.PutEvents", lambda params, **_: calls.append(len(params))
        )
        slept: list[float] = []
        events = EventBridgeEvents(client, "podium-bus", sleep=slept.append)
        with pytest.raises(EventsRefused) as refused:
            events.publish([_event(1), _event(2, detail_type="")])
    assert isinstance(refused.value, PodiumError)
    assert (refused.value.code, refused.value.retryable, refused.value.count) == (
        "InvalidArgument",
        False,
        1,
    )
    assert "DetailType" in refused.value.message and "InvalidArgument" in str(refused.value)
    assert len(calls) == 1 and slept == [], "a refusal for good was put again"


def _on_a_real_client() -> tuple[Any, EventBridgeEvents, list[float]]:
    """A real events client (for botocore's Stubber), the adapter on it, and the waits
    it slept (recorded, not slept)."""
    client = boto3.client("events", region_name="us-east-1")
    slept: list[float] = []
    return client, EventBridgeEvents(client, "podium-bus", sleep=slept.append), slept


def test_only_the_throttled_entries_are_put_again_after_a_doubling_wait() -> None:
    client, events, slept = _on_a_real_client()
    with Stubber(client) as stub:
        stub.add_response(
            "put_events",
            _answer(_ok(1), _no("ThrottlingException"), _no("InternalFailure")),
            {"Entries": [_entry(1), _entry(2), _entry(3)]},
        )
        stub.add_response(
            "put_events",
            _answer(_ok(2), _no("ThrottlingException")),
            {"Entries": [_entry(2), _entry(3)]},  # the refused two alone
        )
        stub.add_response("put_events", _answer(_ok(3)), {"Entries": [_entry(3)]})
        events.publish([_event(1), _event(2), _event(3)])
        stub.assert_no_pending_responses()
    assert slept == [0.1, 0.2]


def test_a_throttle_that_does_not_pass_is_raised_after_bounded_waits() -> None:
    client, events, slept = _on_a_real_client()
    with Stubber(client) as stub:
        for _ in range(5):
            stub.add_response("put_events", _answer(_no("ThrottlingException")))
        with pytest.raises(EventsRefused) as refused:
            events.publish([_event(1)])
        stub.assert_no_pending_responses()
    assert (refused.value.code, refused.value.retryable) == ("ThrottlingException", True)
    assert slept == [0.1, 0.2, 0.4, 0.8]  # doubling, at most 1 s each


def test_a_refusal_for_good_among_throttles_is_not_waited_for() -> None:
    client, events, slept = _on_a_real_client()
    with Stubber(client) as stub:
        stub.add_response(
            "put_events", _answer(_no("ThrottlingException"), _no("AccessDeniedException"))
        )
        with pytest.raises(EventsRefused) as refused:
            events.publish([_event(1), _event(2)])
        stub.assert_no_pending_responses()
    assert (refused.value.code, refused.value.count) == ("AccessDeniedException", 2)
    assert "AccessDeniedException said so" in str(refused.value)
    assert slept == []
