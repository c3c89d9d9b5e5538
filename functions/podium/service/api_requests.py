"""Request bodies of the HTTP API: decoded, bounded and validated with path-precise errors.

Everything a caller sends passes through here before any service code sees it, so each
limit is checked once, with a message that names the place and the fix
(docs/operations.md lists the limits).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import zlib
from collections.abc import Sequence
from http import HTTPStatus
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from podium.core.dsl.errors import DefinitionError, Issue, did_you_mean, request_issues
from podium.core.dsl.load import (
    MAX_DEFINITION_CHARS,
    MAX_DOCUMENT_DEPTH,
    NotJsonNumber,
    RepeatedKeys,
    check_depth,
    loads_strict_json,
)
from podium.core.dsl.models import WORKFLOW_NAME
from podium.core.engine.errors import NotFound
from podium.core.engine.status import RunStatus
from podium.core.text_checks import find_lone_surrogate

RUN_ID = r"^[A-Za-z0-9_-]{1,64}$"

MAX_BODY_BYTES = 5 * 1024 * 1024
"""Bytes of a request body as sent (after base64, before gzip). Lambda accepts 6 MB."""
MAX_DECOMPRESSED_BYTES = MAX_DEFINITION_CHARS
"""Bytes of a gzip-encoded body once decompressed."""

_WORKFLOW_NAME = re.compile(WORKFLOW_NAME)
# A run id in a path may name a child run too (a loop iteration, a subworkflow):
# "<run id>.<step>.<index>", up to the nesting limit (core/engine/identity.py). A child
# that is restarted on its own (a detached subworkflow's run) gets an id derived from
# its own (core/engine/restart_ids.py: "<id>-r1", or cut and suffixed with a digest,
# anywhere in it), and its iterations hang below that: only the characters and the dots
# between non-empty parts are checked here (an id that names no run is a 404).
_ANY_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,80}){0,33}$")
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
        # utf-8-sig: a byte order mark (a Windows editor's .json) is skipped, as RFC 8259
        # 8.1 lets a parser do; json.loads refuses it ("Unexpected UTF-8 BOM").
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_body",
            "body",
            # utf-8-sig counts from after the BOM; the caller counts from the body's start
            f"the body is not valid UTF-8 (byte {exc.start + _bom_bytes(raw)}); send UTF-8 text",
        ) from None


def _bom_bytes(raw: bytes) -> int:
    return len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0


def _too_large(size: int) -> RequestError:
    return RequestError(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "body_too_large",
        "body",
        f"the body is {size:,} bytes, over the limit of {MAX_BODY_BYTES:,};"
        " send it gzip-compressed (content-encoding: gzip) or split the workflow",
    )


_GZIP_MAGIC = b"\x1f\x8b"


def _decompress(raw: bytes, encoding: str) -> bytes:
    """The body inflated, whole: a stream cut short (a client or proxy dropping its tail)
    or bytes after its end are refused, not a prefix of the definition taken for all of
    it. A gzip body of several members (concatenated gzip files) is read to the end."""
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    out = b""
    rest = raw
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            out += inflater.decompress(rest, MAX_DECOMPRESSED_BYTES + 1 - len(out))
        except zlib.error:
            raise _invalid_body(
                f"content-encoding is {encoding} but the body does not decompress"
            ) from None
        if len(out) > MAX_DECOMPRESSED_BYTES or inflater.unconsumed_tail:
            raise RequestError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                "body_too_large",
                "body",
                f"the body decompresses to more than {MAX_DECOMPRESSED_BYTES:,} bytes;"
                " split the workflow",
            )
        if not inflater.eof:
            raise _invalid_body(
                f"the {encoding} body ends early (truncated after {len(raw):,} bytes);"
                " send it whole"
            )
        rest = inflater.unused_data
        if not rest:
            return out
        if encoding != "gzip" or not rest.startswith(_GZIP_MAGIC):
            raise _invalid_body(
                f"{len(rest):,} bytes after the end of the {encoding} stream;"
                " send the compressed body alone"
            )


def _invalid_body(message: str) -> RequestError:
    return RequestError(HTTPStatus.BAD_REQUEST, "invalid_body", "body", message)


def parse_json_body(text: str | None) -> Any:
    """JSON with bounded nesting, no lone surrogates and no key given twice in an object
    (the parser kept the last value and dropped the others); None for an empty body."""
    if text is not None:  # text not from decode_body may still start with its BOM
        text = text.removeprefix("\ufeff")
    if text is None or not text.strip():
        return None
    try:
        data = loads_strict_json(text)
    except RepeatedKeys as exc:
        raise DefinitionError(
            [Issue(f"body.{path}" if path else "body", message) for path, message in exc.issues]
        ) from None
    except NotJsonNumber as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_json",
            "body",
            f"invalid JSON: {exc} (send null or a string)",
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


# ASCII digits only: int() also takes "+5", " 5", "1_0" and other scripts' digits.
_ASCII_INT = re.compile(r"-?[0-9]{1,19}")


def bounded_int(name: str, raw: str, low: int, high: int) -> int:
    """The query parameter ``name`` (its text ``raw``) as an integer from ``low`` to
    ``high``, else a DefinitionError at ``query.<name>``. One rule for the deployed API
    and ``podium dev``, so a page a console asks for is refused the same way on both."""
    value = int(raw) if _ASCII_INT.fullmatch(raw) else low - 1
    if not low <= value <= high:
        raise DefinitionError(
            [Issue(f"query.{name}", f"must be an integer from {low} to {high}, got {raw[:40]!r}")]
        )
    return value


MAX_NAMED_STEPS = 20  # an answer names a few steps, not a workflow's 100,000


def step_choices(step: str, known: Sequence[str]) -> str:
    """What a 404 for an unknown step adds (docs/operations.md, Limits: naming what
    exists): `` (did you mean 'b'?); one of: a, b`` with at most MAX_NAMED_STEPS names."""
    shown = ", ".join(known[:MAX_NAMED_STEPS])
    more = len(known) - MAX_NAMED_STEPS
    listed = f"{shown} and {more:,} more" if more > 0 else shown or "none"
    return f"{did_you_mean(step, known)}; one of: {listed}"


class NoSuchStep(NotFound):
    """A step a run does not have, asked for at ``place`` of the request (``body.step``,
    ``query.step``, ``query.name``, ``query.node``): a 404 naming that place and what
    exists (``step_choices``), as replay and iterations answer one. The message itself
    stays free of the place: the CLI prints it as it is."""

    def __init__(self, message: str, place: str) -> None:
        super().__init__(message)
        self.place = place


def check_workflow_name(name: str, place: str = "path.name") -> None:
    if not _WORKFLOW_NAME.match(name):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_name",
            place,
            f"{name[:100]!r} is not a workflow name: start with a letter and use only"
            " letters, digits, '_' or '-' (at most 80)",
        )


def check_run_id(run_id: str) -> None:
    if len(run_id) > 1100 or not _ANY_RUN_ID.fullmatch(run_id):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "invalid_run_id",
            "path.run_id",
            f"{run_id[:100]!r} is not a run id: use 1 to 64 letters, digits, '_' or '-'"
            " (a loop iteration's or a subworkflow's run: that id, '.', its step and its"
            " index, up to 10 levels)",
        )


def parse_run_statuses(raw: str | None, path: str = "query.status") -> frozenset[RunStatus] | None:
    """``FAILED`` or ``failed,timed_out``: run statuses (any case, comma-separated); None
    when none is given. An unknown one is refused naming the valid ones."""
    if raw is None or not raw.strip():
        return None
    wanted: set[RunStatus] = set()
    for part in raw.split(","):
        name = part.strip().upper()
        if not name:
            continue
        try:
            wanted.add(RunStatus(name))
        except ValueError:
            message = (
                f"unknown run status {part.strip()[:40]!r}; use one of"
                f" {', '.join(s.value for s in RunStatus)} (comma-separated for several)"
            )
            raise DefinitionError([Issue(path, message)]) from None
    return frozenset(wanted) or None


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

    @property
    def given_tags(self) -> dict[str, str] | None:
        """The tags the caller sent, or None when the request left them out (a retry
        that omits them is not compared on them, as for params)."""
        return self.tags if "tags" in self.model_fields_set else None


def body_fields(model: type[BaseModel]) -> list[str]:
    """The fields of a request body, as a caller writes them (``from``, not ``start``)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def parse_start_run(body: Any) -> StartRunRequest:
    try:
        request = StartRunRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise DefinitionError(
            request_issues(exc.errors(), fields=body_fields(StartRunRequest))
        ) from None
    from podium.core.tags import tag_issues

    issues = tag_issues(request.tags, "body.tags")
    if issues:
        raise DefinitionError(issues)
    return request


class ActivateRequest(BaseModel):
    """``POST /workflows/{name}/activate``'s body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # strict: true and "1" are not version 1 (pydantic's lax mode took them)
    version: Annotated[int, Field(ge=1, le=10**9, strict=True)]


class RollbackRequest(BaseModel):
    """``POST /workflows/{name}/rollback`` takes no body (or ``{}``): a field sent with it
    (``{"version": 1}``, meant as a target) was ignored and the version below the active
    one activated, whatever the caller wanted."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoBodyRequest(BaseModel):
    """The body of a route that takes none (or ``{}``): ``POST /workflows/{name}/unblock``,
    ``.../triggers/{trigger}/enable`` and ``/disable``. They did not read it: ``{`` was
    acted on, and ``{"enabled": false}`` sent to /enable enabled the trigger."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BreakpointRequest(BaseModel):
    """``POST /workflows/{name}/breakpoints``'s body: {"action": "set", "step"[,
    "iteration"]} or {"action": "clear"[, "step"[, "iteration"]]}. An unknown field is
    refused: ``iteraton`` ignored set the breakpoint on every iteration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["set", "clear"]
    step: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # No upper bound here: the service names the loop limit (core/engine/loops.py).
    iteration: Annotated[int, Field(ge=0, strict=True)] | None = None


_Request = TypeVar("_Request", bound=BaseModel)


def _parse_body(model: type[_Request], body: Any, wrong: dict[str, str]) -> _Request:
    """``model`` from ``body`` (None: no body, as ``{}``); a field's error says ``wrong``'s
    words for it, an unknown field names the fields."""
    try:
        return model.model_validate(body if body is not None else {})
    except ValidationError as exc:
        issues = request_issues(exc.errors(), fields=body_fields(model))
    said: dict[str, Issue] = {}
    for issue in issues:
        field = issue.path.removeprefix("body.")
        if field in wrong:
            issue = Issue(issue.path, wrong[field])
        said.setdefault(issue.path, issue)
    raise DefinitionError(list(said.values()))


def parse_activate(body: Any) -> ActivateRequest:
    return _parse_body(
        ActivateRequest,
        body,
        {
            "version": 'send the version to activate: {"version": N}, N a whole number, 1 or'
            ' more (a JSON number: not "1" or true)'
        },
    )


def parse_rollback(body: Any) -> RollbackRequest:
    """An empty body; ``version`` refused with the route that takes one."""
    return _parse_body(
        RollbackRequest,
        body,
        {
            "version": "rollback takes no body: it activates the version below the active"
            ' one; to activate version N, POST /workflows/{name}/activate {"version": N}'
        },
    )


def parse_breakpoint(body: Any) -> BreakpointRequest:
    return _parse_body(
        BreakpointRequest,
        body,
        {
            "action": "must be 'set' or 'clear'",
            "step": "must be a step id",
            "iteration": "must be an iteration index (0 or more)",
        },
    )


def parse_unblock(body: Any) -> NoBodyRequest:
    """An empty body: unblock lets the queue of a strict_sequential workflow move on."""
    return _parse_body(NoBodyRequest, body, {})


def parse_trigger_switch(body: Any, enable: bool) -> NoBodyRequest:
    """An empty body: the route says what is done (``enabled`` refused naming the other
    route, for a caller who meant it as the new state)."""
    verb, other = ("enable", "disable") if enable else ("disable", "enable")
    return _parse_body(
        NoBodyRequest,
        body,
        {
            "enabled": f"{verb} takes no body: it {verb}s the trigger; to {other} it,"
            f" POST /workflows/{{name}}/triggers/{{trigger}}/{other}"
        },
    )
