"""FunctionRunner adapters: AWS Lambda, and local Python callables (``module:function``).

Locally, a mapping (``podium.toml`` or ``--functions``) says which callable plays a Lambda
name; a Lambda name with no mapping fails the attempt (not retryable) naming the fix.

Both return an error as its type (the exception's class name, or a ``Podium.*`` name),
its message and, locally, the traceback; ``podium.NonRetryable``, outputs that can
never be stored and events that cannot be sent are not retryable. Both send the event
as the same JSON (``event_json``), so a local function sees what a deployed one would.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import inspect
import json
import sys
import threading
import traceback
from collections.abc import Callable, Container
from dataclasses import replace
from typing import Any

from podium.adapters.regional_clients import RegionalClients
from podium.core.engine.external import is_transient
from podium.core.engine.outputs import OUTPUT_ERROR, output_problem
from podium.core.engine.step_error import PLATFORM_ERROR, TIMEOUT, USER_ERROR
from podium.core.engine.text_fields import utf8_json
from podium.core.errors import NON_RETRYABLE, non_retryable
from podium.core.expr import ExpressionError
from podium.core.expr.json_values import to_json_value
from podium.core.functions import is_python_ref, mapped, unmapped_message
from podium.core.ports import Invocation, InvocationResult


def _bad_output(message: str) -> InvocationResult:
    return InvocationResult(False, error=message, error_type=OUTPUT_ERROR, retryable=False)


def checked_output(output: Any) -> InvocationResult:
    """A step's output must be standard JSON, nested at most 64 deep, and small."""
    problem, text = output_problem(output)
    if problem is not None:
        return _bad_output(problem)
    return InvocationResult(True, output=json.loads(text))


def event_json(payload: Any) -> bytes | InvocationResult:
    """The event as the JSON Lambda is sent, or why it cannot be: a value with no JSON
    form (NaN, an object) is the definition's fault, refused before any call and never
    retried. Made here, outside the invoke's ``try``, whose failures are the platform's:
    a payload refused in there was retried as a PlatformError for over an hour."""
    try:
        converted = to_json_value(payload, where="")
        # UTF-8, as measured against the payload limit (not 6-byte \u escapes)
        return utf8_json(converted, allow_nan=False)
    except ExpressionError as exc:
        message = exc.message
    except (TypeError, ValueError) as exc:  # not expected once converted: still not ours
        message = str(exc)
    return InvocationResult(
        False,
        error=f"the event cannot be sent as JSON: {message}",
        error_type=USER_ERROR,
        retryable=False,
    )


class FunctionNotMapped(LookupError):
    """A Lambda name the local runner has no callable for."""


class LocalFunctionRunner:
    """Runs ``package.module:function`` in this process: the embedded runtime's Lambda.

    ``functions`` maps Lambda names (or ARNs) to the callables that play them locally;
    an unmapped Lambda name fails the attempt with Podium.FunctionNotMapped. The callable
    gets ``(event)`` or ``(event, context)``; an exception fails the attempt.
    With a timeout, the call runs on a thread and the attempt fails with Podium.Timeout
    when it overruns (a Python thread cannot be killed: it finishes in the background
    and its result is dropped).
    """

    def __init__(self, functions: dict[str, str] | None = None, capture: Any = None) -> None:
        self._cache: dict[str, Callable[..., Any]] = {}
        self.functions: dict[str, str] = dict(functions or {})
        # Keeps what an async call prints, and its error, in the attempt's log
        # (local/capture.AttemptCapture: ``run(key, work)``); an async call outlives the
        # invoke that a CapturingRunner captures around. None: this process's streams.
        self.capture = capture

    def plays(self, function: str) -> bool:
        """Whether ``function`` is called here: mapped, or a ``module:function`` ref."""
        return mapped(self.functions, function) is not None or is_python_ref(function)

    def resolve(self, ref: str) -> Callable[..., Any]:
        fn = self._cache.get(ref)
        if fn is None:
            target = mapped(self.functions, ref)
            if target is not None:
                fn = self.resolve(target)
                self._cache[ref] = fn
                return fn
            if not is_python_ref(ref):
                raise FunctionNotMapped(unmapped_message(ref))
            module_name, sep, attr = ref.partition(":")
            if not sep or not module_name or not attr:
                raise ValueError(f"'{ref}' is not a local function; use 'package.module:function'")
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
            if not callable(obj):
                raise ValueError(f"'{ref}' is not callable")
            fn = obj
            self._cache[ref] = fn
        return fn

    def invoke(self, invocation: Invocation) -> InvocationResult:
        try:
            fn = self.resolve(invocation.function)
        except FunctionNotMapped as exc:  # a Lambda name with no local mapping
            return InvocationResult(
                False, error=str(exc), error_type="Podium.FunctionNotMapped", retryable=False
            )
        except (ImportError, AttributeError, ValueError) as exc:
            return InvocationResult(
                False,
                error=f"cannot load {invocation.function}: {exc}",
                error_type="Podium.FunctionNotFound",
                retryable=False,
            )
        if invocation.timeout_seconds is None:
            return self._call(fn, invocation)
        box: list[InvocationResult] = []
        # The caller's context (the local home's per-attempt output capture) goes along.
        context = contextvars.copy_context()
        worker = threading.Thread(
            target=lambda: box.append(context.run(self._call, fn, invocation)), daemon=True
        )
        worker.start()
        worker.join(invocation.timeout_seconds)
        if not box:
            return InvocationResult(
                False,
                error=f"the function ran longer than the step's timeout of"
                f" {invocation.timeout_seconds:g} s",
                error_type=TIMEOUT,
            )
        return box[0]

    def invoke_async(self, invocation: Invocation) -> InvocationResult:
        """Lambda's ``Event`` invocation, locally: the callable runs on a thread of its
        own and its return value is dropped (it reports with its callback_token)."""
        try:
            fn = self.resolve(invocation.function)
        except FunctionNotMapped as exc:
            return InvocationResult(
                False, error=str(exc), error_type="Podium.FunctionNotMapped", retryable=False
            )
        except (ImportError, AttributeError, ValueError) as exc:
            return InvocationResult(
                False,
                error=f"cannot load {invocation.function}: {exc}",
                error_type="Podium.FunctionNotFound",
                retryable=False,
            )
        refused = event_json(invocation.payload)
        if isinstance(refused, InvocationResult):  # refused before queueing, as Lambda's
            return refused
        context = contextvars.copy_context()

        def call() -> None:
            if self.capture is None:
                self._call_async(fn, invocation)
            else:
                self.capture.run(
                    invocation.idempotency_key, lambda: self._call_async(fn, invocation)
                )

        threading.Thread(target=lambda: context.run(call), daemon=True).start()
        return InvocationResult(True)

    def _call_async(self, fn: Callable[..., Any], invocation: Invocation) -> None:
        """The call, its outcome dropped, as Lambda drops an Event invocation's; a
        failure is printed to stderr as Lambda's runtime logs it to the function's log
        group (dropped too, an exception left no trace: the step just waited for its
        timeout): in the attempt's log with a ``capture``, else on this process's
        stderr."""
        result = self._call(fn, invocation)
        if result.ok:
            return
        lines = f"[ERROR] {result.error_type}: {result.error}\n"
        if result.traceback:
            lines += result.traceback.rstrip("\n") + "\n"
        with contextlib.suppress(Exception):  # a stream closed meanwhile: nothing to tell
            sys.stderr.write(lines)
            sys.stderr.flush()

    def _call(self, fn: Callable[..., Any], invocation: Invocation) -> InvocationResult:
        data = event_json(invocation.payload)
        if isinstance(data, InvocationResult):
            return data
        # Decoded from the very bytes Lambda would get: the same types (no datetime),
        # and a function that changes its event changes nothing of ours.
        event = json.loads(data)
        try:
            takes_context = len(inspect.signature(fn).parameters) >= 2
            output = fn(event, _LocalContext(invocation)) if takes_context else fn(event)
        except Exception as exc:  # the user's code failed: that is the attempt's outcome
            frames = traceback.extract_tb(exc.__traceback__)
            where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})"
            return InvocationResult(
                False,
                error=f"{_message(exc)}{where if frames else ''}",
                error_type=type(exc).__name__,
                retryable=not non_retryable(exc),
                traceback=_traceback(exc),
            )
        except SystemExit as exc:  # sys.exit() in the step (argparse does it): as Lambda
            # reports a function that exited, not the end of this process; the attempt
            # fails (it killed `podium run`, and the next runs on the home redelivered it).
            return InvocationResult(
                False,
                error=f"the function exited (sys.exit({exc.code!r})) before returning",
                error_type="Runtime.ExitError",
                retryable=True,
                traceback=_traceback(exc),
            )
        return checked_output(output)


def _message(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a user's __str__ may raise too
        return f"<{type(exc).__name__} with an unprintable message>"


def _traceback(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(exc))
    except Exception:
        return f"{type(exc).__name__} (traceback unavailable)"


class _LocalContext:
    def __init__(self, invocation: Invocation) -> None:
        self.function_name = invocation.function
        self.aws_request_id = invocation.idempotency_key

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


# Lambda's own errors that mean "the platform", not the function's code: throttling,
# the service's faults, a function being updated, a VPC function whose network
# interface, subnet addresses or EFS mount are not there yet.
_PLATFORM_FAILURES = {
    "TooManyRequestsException",
    "ServiceException",
    "EC2ThrottledException",
    "EC2UnexpectedException",
    "ENILimitReachedException",
    "SubnetIPAddressLimitReachedException",
    "EFSMountTimeoutException",
    "ResourceNotReadyException",
    "ResourceConflictException",
}
# Answered with a 5xx, yet the function's configuration, which no retry fixes.
_CONFIGURATION_FAILURES = {
    "InvalidSubnetIDException",
    "InvalidSecurityGroupIDException",
    "EC2AccessDeniedException",
    "KMSAccessDeniedException",
    "KMSDisabledException",
    "KMSInvalidStateException",
    "KMSNotFoundException",
    "InvalidZipFileException",
    "InvalidRuntimeException",
}
FUNCTION_NOT_FOUND = "Podium.FunctionNotFound"
# Lambda's errorType (a FunctionError: Unhandled answer) for a result over the 6 MB a
# synchronous Invoke's response carries: the function ran to its end, its output is lost.
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"


def invoke_failure(exc: BaseException) -> InvocationResult:
    """A failed Invoke call (botocore's ClientError, or a connection error without a
    code): transient ones (Lambda's platform codes, throttling, any 429 or 5xx not
    about the function's configuration, no answer) are platform errors, retried; a
    missing function is Podium.FunctionNotFound; the rest keep Lambda's code, not
    retried."""
    response: Any = getattr(exc, "response", None)
    response = response if isinstance(response, dict) else {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    status = status if isinstance(status, int) else None
    if code == "ResourceNotFoundException":
        return InvocationResult(
            False, error=str(exc), error_type=FUNCTION_NOT_FOUND, retryable=False
        )
    if code in _PLATFORM_FAILURES or (
        code not in _CONFIGURATION_FAILURES and is_transient(code, status)
    ):
        return InvocationResult(False, error=str(exc), error_type=PLATFORM_ERROR)
    return InvocationResult(False, error=str(exc), error_type=code, retryable=False)


class LambdaFunctionRunner:
    """Synchronous ``Invoke`` of a Lambda function, restricted to an allowed set.

    Lambda answers only for its own region's functions ("Functions from 'eu-west-1'
    are not reachable in this region"): a function ARN of another region is invoked
    through a client of that region, made once by ``client_for_region``."""

    def __init__(
        self,
        client: Any,
        allowed: Container[str] | None = None,
        *,
        client_for_region: Callable[[str], Any] | None = None,
    ) -> None:
        # None = any (IAM still limits what can be invoked); bootstrap gives a
        # FunctionAllowlist, matched as IAM matches the grant (adapters/function_allowlist).
        self._allowed = allowed
        self._clients = RegionalClients(client, client_for_region)

    def _client(self, function: str) -> Any:
        return self._clients.for_function(function)

    def invoke(self, invocation: Invocation) -> InvocationResult:
        name = invocation.function
        if self._allowed is not None and name not in self._allowed:
            return InvocationResult(
                False,
                error=f"function '{name}' is not in this deployment's allowed functions; add it"
                " to the Podium construct's allowed_function_arns",
                error_type="Podium.FunctionNotAllowed",
                retryable=False,
            )
        data = event_json(invocation.payload)
        if isinstance(data, InvocationResult):
            return data
        try:
            resp = self._client(name).invoke(
                FunctionName=name, InvocationType="RequestResponse", Payload=data
            )
            # Read in here too: the answer streams after its headers, and a read that
            # fails (a connection reset, botocore's ResponseStreamingError) left the
            # attempt RUNNING until its lease passed, then retried as a lost worker.
            raw = resp["Payload"].read()
        except Exception as exc:  # botocore's ClientError and connection errors
            return invoke_failure(exc)
        request_id = resp.get("ResponseMetadata", {}).get("RequestId")
        result = self._result(resp, raw)
        return replace(result, request_id=request_id) if request_id else result

    def invoke_async(self, invocation: Invocation) -> InvocationResult:
        """An ``Event`` invocation: Lambda queues it and answers 202 at once."""
        name = invocation.function
        if self._allowed is not None and name not in self._allowed:
            return self.invoke(invocation)  # the same refusal, naming the fix
        data = event_json(invocation.payload)
        if isinstance(data, InvocationResult):
            return data
        try:
            self._client(name).invoke(FunctionName=name, InvocationType="Event", Payload=data)
        except Exception as exc:  # botocore's ClientError and connection errors
            return invoke_failure(exc)
        return InvocationResult(True)

    def _result(self, resp: Any, raw: bytes) -> InvocationResult:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return InvocationResult(
                False,
                error="the function returned a payload that is not JSON",
                error_type=OUTPUT_ERROR,
                retryable=False,
            )
        if resp.get("FunctionError"):
            message = body.get("errorMessage") if isinstance(body, dict) else str(body)
            kind = body.get("errorType", "Error") if isinstance(body, dict) else "Error"
            trace = body.get("stackTrace") if isinstance(body, dict) else None
            if isinstance(message, str) and "Task timed out" in message:
                kind = TIMEOUT
            if kind == RESPONSE_TOO_LARGE:  # the same code returns as much again: no retry
                return _bad_output(
                    f"the function's result is over Lambda's 6 MB response limit ({message});"
                    " a deployed lambda step's output must fit in it: write large results"
                    " to S3 and return the key"
                )
            return InvocationResult(
                False,
                error=str(message),
                error_type=str(kind),
                retryable=kind != NON_RETRYABLE,
                traceback=stack_trace(trace),
            )
        return checked_output(body)


def stack_trace(trace: Any) -> str | None:
    """A function error's ``stackTrace`` as text: its lines (Python's end with a
    newline) joined as they are, a Go panic's frames ``{path, line, label}`` one to a
    line (joined as strings, they raised TypeError outside any handling: the attempt was
    lost and the function called again)."""
    if isinstance(trace, str):
        return trace
    if not isinstance(trace, list):
        return None
    return "".join(_frame(frame) for frame in trace)


def _frame(frame: Any) -> str:
    if isinstance(frame, str):
        return frame
    if isinstance(frame, dict) and {"path", "line"} <= frame.keys():
        label = f" in {frame['label']}" if frame.get("label") else ""
        return f"  {frame['path']}:{frame['line']}{label}\n"
    return json.dumps(frame, default=str) + "\n"


class RoutingRunner:
    """Local callables for ``module:function`` refs and mapped Lambda names, Lambda for
    the other names and ARNs (without a remote runner, those fail as unmapped)."""

    def __init__(self, local: LocalFunctionRunner, remote: LambdaFunctionRunner | None) -> None:
        self._local, self._remote = local, remote

    def invoke(self, invocation: Invocation) -> InvocationResult:
        if self._remote is None or self._local.plays(invocation.function):
            return self._local.invoke(invocation)
        return self._remote.invoke(invocation)

    def invoke_async(self, invocation: Invocation) -> InvocationResult:
        if self._remote is None or self._local.plays(invocation.function):
            return self._local.invoke_async(invocation)
        return self._remote.invoke_async(invocation)
