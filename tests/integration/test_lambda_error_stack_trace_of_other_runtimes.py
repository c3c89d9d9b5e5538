"""The deployed lambda step (adapters/runners.LambdaFunctionRunner) reading a function's
answer: an error body not in the Python runtime's shape, and an answer whose payload
could not be read."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters import runners
from podium.adapters.clock import ManualClock
from podium.adapters.runners import LambdaFunctionRunner
from podium.core.engine.status import StepStatus
from podium.core.ports import Invocation
from podium.local.runtime import LocalRuntime
from podium.service.sweep import sweep

# A Go function's panic (aws-lambda-go's InvokeResponse_Error): its stackTrace is a list
# of frames {path, line, label}, not of strings.
GO_PANIC = {
    "errorMessage": "runtime error: index out of range [3] with length 3",
    "errorType": "runtimeError",
    "stackTrace": [
        {"path": "github.com/acme/loader/main.go", "line": 42, "label": "handler"},
        {"path": "runtime/panic.go", "line": 114, "label": "goPanicIndex"},
    ],
}


class GoLambda:
    """A Lambda client whose function is written in Go and panics."""

    def __init__(self) -> None:
        self.calls = 0

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        return {
            "Payload": io.BytesIO(json.dumps(GO_PANIC).encode()),
            "FunctionError": "Unhandled",
            "ResponseMetadata": {"RequestId": f"req-{self.calls}"},
        }


class _BrokenStream:
    def read(self) -> bytes:
        raise ConnectionResetError(104, "Connection reset by peer")


class CutLambda:
    """A Lambda client whose answer's payload stream breaks while it is read."""

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        return {"Payload": _BrokenStream(), "ResponseMetadata": {"RequestId": "req-1"}}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def test_a_go_functions_panic_failed_the_step_once_with_its_message(rt: LocalRuntime) -> None:
    """A Go function's panic answers FunctionError with a stackTrace of frame objects;
    the runner joined them as strings (TypeError: sequence item 0: expected str
    instance, dict found) outside any handling: the worker failed, the attempt stayed
    RUNNING until its lease passed, was retried as a lost worker and the function was
    invoked again each time. The step (no retries) failed once, with the function's
    errorType, message and frames."""
    go = GoLambda()
    rt.services.runner = LambdaFunctionRunner(go)
    rt.push({"name": "go_loader", "steps": [{"id": "load", "type": "lambda", "function": "go-fn"}]})
    run_id = rt.start_run("go_loader").run_id
    for _ in range(3):  # the sweeper's passes over an hour and a half
        rt.pump()
        load = rt.store.get_step(run_id, "load")
        assert load is not None
        if load.status.terminal:
            break
        rt.clock.advance(30 * 60 * 1000)  # type: ignore[attr-defined]
        sweep(rt.services, rt.store)
    load = rt.store.get_step(run_id, "load")
    assert load is not None
    assert (load.status, go.calls) == (StepStatus.FAILED, 1), (
        load.status,
        go.calls,
        (load.error or "")[:120],
    )
    assert load.error_type == "runtimeError"
    assert "index out of range" in (load.error or "")


def test_a_go_stack_trace_read_as_lines() -> None:
    """A Go panic's frames were objects (they raised TypeError); they read one to a line,
    and a Python runtime's lines were joined as before."""
    stack_trace = runners.stack_trace
    assert stack_trace(GO_PANIC["stackTrace"]) == (
        "  github.com/acme/loader/main.go:42 in handler\n  runtime/panic.go:114 in goPanicIndex\n"
    )
    python = ['  File "/var/task/app.py", line 3, in handler\n    raise X\n', "  File ...\n"]
    assert stack_trace(python) == "".join(python)
    assert stack_trace(None) is None


def test_a_payload_that_could_not_be_read_was_a_platform_error_at_once() -> None:
    """The answer's payload was read outside the invoke's ``try``: a stream that broke
    while it was read (a connection reset) escaped the runner, and the attempt was lost
    until its lease passed. It is a retryable Podium.PlatformError at once."""
    result = LambdaFunctionRunner(CutLambda()).invoke(Invocation("fn", {}, "r/s/1"))
    assert (result.ok, result.error_type, result.retryable) == (
        False,
        "Podium.PlatformError",
        True,
    ), result
    assert "reset" in (result.error or "")
