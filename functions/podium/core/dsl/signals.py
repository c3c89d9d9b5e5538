"""The definition language's signal parts: a step's ``wait_for`` and ``emit``.

``wait_for: [{signal: NAME, match: {param: value | {op, value}}, since: any|step_start}]``
holds the step (WAITING_FOR_SIGNALS) until every entry matches a stored signal;
``emit: [{signal: NAME, params: {...}, payload: ...}]`` sends signals once the step has
succeeded. Semantics: docs/workflow-language.md (Signals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.stored import at_push
from podium.core.engine.signals import (
    MAX_PARAMS,
    SIGNAL_NAME,
    ParamMatch,
    parse_match,
    written_params_issues,
    written_payload_issues,
)

MAX_WAITS = 20
MAX_EMITS = 20


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def literal_match(instead: str) -> Callable[[Any, ValidationInfo], Any]:
    """A ``match`` value's check: nothing renders a match (it is compared as written
    with the params of stored signals), so a ``${...}`` in it never matches and the
    step would wait out its timeout; ``instead`` says what to write. A push rule."""

    def check(raw: Any, info: ValidationInfo) -> Any:
        value = raw.get("value") if isinstance(raw, Mapping) else raw
        if isinstance(value, str) and "${" in value and at_push(info):
            raise ValueError(
                f"match values are literals: {value!r} is not rendered, so no signal would"
                f" match it; {instead}"
            )
        return raw

    return check


WaitMatchValue = Annotated[
    Any,
    AfterValidator(
        literal_match(
            "write the value itself, or start the run from a signal trigger that passes the"
            " signal's value as a run param (params: {<param>:"
            ' "${event.signals.<name>.params.<param>}"}; join_keys joins several signals on it)'
        )
    ),
]


class Since(str, Enum):
    ANY = "any"  # any stored signal, also one sent before the step started (Maestro)
    STEP_START = "step_start"  # only signals sent once the step began to wait


class SignalWait(_Model):
    signal: Annotated[str, Field(pattern=SIGNAL_NAME, description="The signal's name.")]
    match: dict[str, WaitMatchValue] = Field(
        default_factory=dict,
        description="Params the signal must have: {param: value} or"
        ' {param: {op: "=|>|>=|<|<=", value: v}}; values are literal strings or ints.',
    )
    since: Since = Since.ANY

    @field_validator("match")
    @classmethod
    def _conditions(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if len(v) > MAX_PARAMS and at_push(info):  # a push rule: see core.dsl.stored
            raise ValueError(
                f"{len(v):,} params to match, but a signal has at most {MAX_PARAMS}: no"
                f" signal could ever match; match at most {MAX_PARAMS}"
            )
        try:
            parse_match(v, "match")
        except DefinitionError as exc:
            raise ValueError("; ".join(str(i) for i in exc.issues)) from None
        return v

    @property
    def conditions(self) -> tuple[ParamMatch, ...]:
        return parse_match(self.match, "match")


class SignalEmit(_Model):
    signal: Annotated[str, Field(pattern=SIGNAL_NAME, description="The signal's name.")]
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Indexed params (strings or ints, or ${...} templates giving one).",
    )
    payload: Any = Field(default=None, description="Any JSON; strings may hold ${...}.")

    @field_validator("params")
    @classmethod
    def _sendable(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # A send refused for its params is only logged (the step has succeeded): the
        # signal would silently never be sent, so literals no send accepts are refused
        # at push, as a wait_for's match is. (A push rule: see core.dsl.stored.)
        issues = written_params_issues(v, "params") if at_push(info) else []
        if issues:
            raise ValueError("; ".join(str(i) for i in issues))
        return v

    @field_validator("payload")
    @classmethod
    def _sendable_payload(cls, v: Any, info: ValidationInfo) -> Any:
        # As params: a payload no send accepts (over 64 KiB, not UTF-8) would only be
        # logged at each success, the signal never sent. (A push rule.)
        issues = written_payload_issues(v, "payload") if at_push(info) else []
        if issues:  # the error is named at the payload already: a path within it only
            raise ValueError(
                "; ".join(i.message if i.path == "payload" else str(i) for i in issues)
            )
        return v


def check_waits(waits: list[SignalWait]) -> list[SignalWait]:
    if len(waits) > MAX_WAITS:
        raise ValueError(f"at most {MAX_WAITS} signals to wait for")
    names = [w.signal for w in waits]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(
            f"signal '{twice[0]}' is waited for twice; merge the entries (one match per"
            " signal name, read as signal.<name>)"
        )
    return waits


def check_emits(emits: list[SignalEmit]) -> list[SignalEmit]:
    if len(emits) > MAX_EMITS:
        raise ValueError(f"at most {MAX_EMITS} signals to emit")
    return emits
