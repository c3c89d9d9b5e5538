"""Timestamps, durations and bytes rendered by templates, on every store (memory, SQLite,
moto): a Lambda gets them as JSON (RFC 3339, "5400s", base64), loop values and while
state are stored in those forms (the same on every store: never ``str()`` of a Python
object, never a live ``datetime`` on one store only), and NaN fails the step naming
where it is instead of being retried, dead-lettered or left RUNNING."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus, StepStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.integration.test_typed_values_stored"
START = "2026-01-01T00:00:00Z"  # run.start_time on the ManualClock
TYPED = {"t": "${run.start_time}", "d": "${duration('90m')}", "b": "${b'ab'}"}
AS_JSON = {"t": START, "d": "5400s", "b": "YWI="}


def echo(event: dict[str, Any]) -> Any:
    return event["payload"]


def types(event: dict[str, Any]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in event["payload"].items()}


@pytest.fixture(params=["memory", "sqlite", "moto"])
def rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


def step_of(view: Any, step: str) -> Any:
    return next(s for s in view.steps if s.step == step)


def lambda_step(payload: dict[str, Any], fn: str = "echo", **more: Any) -> dict[str, Any]:
    return {"id": "l", "type": "lambda", "function": f"{HERE}:{fn}", "payload": payload, **more}


def test_a_lambda_gets_typed_values_as_json(rt: LocalRuntime) -> None:
    view = rt.run({"name": "a", "steps": [lambda_step(TYPED)]})
    assert view.run.status is RunStatus.SUCCEEDED
    assert step_of(view, "l").output == AS_JSON
    typed = rt.run({"name": "b", "steps": [lambda_step(TYPED, "types")]})
    # What a deployed Lambda gets: strings, not datetime/timedelta/bytes objects.
    assert step_of(typed, "l").output == {"t": "str", "d": "str", "b": "str"}


def test_nan_in_a_payload_fails_the_step_once_naming_the_field(rt: LocalRuntime) -> None:
    retry = {"retry": [{"errors": ["Podium.ALL"], "max_attempts": 3}]}
    step = lambda_step({"start": "${run.start_time}", "ratio": "${0.0/0.0}"}, **retry)
    view = rt.run({"name": "a", "steps": [step]})
    assert view.run.status is RunStatus.FAILED
    failed = step_of(view, "l")
    assert failed.status is StepStatus.FAILED and failed.attempt == 1
    assert "NaN at payload.ratio has no JSON form" in (failed.error or "")


def test_foreach_values_are_stored_as_json_on_every_store(rt: LocalRuntime) -> None:
    loop = {
        "id": "loop",
        "type": "foreach",
        "over": {
            "t": "${[timestamp('2024-05-01T10:00:00Z'), timestamp('2024-05-01T11:30:00Z')]}",
            "b": "${[b'ab']}",
        },
        "steps": [
            lambda_step(
                {
                    "t": "${iteration.t}",
                    "type": "${string(type(iteration.t))}",
                    "hours": "${timestamp(iteration.t).getHours()}",
                    "b": "${iteration.b}",
                }
            )
        ],
    }
    view = rt.run({"name": "a", "steps": [loop]})
    assert view.run.status is RunStatus.SUCCEEDED, view.run.error
    outputs = step_of(view, "loop").output["outputs"]["l"]
    assert outputs == [
        {"t": "2024-05-01T10:00:00Z", "type": "string", "hours": 10, "b": "YWI="},
        {"t": "2024-05-01T11:30:00Z", "type": "string", "hours": 11, "b": "YWI="},
    ]
    second = rt.services.store.get_run(child_run_id(view.run.run_id, "loop", 1))
    assert second.iteration == {"index": 1, "t": "2024-05-01T11:30:00Z", "b": "YWI="}


def test_nan_in_foreach_values_fails_the_step_naming_it(rt: LocalRuntime) -> None:
    loop = {
        "id": "loop",
        "type": "foreach",
        "over": {"x": "${[1.0, 0.0/0.0]}"},
        "steps": [{"id": "n", "type": "noop"}],
    }
    view = rt.run({"name": "a", "steps": [loop]})
    assert view.run.status is RunStatus.FAILED
    failed = step_of(view, "loop")
    assert failed.status is StepStatus.FAILED
    assert "NaN at over.x[1] has no JSON form" in (failed.error or "")


def while_step(state: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "id": "w",
        "type": "while",
        "state": {**state, "n": 0},
        "condition": "state.n < 2",
        "update": {"n": "${state.n + 1}"},
        "steps": [{"id": "n", "type": "noop"}],
        **more,
    }


def test_a_while_state_of_typed_values_ends_on_every_store(rt: LocalRuntime) -> None:
    # Was left RUNNING on the memory store (its output could not be stored, its message
    # dead-lettered) and came back as "2026-01-01 00:00:00+00:00" on the others.
    view = rt.run({"name": "a", "steps": [while_step(TYPED)]})
    assert view.run.status is RunStatus.SUCCEEDED, view.run.error
    assert step_of(view, "w").output == {"iterations": 2, "state": {**AS_JSON, "n": 2}}
    second = rt.services.store.get_run(child_run_id(view.run.run_id, "w", 1))
    assert second.iteration == {"index": 1, "state": {**AS_JSON, "n": 1}}
    assert rt.dead_letters() == []


def test_a_while_state_is_the_same_in_every_iteration(rt: LocalRuntime) -> None:
    # The stored form is what every iteration reads, the first one too: timestamp() and
    # duration() give the types back, and the update stores the result as JSON again.
    step = while_step(
        {"t": "${run.start_time}", "d": "${duration('1h')}"},
        update={"n": "${state.n + 1}", "t": "${timestamp(state.t) + duration(state.d)}"},
        steps=[lambda_step({"h": "${timestamp(state.t).getHours()}", "t": "${state.t}"})],
    )
    view = rt.run({"name": "a", "steps": [step]})
    assert view.run.status is RunStatus.SUCCEEDED, view.run.error
    out = step_of(view, "w").output
    assert out == {"iterations": 2, "state": {"t": "2026-01-01T02:00:00Z", "d": "3600s", "n": 2}}
    for index, hour in ((0, 0), (1, 1)):
        child = child_run_id(view.run.run_id, "w", index)
        assert rt.services.store.get_step(child, "l").output == {
            "h": hour,
            "t": f"2026-01-01T0{hour}:00:00Z",
        }


@pytest.mark.parametrize(
    ("state", "update", "named"),
    [
        ({"x": "${0.0/0.0}"}, {}, "NaN at state.x has no JSON form"),
        ({"x": 1.0}, {"x": "${1.0/0.0}"}, "Infinity at update.x has no JSON form"),
    ],
)
def test_nan_in_a_while_state_fails_the_step_naming_it(
    rt: LocalRuntime, state: dict[str, Any], update: dict[str, Any], named: str
) -> None:
    step = while_step(state, update={"n": "${state.n + 1}", **update})
    view = rt.run({"name": "a", "steps": [step]})
    assert view.run.status is RunStatus.FAILED
    failed = step_of(view, "w")
    assert failed.status is StepStatus.FAILED
    assert named in (failed.error or "")
    assert rt.dead_letters() == []
