"""FunctionRunner adapters: AWS Lambda, and local Python callables (``module:function``)."""

from __future__ import annotations

import importlib
import inspect
import json
import traceback
from collections.abc import Callable
from typing import Any

from podium.core.ports import Invocation, InvocationResult

MAX_OUTPUT_BYTES = 256 * 1024


def _checked_output(output: Any) -> InvocationResult:
    try:
        text = json.dumps(output)
    except (TypeError, ValueError) as exc:
        return InvocationResult(False, error=f"output is not JSON-serializable: {exc}")
    if len(text) > MAX_OUTPUT_BYTES:
        return InvocationResult(
            False, error=f"output is {len(text)} bytes; the limit is {MAX_OUTPUT_BYTES}"
        )
    return InvocationResult(True, output=json.loads(text))


class LocalFunctionRunner:
    """Runs ``package.module:function`` in this process: the embedded runtime's Lambda.

    The callable gets ``(event)`` or ``(event, context)``; an exception fails the attempt.
    """

    def __init__(self) -> None:
        self._cache: dict[str, Callable[..., Any]] = {}

    def resolve(self, ref: str) -> Callable[..., Any]:
        fn = self._cache.get(ref)
        if fn is None:
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
        except (ImportError, AttributeError, ValueError) as exc:
            return InvocationResult(False, error=f"cannot load {invocation.function}: {exc}")
        event = dict(invocation.payload)
        try:
            takes_context = len(inspect.signature(fn).parameters) >= 2
            output = fn(event, _LocalContext(invocation)) if takes_context else fn(event)
        except Exception as exc:  # the user's code failed: that is the attempt's outcome
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            where = f" ({tb.filename.rsplit('/', 1)[-1]}:{tb.lineno})" if tb else ""
            return InvocationResult(False, error=f"{type(exc).__name__}: {exc}{where}")
        return _checked_output(output)


class _LocalContext:
    def __init__(self, invocation: Invocation) -> None:
        self.function_name = invocation.function
        self.aws_request_id = invocation.idempotency_key

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


class LambdaFunctionRunner:
    """Synchronous ``Invoke`` of a Lambda function, restricted to an allowed set."""

    def __init__(self, client: Any, allowed: frozenset[str] | None = None) -> None:
        self._lambda = client
        self._allowed = allowed  # None = any (IAM still limits what can be invoked)

    def invoke(self, invocation: Invocation) -> InvocationResult:
        name = invocation.function
        if self._allowed is not None and name not in self._allowed:
            return InvocationResult(
                False,
                error=f"function '{name}' is not in this deployment's allowed functions; add it"
                " to the Podium construct's allowed_function_arns",
            )
        resp = self._lambda.invoke(
            FunctionName=name,
            InvocationType="RequestResponse",
            Payload=json.dumps(invocation.payload).encode(),
        )
        raw = resp["Payload"].read()
        body = json.loads(raw) if raw else None
        if resp.get("FunctionError"):
            message = body.get("errorMessage") if isinstance(body, dict) else str(body)
            kind = body.get("errorType", "Error") if isinstance(body, dict) else "Error"
            return InvocationResult(False, error=f"{kind}: {message}")
        return _checked_output(body)


class RoutingRunner:
    """Local callables for ``module:function`` refs, Lambda for names and ARNs."""

    def __init__(self, local: LocalFunctionRunner, remote: LambdaFunctionRunner | None) -> None:
        self._local, self._remote = local, remote

    def invoke(self, invocation: Invocation) -> InvocationResult:
        fn = invocation.function
        if (":" in fn and not fn.startswith("arn:")) or self._remote is None:
            return self._local.invoke(invocation)
        return self._remote.invoke(invocation)
