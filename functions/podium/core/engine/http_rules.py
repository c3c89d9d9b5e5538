"""The http step's rules, pure: which hosts may be called, and what a response means.

- A host is reachable only when the deployment's allow-list names it: ``api.example.com``,
  ``*.example.com`` (any subdomain, not the domain itself), ``host:port`` (only that
  port), an IPv6 address (``::1``, ``[2001:db8::1]:8443``). Nothing is reachable by
  default.
- A response succeeds on 2xx, or when the step's ``success:`` expression holds. A failure
  is ``Podium.HttpError``: retryable unless its status is a 3xx, or a 4xx other than 408
  and 429 (a bad request, or a redirect, does not get better by asking again). A
  ``success:`` that cannot be evaluated on an error response (a 503's body has no
  ``state``) is that response's failure, not the expression's: the status decides.
- Redirects are not followed (the allow-list cannot be walked around): a 3xx names its
  ``Location``, the URL to write in the step.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from podium.core.engine.step_error import StepError
from podium.core.expr import ExpressionError, compile_expression
from podium.core.expr.shown import type_label
from podium.core.text_checks import is_ascii_digits

HTTP_ERROR = "Podium.HttpError"
HOST_NOT_ALLOWED = "Podium.HttpHostNotAllowed"
TOO_LARGE = "Podium.HttpResponseTooLarge"
BODY_EXCERPT_CHARS = 500


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query


def _entry_parts(entry: str) -> tuple[str, str]:
    """An allow-list entry's host and port (``""`` for any): ``host``, ``host:port``,
    an IPv6 address (``::1``: its colons are no port), or ``[addr]:port``."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if entry.count(":") > 1:
        return entry, ""
    host, _, port = entry.partition(":")
    return host, port


def host_allowed(target: Target, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        host, port = _entry_parts(entry)
        if port and (not is_ascii_digits(port) or int(port) != target.port):
            continue
        if host.startswith("*."):
            if target.host.endswith(host[1:]) and target.host != host[2:]:
                return True
        elif host == target.host:
            return True
    return False


def not_allowed(target: Target) -> StepError:
    return StepError.of(
        HOST_NOT_ALLOWED,
        f"host '{target.host}' (port {target.port}) is not on this deployment's HTTP"
        " allow-list; add it to the Podium construct's http_hosts (locally: [http]"
        " allowed_hosts in podium.toml)",
        retryable=False,
    )


def parse_body(raw: bytes, content_type: str) -> Any:
    """JSON when it parses as JSON (whatever the content type says: ``42`` is 42), else
    the text, decoded with the charset the content type declares (UTF-8 when none, or
    one Python does not know; a byte order mark is dropped); an empty body is null."""
    if not raw:
        return None
    text = raw.decode(_codec_of(content_type), errors="replace")
    try:
        return json.loads(text)
    except ValueError:  # not JSON (nested past Python's limit raises: the caller's)
        return text


def _codec_of(content_type: str) -> str:
    """The codec of a Content-Type's ``charset`` parameter; ``utf-8-sig`` for UTF-8 (a
    BOM some servers put before JSON is not part of it)."""
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
            try:
                codec = codecs.lookup(charset).name
            except LookupError:
                break
            return "utf-8-sig" if codec == "utf-8" else codec
    return "utf-8-sig"


def retryable_status(status: int) -> bool:
    """A 3xx (redirects are not followed: asking again is redirected again) and a 4xx
    other than 408 and 429 are not retried; any other status is."""
    return not (300 <= status < 500) or status in (408, 429)


# A secret's value shorter than this is left in place: it would blank out ordinary
# text (and says little).
MIN_SECRET_CHARS = 4


def without_secrets(text: str, secrets: Iterable[tuple[str, str]]) -> str:
    """``text`` with each secret's value (``(name, value)`` pairs) replaced by its name:
    a server may echo the request's credentials in an error body, and the step's error
    is stored, shown and published. The value as JSON writes it inside a string too
    (a body quoted as JSON escapes quotes, backslashes and non-ASCII)."""
    for name, value in secrets:
        forms = {value, value.strip(), json.dumps(value)[1:-1], json.dumps(value.strip())[1:-1]}
        for part in sorted(forms, key=len, reverse=True):
            if len(part) >= MIN_SECRET_CHARS:
                text = text.replace(part, f"<secret '{name}'>")
    return text


def judge(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    success: str | None,
    secrets: Iterable[tuple[str, str]] = (),
) -> StepError | None:
    """None when the response is a success; else the step's error. ``secrets`` (name,
    value) are taken out of the quoted body and location before they are cut to their
    excerpt: a secret cut by the excerpt's end would not be found whole after."""
    failed = not 200 <= status < 300
    held = ""  # what the success expression said, when it was given
    if success is not None:
        response = {"status": status, "body": body, "headers": dict(headers)}
        try:
            value = compile_expression(success).evaluate({"response": response})
        except ExpressionError as exc:
            if not failed:  # a 2xx the expression cannot read: the expression's fault
                return StepError.of(
                    "Podium.UserError",
                    f"success: {exc.message} (on HTTP {status})",
                    retryable=False,
                )
            # An error response (a 503's error document, text, no body) has not the
            # shape of a good one: the status, not the expression, decides.
            value = False
            held = f" (the success expression cannot be evaluated on it: {exc.message})"
        if not isinstance(value, bool):
            return StepError.of(
                "Podium.UserError",
                f"success must be true or false, got {type_label(value)}",
                retryable=False,
            )
        if value:
            return None
        failed = True
        held = held or " (the success expression does not hold)"
    if not failed:
        return None
    message = f"HTTP {status}{held}"
    secrets = tuple(secrets)
    location = headers.get("location") if 300 <= status < 400 else None
    if location:
        location = without_secrets(location, secrets)
        message += (
            f": redirected to {location[:BODY_EXCERPT_CHARS]}, and redirects are not"
            " followed; write that URL in the step (and add its host to the allow-list if"
            " it is another host)"
        )
    elif body is not None:  # an empty body is no excerpt (not the JSON literal null)
        excerpt = body if isinstance(body, str) else json.dumps(body, default=str)
        excerpt = without_secrets(excerpt, secrets)[:BODY_EXCERPT_CHARS]
        if excerpt:
            message += f": {excerpt}"
    return StepError.of(
        HTTP_ERROR, message, retryable=retryable_status(status), details={"status": status}
    )


def too_large(limit: int) -> StepError:
    return StepError.of(
        TOO_LARGE,
        f"the response is over the step's max_response_bytes of {limit:,}; raise it (up to"
        " 10 MB) or have the service write the result to S3 and return its key",
        retryable=False,
    )


def transport_error(kind: str, message: str) -> StepError:
    """No response: refused, reset, DNS, TLS, or a timeout. Retryable."""
    return StepError.of(HTTP_ERROR, f"{kind}: {message}", details={"kind": kind})
