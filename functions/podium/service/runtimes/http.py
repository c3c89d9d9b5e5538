"""The http step: one request, synchronous (bounded by its connect and read timeouts),
to a host on the deployment's allow-list (core/engine/http_rules.py decides what is
reachable and what a response means). The request carries ``Idempotency-Key:
run/step/attempt`` so the service can de-duplicate a retried call."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from podium.core.engine.http_rules import (
    host_allowed,
    judge,
    not_allowed,
    parse_body,
    too_large,
    transport_error,
    without_secrets,
)
from podium.core.engine.outputs import OUTPUT_ERROR, output_problem
from podium.core.engine.records import RunRecord, StepRecord
from podium.core.engine.step_error import StepError, platform_error, user_error
from podium.core.engine.text_fields import as_text, utf8_json
from podium.core.expr import ExpressionError
from podium.core.ports import HttpCall, HttpTransportError, SecretNotFound
from podium.service.context import Services
from podium.service.http_urls import parse_url
from podium.service.runtimes.base import Attempt, Done, Failed, Result
from podium.service.runtimes.external import render_request

LOST_CALL = "the worker making this HTTP call stopped before it recorded the response"
# The transport error of a local [http.map] stand-in that answered what no server could
# (adapters/http_transport.MappedHttpTransport): a status that is no status code, a body
# with no JSON form.
STAND_IN = "stand-in"


class HttpRuntime:
    synchronous = True
    has_child_runs = False

    def wait_ms(self, spec: Any) -> int:
        return 0

    def start(self, ctx: Services, attempt: Attempt) -> Result:
        spec = attempt.spec
        try:
            request = render_request(ctx, attempt)
        except ExpressionError as exc:
            return Failed(user_error(exc.message, retryable=False))
        target = parse_url(str(request.get("url")))
        if isinstance(target, str):
            return Failed(user_error(f"url: {target}", retryable=False))
        access = ctx.http
        if access is None or not host_allowed(target, access.allowed_hosts):
            return Failed(not_allowed(target))
        headers = {"user-agent": "podium", "idempotency-key": attempt.key}
        headers.update({k.lower(): as_text(v) for k, v in (request.get("headers") or {}).items()})
        refused = _header_problem(headers)
        if refused is not None:
            return Failed(user_error(refused, retryable=False))
        body = _body(request.get("body"), headers)
        secret: tuple[str, str] | None = None  # (name, value) once in the headers
        if spec.auth is not None:
            try:
                value = spec.auth.prefix + _secret(ctx, spec.auth)
            except SecretNotFound as exc:
                return Failed(StepError.of("Podium.ConfigError", str(exc), retryable=False))
            except Exception as exc:  # throttled, Secrets Manager unavailable: may pass
                # Left raised, the attempt stayed RUNNING until its lease ran out. The
                # lookup's error names the secret at most, never its value.
                why = f"{type(exc).__name__}: {exc}"[:500]
                return Failed(
                    platform_error(f"auth: secret '{spec.auth.secret}' cannot be read now ({why})")
                )
            # Checked here, after the headers above: http.client refuses such a value
            # with a ValueError quoting it, and the step's error is stored and shown.
            refused = _secret_problem(spec.auth.header.lower(), spec.auth.secret, value)
            if refused is not None:
                return Failed(StepError.of("Podium.ConfigError", refused, retryable=False))
            headers[spec.auth.header.lower()] = value
            secret = (spec.auth.secret, value.removeprefix(spec.auth.prefix))
        call = HttpCall(
            spec.method,
            target.scheme,
            target.host,
            target.port,
            target.path,
            headers,
            body,
            # The step's own timeout bounds the call too: each of its two waits.
            min(float(spec.connect_timeout), float(spec.timeout or spec.connect_timeout)),
            min(float(spec.read_timeout), float(spec.timeout or spec.read_timeout)),
            spec.max_response_bytes,
        )
        try:
            reply = access.transport.send(call)
        except HttpTransportError as exc:
            if exc.kind == STAND_IN:  # the same code answers the same again: not retried
                return Failed(StepError.of("Podium.ConfigError", str(exc), retryable=False))
            return Failed(_without_secret(transport_error(exc.kind, str(exc)), secret))
        except ValueError as exc:  # http.client refused to write the request (UnicodeError)
            # Never its text: http.client quotes the refused header value, which may be
            # the auth secret; only the exception's type goes into the error.
            why = (
                f"the request cannot be sent as HTTP ({type(exc).__name__}): its method, path"
                " and header values must be Latin-1 text without line breaks"
            )
            return Failed(user_error(why, retryable=False))
        if reply.too_large:
            return Failed(too_large(spec.max_response_bytes))
        try:
            parsed = parse_body(reply.body, reply.headers.get("content-type", ""))
        except RecursionError:  # JSON nested thousands deep: the parser gives up
            parsed = None
            problem: str | None = "the response body nests too deep to read"
        else:
            problem, _ = output_problem(parsed, "the response body")
        error = judge(reply.status, parsed, reply.headers, spec.success, [secret] if secret else [])
        if error is not None:
            return Failed(_without_secret(error, secret))
        if problem is not None:  # NaN (Python's json.dumps writes it), too deep
            return Failed(StepError.of(OUTPUT_ERROR, problem, retryable=False))
        return Done(parsed)

    def on_event(self, ctx: Services, attempt: Attempt, event: Mapping[str, Any]) -> Result:
        return self.poll(ctx, attempt)

    def poll(self, ctx: Services, attempt: Attempt) -> Result:
        return Failed(platform_error(LOST_CALL))

    def child_runs(self, ctx: Services, run: RunRecord, record: StepRecord) -> list[str]:
        return []  # no child runs

    def terminate(self, ctx: Services, attempt: Attempt, reason: str) -> None:
        return None  # a call in flight ends with its read timeout; its result is dropped


def _body(value: Any, headers: dict[str, str]) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        headers.setdefault("content-type", "text/plain; charset=utf-8")
        return value.encode()
    headers.setdefault("content-type", "application/json")
    return utf8_json(value)  # UTF-8, as measured against the payload limit


def _secret(ctx: Services, auth: Any) -> str:
    secrets = ctx.http.secrets if ctx.http is not None else None
    if secrets is None:
        raise SecretNotFound(f"secret '{auth.secret}': this deployment reads no secrets")
    value = secrets.get(auth.secret)
    if auth.key is None:
        return value
    try:
        data = json.loads(value)
    except ValueError:
        raise SecretNotFound(f"secret '{auth.secret}' is not JSON; drop auth.key") from None
    if not isinstance(data, dict) or auth.key not in data:
        raise SecretNotFound(f"secret '{auth.secret}' has no field '{auth.key}'")
    return str(data[auth.key])


def _without_secret(error: StepError, secret: tuple[str, str] | None) -> StepError:
    """``error`` with the auth secret's value replaced by its name (a transport error's
    text, and whatever of it ``judge`` did not quote). Only a failed call pays the
    replace."""
    if secret is None:
        return error
    message = without_secrets(error.message, [secret])
    return error if message == error.message else replace(error, message=message)


def _secret_problem(header: str, secret: str, value: str) -> str | None:
    """Why the auth header cannot carry ``value``; names the header and the secret, and
    never says anything of the value (not even which character is wrong, or where)."""
    if any(c in value for c in "\r\n\0"):
        return (
            f"auth: secret '{secret}' cannot be sent in header '{header}': it holds a line"
            " break or NUL (a trailing newline saved with the secret?)"
        )
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return (
            f"auth: secret '{secret}' cannot be sent in header '{header}': HTTP carries"
            " header values as Latin-1, and it holds other characters"
        )
    return None


# An HTTP field name is a token (RFC 9110 5.1); a value cannot hold a line break or NUL
# (a rendered value with one would split the request), and http.client sends Latin-1.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _header_problem(headers: Mapping[str, str]) -> str | None:
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            return f"headers: {name[:60]!r} is not a header name (letters, digits, '-')"
        if any(c in value for c in "\r\n\0"):
            return f"headers.{name}: a value cannot hold a line break or NUL"
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            return (
                f"headers.{name}: HTTP carries header values as Latin-1; percent-encode"
                " (or base64) a value with other characters"
            )
    return None
