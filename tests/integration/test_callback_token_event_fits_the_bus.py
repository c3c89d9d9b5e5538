"""The callback token's event on EventBridge: a payload Podium accepts fits it (left out
of the event when the entry would pass the bus's 256 KB), and a refusal for good fails
the step at once instead of a start redone until the step's timeout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.clock import ManualClock
from podium.adapters.events import EventBridgeEvents
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.console_views import step_detail

TOKEN_EVENT = "Podium Callback Token"
HERE = "tests.integration.test_callback_token_event_fits_the_bus"
# Podium's own bound on a rendered payload is 256 KiB (core/dsl/expressions.py): a
# payload a little under it renders and is accepted.
NEAR_PAYLOAD_LIMIT = 256 * 1024 - 40


def big_output(event: dict[str, Any]) -> str:
    """A step whose output a wait_for_callback's payload then carries whole."""
    return "x" * NEAR_PAYLOAD_LIMIT


def small_output(event: dict[str, Any]) -> str:
    return "small"


class SizedBus:
    """An EventBridge client that refuses an entry over 256 KB, measured as AWS does
    (Source + DetailType + Detail + Resources, UTF-8; Time 14 bytes), with the error
    PutEvents answers; or, given ``code``, refuses every token event with it."""

    def __init__(self, code: str | None = None, status: int = 400) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[int] = []
        self.code, self.status = code, status

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        for entry in Entries:
            size = sum(len(str(entry[k]).encode()) for k in ("Source", "DetailType", "Detail"))
            size += sum(len(r.encode()) for r in entry.get("Resources", []))
            size += 14 if "Time" in entry else 0
            refused_as = self.code if entry["DetailType"] == TOKEN_EVENT else None
            if size > 256 * 1024:
                refused_as = "ValidationException"
            if refused_as is not None:
                self.refused.append(size)
                raise ClientError(
                    {
                        "Error": {"Code": refused_as, "Message": "refused"},
                        "ResponseMetadata": {"HTTPStatusCode": self.status},
                    },
                    "PutEvents",
                )
        self.accepted.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"} for _ in Entries]}


def _wait_after(function: str) -> dict[str, Any]:
    return {
        "name": "big_wait",
        "steps": [
            {"id": "extract", "type": "lambda", "function": f"{HERE}:{function}"},
            {
                "id": "wait",
                "type": "wait_for_callback",
                "payload": {"data": "${steps.extract.output}"},
                "depends_on": ["extract"],
                "timeout": "1h",
            },
        ],
    }


@contextmanager
def _started_on(bus: SizedBus, function: str) -> Iterator[tuple[LocalRuntime, str]]:
    """A run of ``_wait_after(function)`` on a runtime publishing to ``bus``, pumped until
    nothing is left to do: the runtime and the run's id."""
    with LocalRuntime(store="memory", clock=ManualClock()) as rt:
        rt.services.events = EventBridgeEvents(bus, "podium-bus")
        rt.push(_wait_after(function))
        run = rt.start_run("big_wait")
        rt.pump(wait=False)
        yield rt, run.run_id


def _tokens_on(bus: SizedBus) -> list[dict[str, Any]]:
    import json

    return [json.loads(e["Detail"]) for e in bus.accepted if e["DetailType"] == TOKEN_EVENT]


def test_a_payload_too_big_for_the_bus_is_left_out_of_the_token_event() -> None:
    """A wait_for_callback whose rendered payload was within Podium's 256 KiB limit
    published a token event a little bigger (token, run, step...): the bus refused it,
    the start raised on every redelivery, and the step sat RUNNING with no token anyone
    could answer until its timeout. The event now goes out without the payload, saying
    so (``payload_omitted``, ``payload_bytes``); the timeline keeps the payload whole,
    and the step's view shows it."""
    bus = SizedBus()
    with _started_on(bus, "big_output") as (rt, run_id):
        record = rt.store.get_step(run_id, "wait")
        kept = [e for e in rt.store.list_events(run_id) if e.kind == "callback_token"]
        view = step_detail(rt.services, run_id, "wait")
    assert not bus.refused
    assert record is not None and record.status is StepStatus.RUNNING
    (published,) = _tokens_on(bus)
    assert "payload" not in published
    assert published["payload_omitted"] is True
    assert published["payload_bytes"] > NEAR_PAYLOAD_LIMIT
    assert published["token"] and published["step"] == "wait"
    (item,) = kept
    assert item.detail["payload"] == {"data": "x" * NEAR_PAYLOAD_LIMIT}
    assert view["callback"]["payload"] == {"data": "x" * NEAR_PAYLOAD_LIMIT}


def test_a_payload_that_fits_stays_in_the_token_event() -> None:
    """The usual case is unchanged: the payload travels in the event, with no flag."""
    bus = SizedBus()
    with _started_on(bus, "small_output"):
        pass
    (published,) = _tokens_on(bus)
    assert published["payload"] == {"data": "small"}
    assert "payload_omitted" not in published


def test_a_bus_refusing_the_token_for_good_fails_the_step_at_once() -> None:
    """A PutEvents refusal that no retry changes (access denied, a validation error)
    made the start raise on every redelivery and redo: the step waited, RUNNING and
    with no token, until its timeout, which then said nobody had called back. It now
    fails at once, not retried, naming the bus's refusal."""
    bus = SizedBus(code="AccessDeniedException")
    with _started_on(bus, "small_output") as (rt, run_id):
        record = rt.store.get_step(run_id, "wait")
    assert bus.refused
    assert record is not None and record.status is StepStatus.FAILED, record
    assert record.error_type == "Podium.ConfigError"
    assert "AccessDeniedException" in (record.error or "")
    assert "token" in (record.error or "")


def test_a_throttled_token_event_leaves_the_start_to_be_redone() -> None:
    """A refusal that may pass (throttled) fails nothing: the start is redone."""
    bus = SizedBus(code="ThrottlingException")
    with _started_on(bus, "small_output") as (rt, run_id):
        record = rt.store.get_step(run_id, "wait")
    assert bus.refused
    assert record is not None and record.status is StepStatus.RUNNING


def test_the_entry_is_measured_as_eventbridge_measures_it() -> None:
    """Source, DetailType, the Detail in UTF-8 (not \\u escapes), Resources, 14 bytes
    for a Time; a detail that fits is published whole."""
    from podium.core.engine.callbacks import MAX_ENTRY_BYTES, entry_bytes, fitted_token_detail

    detail = {"message": "é"}
    assert entry_bytes("podium", TOKEN_EVENT, detail, with_time=False) == len(
        b"podium" + TOKEN_EVENT.encode() + '{"message":"é"}'.encode()
    )
    assert entry_bytes("podium", TOKEN_EVENT, detail, ["arn:x"]) == (
        entry_bytes("podium", TOKEN_EVENT, detail, with_time=False) + 5 + 14
    )
    assert fitted_token_detail("podium", detail) == detail
    huge = {"token": "t", "message": "m" * MAX_ENTRY_BYTES}
    assert fitted_token_detail("podium", huge) == {
        "token": "t",
        "message_omitted": True,
        "message_bytes": MAX_ENTRY_BYTES + 2,
    }
