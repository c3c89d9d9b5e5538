"""Request bodies of the HTTP API: decoded, bounded and validated with path-precise errors.

Everything a caller sends passes through here before any service code sees it, so each
limit is checked once, with a message that names the place and the fix
(docs/operations.md lists the limits).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import zlib
from http import HTTPStatus
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from podium.core.dsl.errors import DefinitionError, request_issues
from podium.core.dsl.load import MAX_DEFINITION_CHARS, MAX_DOCUMENT_DEPTH, check_depth
from podium.core.dsl.models import WORKFLOW_NAME

RUN_ID = r"^[A-Za-z0-9_-]{1,64}$"

MAX_BODY_BYTES = 5 * 1024 * 1024
"""Bytes of a request body as sent (after base64, before gzip). Lambda accepts 6 MB."""
MAX_DECOMPRESSED_BYTES = MAX_DEFINITION_CHARS
"""Bytes of a gzip-encoded body once decompressed."""

_WORKFLOW_NAME = re.compile(WORKFLOW_NAME)
# A run id in a path may name a child run too (a loop iteration, a subworkflow):
# "<run id>.<step>.<index>", up to the nesting limit (core/engine/identity.py).
_ANY_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z_][A-Za-z0-9_]{0,79}\.[0-9]{1,6}){0,10}$")
# A lone surrogate can only come from a \uD800-\uDFFF escape in valid UTF-8 JSON text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class RequestError(Exception):
    """A request the API refuses before it reaches a use case: status, code, place, fix."""

    def __init__(self, status: HTTPStatus, code: str, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.status, self.code, self.path, self.message = status, code, path, message


def decode_body(
    body: str | None, is_base64: bool, content_encoding: str | None = None
) -> str | None:
    """The body as text: base64 and gzip undone, size and UTF-8 checked."""
    if body is None or body == "":
        return None
    if len(body) > MAX_BODY_BYTES * 4 // 3 + 4:
        raise _too_large(len(body))
    raw: bytes
    if is_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                "invalid_body",
                "body",
                "the body is marked base64-encoded but is not valid base64;"
                " send it encoded with the standard alphabet, or as plain text",
            ) from None
    else:
        raw = body.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise _too_large(len(raw))
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("gzip", "deflate"):
        raw = _decompress(raw, encoding)
    elif encoding not in ("", "identity"):
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            "headers.content-encoding",
            f"content-encoding {encoding!r} is not supported; use gzip or none",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_body",
            "body",
            f"the body is not valid UTF-8 (byte {exc.start}); send UTF-8 text",
        ) from None


def _too_large(size: int) -> RequestError:
    return RequestError(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "body_too_large",
        "body",
        f"the body is {size:,} bytes, over the limit of {MAX_BODY_BYTES:,};"
        " send it gzip-compressed (content-encoding: gzip) or split the workflow",
    )


def _decompress(raw: bytes, encoding: str) -> bytes:
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(raw, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_body",
            "body",
            f"content-encoding is {encoding} but the body does not decompress",
        ) from None
    if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "body_too_large",
            "body",
            f"the body decompresses to more than {MAX_DECOMPRESSED_BYTES:,} bytes;"
            " split the workflow",
        )
    return out


class _NotJson(ValueError):
    """NaN, Infinity or a number too big for a double: Python's json reads them, JSON
    has none, and every answer echoing them back would not be JSON either."""


def _not_json(constant: str) -> Any:
    raise _NotJson(f"{constant} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"{text[:40]} is too big for a double")
    return value


def parse_json_body(text: str | None) -> Any:
    """JSON with bounded nesting and no lone surrogates; None for an empty body."""
    if text is None or not text.strip():
        return None
    try:
        data = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except _NotJson as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_json",
            "body",
            f"invalid JSON: {exc}; JSON numbers are finite (send null or a string)",
        ) from None
    except json.JSONDecodeError as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_json",
            "body",
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
        ) from None
    except RecursionError:
        raise _too_deep("body") from None
    except ValueError as exc:  # an int of more than 4,300 digits
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_json",
            "body",
            "invalid JSON: a number has more than 4,300 digits; write it as a string"
            if "integer string conversion" in str(exc)
            else f"invalid JSON: {str(exc)[:200]}",
        ) from None
    deep = check_depth(data)
    if deep is not None:
        raise _too_deep(f"body.{deep}")
    if _SURROGATE_ESCAPE.search(text):
        where = find_lone_surrogate(data)
        if where is not None:
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                "invalid_json",
                f"body.{where}" if where else "body",
                "contains a lone surrogate escape (\\ud800 to \\udfff), which is not"
                " valid Unicode; escape characters outside the BMP as a surrogate pair",
            )
    return data


def _too_deep(path: str) -> RequestError:
    return RequestError(
        HTTPStatus.BAD_REQUEST,
        "too_deep",
        path,
        f"JSON nested more than {MAX_DOCUMENT_DEPTH} levels deep; flatten it",
    )


def _has_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_lone_surrogate(data: Any) -> str | None:
    """The path of the first string (or key) holding a lone surrogate, or None."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _has_surrogate(value):
                return path
        elif isinstance(value, dict):
            for k, v in value.items():
                sub = f"{path}.{k}" if path else str(k)
                if _has_surrogate(k):
                    return path or "(key)"
                stack.append((v, sub))
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
    return None


def check_workflow_name(name: str) -> None:
    if not _WORKFLOW_NAME.match(name):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_name",
            "path.name",
            f"{name[:100]!r} is not a workflow name: start with a letter and use only"
            " letters, digits, '_' or '-' (at most 80)",
        )


def check_run_id(run_id: str) -> None:
    if len(run_id) > 1100 or not _ANY_RUN_ID.match(run_id):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_run_id",
            "path.run_id",
            f"{run_id[:100]!r} is not a run id: use 1 to 64 letters, digits, '_' or '-'",
        )


class StartRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    params: dict[str, Any] = Field(default_factory=dict)
    # strict: true and "1" are not version 1 (pydantic's lax mode took them)
    version: Annotated[int, Field(ge=1, le=10**9, strict=True)] | None = None
    # A client token: the same run_id twice starts one run (safe retries).
    run_id: Annotated[str, Field(pattern=RUN_ID)] | None = None
    # The run's own tags, over its workflow's (core/tags.py checks them).
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def given_params(self) -> dict[str, Any] | None:
        """The params the caller sent, or None when the request left them out (a retry
        that omits them returns the run started under its run_id)."""
        return self.params if "params" in self.model_fields_set else None


def parse_start_run(body: Any) -> StartRunRequest:
    try:
        request = StartRunRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise DefinitionError(request_issues(exc.errors())) from None
    from podium.core.tags import tag_issues

    issues = tag_issues(request.tags, "body.tags")
    if issues:
        raise DefinitionError(issues)
    return request
