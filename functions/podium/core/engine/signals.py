"""Signals: named messages with indexed params that steps wait for and steps emit.

Maestro's model (maestro-signal): a signal instance has a name, params that can be
matched (strings and int64s only, so every store compares them the same way), a free
payload and a request id. It is stored once: a second send with the same request id
(or, without one, the same name and params) is the same signal. Podium keeps signals
for a TTL (90 days by default) instead of forever.

Pure: ids and the matching rule; no clock reads, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.expr.shown import type_label
from podium.core.text_checks import is_ascii_digits

SIGNAL_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$"
PARAM_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
DEFAULT_TTL_MS = 90 * 86_400_000
MAX_TTL_MS = 365 * 86_400_000
MAX_PARAMS = 20
MAX_STRING_PARAM = 1024
MAX_PAYLOAD_BYTES = 64 * 1024
MAX_REQUEST_ID = 256
INT64 = (-(2**63), 2**63 - 1)

_NAME = re.compile(SIGNAL_NAME)
_PARAM = re.compile(PARAM_NAME)
# How many problems one request is answered with: a body of 100,000 bad params would
# otherwise be answered with 100,000 issues (megabytes, over Lambda's response limit).
MAX_ISSUES = 20

ParamValue = str | int


class Op(str, Enum):
    EQ = "="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


@dataclass(frozen=True, slots=True)
class ParamMatch:
    """``param <op> value``: a signal matches when its param has the same type and the
    comparison holds (a string never equals an int, as in DynamoDB)."""

    param: str
    op: Op
    value: ParamValue


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    params: dict[str, ParamValue]
    signal_id: str  # the de-duplication identity (request id, or name + params)
    sent_at: int  # epoch ms
    expires_at: int  # epoch ms; gone after this
    payload: Any = None
    request_id: str | None = None
    source: str = "api"  # api, cli, emit, bus

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": dict(self.params),
            "payload": self.payload,
            "request_id": self.request_id,
            "signal_id": self.signal_id,
            "sent_at": self.sent_at,
            "expires_at": self.expires_at,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Signal:
        return cls(
            name=str(data["name"]),
            params=dict(data.get("params") or {}),
            signal_id=str(data["signal_id"]),
            sent_at=int(data["sent_at"]),
            expires_at=int(data["expires_at"]),
            payload=data.get("payload"),
            request_id=data.get("request_id"),
            source=str(data.get("source") or "api"),
        )


@dataclass(frozen=True, slots=True)
class SignalHead:
    """A signal as a store's find reads it: ``signal`` without its payload (None there)
    unless ``whole`` (it has none, or the store kept it with the head). A payload may be
    64 KB: one that looks through many signals reads their heads, and then the payloads
    of the few it keeps (``Signals.whole``)."""

    signal: Signal
    whole: bool
    # Whether a consumption mark of its id alone (a mark made before marks named
    # instances) may be this signal's: True for a head in a layout written before then
    # (a DynamoDB head holding the whole signal, a SQLite row holding its payload),
    # whose marks are read by both keys (``mark_keys``). A head in the current layout
    # (the payload apart) was written by a release that marks instances only, and that
    # the releases before could not read: only its instance's mark is read.
    id_marks: bool = True

    @property
    def position(self) -> tuple[int, str]:
        """Where it is in its name's order (newest first: the larger, the newer)."""
        return (self.signal.sent_at, self.signal.signal_id)


@dataclass(frozen=True, slots=True)
class HeadPage:
    """One page of a name's heads, newest first (``Signals.find_heads``): the live ones
    matching, and ``next``, the position to read the following page from (None: there
    is no more). A page that matched nothing may still have a next."""

    heads: list[SignalHead]
    next: tuple[int, str] | None


def head_of(signal: Signal) -> SignalHead:
    """``signal``'s head, as a store with payloads apart (the current layout) gives it."""
    if signal.payload is None:
        return SignalHead(signal, True, id_marks=False)
    return SignalHead(
        Signal(
            name=signal.name,
            params=dict(signal.params),
            signal_id=signal.signal_id,
            sent_at=signal.sent_at,
            expires_at=signal.expires_at,
            request_id=signal.request_id,
            source=signal.source,
        ),
        False,
        id_marks=False,
    )


@dataclass(frozen=True, slots=True)
class Waiter:
    """A step waiting for a signal of some name (pushed a wake-up when one arrives)."""

    run_id: str
    step: str


def signals_key(run_id: str, step: str) -> str:
    """Where the signals that released a step go when they are too big for its item
    (the run's own key: a restart taking the step over copies them under its own)."""
    return f"{run_id}/{step}/signals.json"


@dataclass(frozen=True, slots=True)
class SignalRequest:
    """What a sender gives, before it is stored."""

    name: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    payload: Any = None
    request_id: str | None = None
    ttl_ms: int = DEFAULT_TTL_MS
    source: str = "api"


def signal_id(name: str, params: Mapping[str, ParamValue], request_id: str | None) -> str:
    """Its identity: ``r:<request id>``, or a digest of the name and params (Maestro's
    UUID of name + params), so the same signal sent twice is stored once."""
    if request_id:
        return "r:" + hashlib.sha256(f"{name}\x00{request_id}".encode()).hexdigest()[:40]
    canonical = json.dumps([name, dict(params)], sort_keys=True, separators=(",", ":"))
    return "p:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def check_request(req: SignalRequest, where: str = "signal") -> None:
    """Raises DefinitionError naming every problem and its fix."""
    issues: list[Issue] = []
    if not isinstance(req.name, str) or not _NAME.fullmatch(req.name):
        issues.append(
            Issue(
                f"{where}.name",
                f"{req.name!r} is not a signal name: 1-128 letters, digits and _.:/-,"
                " starting with a letter or digit",
            )
        )
    if not isinstance(req.params, Mapping):
        issues.append(Issue(f"{where}.params", "must be an object of strings and ints"))
    elif len(req.params) > MAX_PARAMS:
        # Only the count: checking each of 100,000 params would answer 100,000 issues.
        issues.append(
            Issue(f"{where}.params", f"at most {MAX_PARAMS} params, not {len(req.params):,}")
        )
    else:
        for key, value in req.params.items():
            issues.extend(_param_issues(f"{where}.params.{_shown(key)}", key, value))
    if req.request_id is not None and (
        not isinstance(req.request_id, str) or not 0 < len(req.request_id) <= MAX_REQUEST_ID
    ):
        issues.append(
            Issue(f"{where}.request_id", f"must be a string of 1-{MAX_REQUEST_ID} characters")
        )
    elif req.request_id is not None and not _encodable(req.request_id):
        issues.append(Issue(f"{where}.request_id", _NOT_UTF8))
    bad = _first_unencodable(req.payload, f"{where}.payload")
    if bad is not None:
        issues.append(Issue(bad, _NOT_UTF8))
    if not 0 < req.ttl_ms <= MAX_TTL_MS:
        issues.append(Issue(f"{where}.ttl", "must be between 1 ms and 365 days"))
    try:
        size = payload_bytes(req.payload)
    except (TypeError, ValueError) as exc:
        issues.append(Issue(f"{where}.payload", f"is not JSON: {exc}"))
    else:
        if size > MAX_PAYLOAD_BYTES:
            issues.append(
                Issue(
                    f"{where}.payload",
                    f"is {size:,} bytes, over the limit of {MAX_PAYLOAD_BYTES:,}; send a"
                    " reference (an S3 key) instead of the data",
                )
            )
    if issues:
        raise DefinitionError(issues[:MAX_ISSUES])


def payload_bytes(payload: Any) -> int:
    """A payload's size as the sender wrote it: the UTF-8 bytes of its compact JSON. Not
    Python's ASCII-escaped JSON (json.dumps' default), which counts a CJK character as
    6 bytes (\\uXXXX) and an emoji as 12 (two escapes): 24 KB of emoji was refused as
    72 KB. Raises TypeError or ValueError when it is not JSON (NaN included). A lone
    surrogate has no UTF-8 form: counted as its escape (it is refused on its own)."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return len(text.encode("utf-8", "backslashreplace"))


# A lone surrogate (JSON's "\\ud800" is valid JSON, and json.loads accepts it) has no
# UTF-8 form: DynamoDB, the digest of a signal's id and every log would fail on it, as an
# error no retry fixes. Refused here, where the sender is told which field.
_NOT_UTF8 = (
    "holds a character that is not valid Unicode (a lone UTF-16 surrogate such as"
    " \\ud800); send text that encodes as UTF-8"
)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _shown(key: Any) -> str:
    """A key as a path shows it: a character with no UTF-8 form as its escape (the
    path is logged and sent back as JSON, which must encode)."""
    return str(key).encode("utf-8", "backslashreplace").decode("utf-8")


def _first_unencodable(value: Any, path: str) -> str | None:
    """The path of the first string (a value or an object's key) in ``value`` that has
    no UTF-8 form, else None."""
    if isinstance(value, str):
        return None if _encodable(value) else path
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and not _encodable(key):
                return f"{path}.{_shown(key)}"
            found = _first_unencodable(item, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _first_unencodable(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def written_params_issues(params: Mapping[str, Any], where: str) -> list[Issue]:
    """The rules of a sent signal's params (check_request) for params as a definition
    writes them (an emit's): the count, every name, and every value that is already
    literal. A ``${...}`` value is judged once rendered, when the signal is sent."""
    if len(params) > MAX_PARAMS:
        return [Issue(where, f"at most {MAX_PARAMS} params, not {len(params):,}")]
    issues: list[Issue] = []
    for key, value in params.items():
        path = f"{where}.{_shown(key)}"
        if isinstance(value, str) and "${" in value:
            issues.extend(_name_issues(path, key))
        else:
            issues.extend(_param_issues(path, key, value))
    return issues[:MAX_ISSUES]


def written_payload_issues(payload: Any, where: str) -> list[Issue]:
    """The rules of a sent signal's payload (check_request) for a payload as a definition
    writes it (an emit's), judged on what is already literal: a string or key with no
    UTF-8 form, a value that is not JSON, and the size. A ``${...}`` string counts as the
    least it can render to (one byte): its literal parts alone over the limit will be
    over it once rendered, whatever the templates give."""
    literal = _templates_as_least(payload)
    bad = _first_unencodable(literal, where)
    if bad is not None:
        return [Issue(bad, _NOT_UTF8)]
    try:
        size = payload_bytes(literal)
    except (TypeError, ValueError) as exc:
        return [Issue(where, f"is not JSON: {exc}")]
    if size <= MAX_PAYLOAD_BYTES:
        return []
    measured = "is" if literal == payload else "has templates, and its literal parts alone are"
    return [
        Issue(
            where,
            f"{measured} {size:,} bytes, over a signal's limit of {MAX_PAYLOAD_BYTES:,}: it"
            " would never be sent; send a reference (an S3 key) instead of the data",
        )
    ]


def _templates_as_least(value: Any) -> Any:
    """``value`` with each ``${...}`` string as 0, the smallest JSON it may render to
    (keys are not rendered: kept)."""
    if isinstance(value, str):
        return 0 if "${" in value else value
    if isinstance(value, Mapping):
        return {key: _templates_as_least(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_templates_as_least(item) for item in value]
    return value


def _name_issues(path: str, key: Any) -> list[Issue]:
    if not isinstance(key, str) or not _PARAM.fullmatch(key):
        return [Issue(path, "a param name is an identifier (letters, digits, _)")]
    return []


def _param_issues(path: str, key: Any, value: Any) -> list[Issue]:
    issues = _name_issues(path, key)
    if isinstance(value, bool) or not isinstance(value, str | int):
        issues.append(
            Issue(path, f"must be a string or an int (params are indexed), not {_kind(value)}")
        )
    elif isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        issues.append(Issue(path, "is out of the int64 range"))
    elif isinstance(value, str) and len(value) > MAX_STRING_PARAM:
        issues.append(Issue(path, f"is longer than {MAX_STRING_PARAM} characters"))
    elif isinstance(value, str) and not _encodable(value):
        issues.append(Issue(path, _NOT_UTF8))
    return issues


def _kind(value: Any) -> str:
    return type_label(value)


def new_signal(req: SignalRequest, now: int) -> Signal:
    check_request(req)
    return Signal(
        name=req.name,
        params=dict(req.params),
        signal_id=signal_id(req.name, req.params, req.request_id),
        sent_at=now,
        expires_at=now + req.ttl_ms,
        payload=req.payload,
        request_id=req.request_id,
        source=req.source,
    )


def compare(actual: Any, op: Op, expected: ParamValue) -> bool:
    """One condition; values of different types never match (DynamoDB's rule)."""
    if isinstance(actual, bool) or type(actual) is not type(expected):
        return False
    if isinstance(expected, int):
        return _holds(int(actual), op, expected)
    return _holds(str(actual), op, expected)


def _holds(actual: Any, op: Op, expected: Any) -> bool:
    if op is Op.EQ:
        return bool(actual == expected)
    if op is Op.GT:
        return bool(actual > expected)
    if op is Op.GE:
        return bool(actual >= expected)
    if op is Op.LT:
        return bool(actual < expected)
    return bool(actual <= expected)


def matches(signal: Signal, conditions: Sequence[ParamMatch], *, since: int | None = None) -> bool:
    if since is not None and signal.sent_at < since:
        return False
    return all(compare(signal.params.get(c.param), c.op, c.value) for c in conditions)


def parse_match(spec: Mapping[str, Any], where: str = "match") -> tuple[ParamMatch, ...]:
    """``{param: value}`` or ``{param: {op: ">=", value: v}}`` as conditions; raises
    DefinitionError naming the bad entry."""
    out: list[ParamMatch] = []
    issues: list[Issue] = []
    for param, raw in spec.items():
        path = f"{where}.{param}"
        op, value = Op.EQ, raw
        if isinstance(raw, Mapping):
            unknown = set(raw) - {"op", "value"}
            if unknown or "value" not in raw:
                issues.append(Issue(path, 'write {op: "=|>|>=|<|<=", value: V}'))
                continue
            try:
                op = Op(raw.get("op", "="))
            except ValueError:
                issues.append(Issue(f"{path}.op", f"{raw.get('op')!r} is not one of = > >= < <="))
                continue
            value = raw["value"]
        param_issues = _param_issues(path, param, value)
        if param_issues:
            issues.extend(param_issues)
            continue
        out.append(ParamMatch(str(param), op, value))
    if issues:
        raise DefinitionError(issues)
    return tuple(out)


# Signal triggers' consumption marks ---------------------------------------------------
# A signal id names the signal only while it is stored: once a signal expires the same id
# (the same request id, or the same name and params) is free for a new signal, sent
# later. A signal trigger consumes an instance, not an id: its marks and its sets are
# keyed by ``<signal id>@<sent_at>`` (two signals of one id are never stored at the
# same time, so the pair names one).

# Marks made before they named instances were keyed by the signal id alone and kept for
# at least this long after they were made (their ``expires_at`` was at least made + 90d).
LEGACY_MARK_TTL_MS = 90 * 86_400_000
# How long after a set was consumed a signal of it sent again starts the set's run, when
# that run does not exist: the start failed or died after the consume (the sender's
# retry is how it is recovered). Later, a missing run is one its retention deleted, and
# starting it again would run the set twice. Shorter than the shortest run retention
# (1 day), so within it a run that started is still there to be found.
RECOVER_WINDOW_MS = 12 * 3_600_000


@dataclass(frozen=True, slots=True)
class ConsumedMark:
    """A signal trigger used a signal for ``group`` (the set's key, which names its
    run). ``made_at`` is None on a mark made before marks recorded their time."""

    group: str
    expires_at: int
    made_at: int | None = None

    @property
    def made_by(self) -> int:
        """When it was made, or for an old mark the latest time it can have been made."""
        return self.made_at if self.made_at is not None else self.expires_at - LEGACY_MARK_TTL_MS


def instance_key(signal: Signal) -> str:
    """The key of this signal instance: its id and when it was sent."""
    return f"{signal.signal_id}@{signal.sent_at}"


def set_key(signals: Sequence[Signal]) -> str:
    """The key of a set of instances (a signal trigger's group, and its run's key)."""
    return "+".join(sorted(instance_key(s) for s in signals))


def set_members(key: str) -> list[tuple[str, int | None]]:
    """A set's (signal id, sent_at) pairs; sent_at None in a set consumed before sets
    named instances (its members are signal ids only)."""
    out: list[tuple[str, int | None]] = []
    for part in key.split("+"):
        sid, at, sent = part.rpartition("@")
        if at and is_ascii_digits(sent.removeprefix("-")):
            out.append((sid, int(sent)))
        else:
            out.append((part, None))
    return out


def mark_keys(signal: Signal, *, id_marks: bool = True) -> tuple[str, ...]:
    """The marks to read for ``signal``: its instance's, then, when ``id_marks`` (it may
    have one: ``SignalHead.id_marks``), an old mark of its id."""
    if not id_marks:
        return (instance_key(signal),)
    return instance_key(signal), signal.signal_id


def consumption(
    signal: Signal, marks: Mapping[str, ConsumedMark], *, id_marks: bool = True
) -> ConsumedMark | None:
    """The mark saying this instance was consumed, else None. An old mark (of the id
    alone) counts only for an instance sent no later than the mark was made: the one it
    was made for. A later signal of that id was sent after that one expired, so after
    the mark, and is a new signal, free to join. Without ``id_marks`` (a head in the
    current layout) an old mark is never its."""
    own = marks.get(instance_key(signal))
    if own is not None:
        return own
    if not id_marks:
        return None
    old = marks.get(signal.signal_id)
    if old is not None and legacy_mark_covers(signal, old):
        return old
    return None


# What a signal trigger's ``condition`` may read of its ``event`` without the signals'
# payloads: the event's kind and trigger, each signal's params and id.
_EVENT_HEAD_FIELDS = frozenset({"kind", "trigger"})
_SIGNAL_HEAD_FIELDS = frozenset({"params", "signal_id"})


def condition_reads_payload(source: str, references: Iterable[str]) -> bool:
    """Whether a signal trigger's condition may read a signal's payload, from its source
    and the dotted paths it reads (CompiledExpression.references): False only when every
    path of ``event`` it reads is ``event.kind``, ``event.trigger`` or within
    ``event.signals.<name>.params`` or ``.signal_id``. A path that stops short (all of
    ``event.signals``, a signal, an index or a macro over them) may reach a payload; so
    may one through a backquoted field (its name may hold a dot: the dotted path is
    then ambiguous)."""
    if "`" in source:
        return True
    for ref in references:
        parts = ref.split(".")
        if parts[0] != "event":
            continue  # not bound for a condition: an error whatever the payloads
        if len(parts) >= 2 and parts[1] in _EVENT_HEAD_FIELDS:
            continue
        if len(parts) >= 4 and parts[1] == "signals" and parts[3] in _SIGNAL_HEAD_FIELDS:
            continue
        return True
    return False


def legacy_mark_covers(signal: Signal, mark: ConsumedMark) -> bool:
    return signal.sent_at <= mark.made_by


def may_recover(mark: ConsumedMark, now: int) -> bool:
    """Whether a consumed set whose run is missing may be started now (RECOVER_WINDOW_MS)."""
    return now - mark.made_by <= RECOVER_WINDOW_MS
