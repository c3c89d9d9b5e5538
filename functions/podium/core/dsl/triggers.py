"""The definition language's ``triggers:``: what starts runs besides the CLI and API.

Each trigger is exactly one of ``cron`` (with ``timezone`` and ``jitter``), ``rate``,
``s3``, ``event`` or ``signal``; it maps its event to run params with templates over
``event`` and always starts the workflow's active version. Semantics:
docs/workflow-language.md (Triggers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from podium.core.dsl.errors import Issue
from podium.core.dsl.numbers import NOT_BOOLEAN, not_boolean
from podium.core.dsl.signals import literal_match
from podium.core.dsl.stored import at_push
from podium.core.engine.signals import MAX_PARAMS, SIGNAL_NAME

TRIGGER_ID = r"^[A-Za-z][A-Za-z0-9_-]{0,39}$"
JOIN_KEY = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"  # a signal param name
MAX_TRIGGERS = 20
MAX_SIGNAL_NAMES = 8  # Maestro's limit
DEFAULT_MAX_CATCHUP = 100
KINDS = ("cron", "rate", "s3", "event", "signal")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Catchup(str, Enum):
    NONE = "none"  # missed times are not run (Airflow's catchup=False; the default)
    LATEST = "latest"  # only the most recent missed time
    ALL = "all"  # every missed time, oldest first, up to max_catchup


# S3's rules for a bucket name (general purpose buckets): what can ever match an event.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUS = re.compile(r"[A-Za-z0-9/._-]{1,256}")


def _bucket_problem(bucket: str) -> str | None:
    if _BUCKET.fullmatch(bucket):
        return None
    if bucket.startswith("s3://"):
        return "write the bucket's name without s3:// (and a path in prefix)"
    if bucket.startswith("arn:"):
        return "write the bucket's name, not its ARN"
    if "/" in bucket:
        return "write the bucket's name alone, and the path in prefix"
    return (
        "is not an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting"
        " and ending with a letter or digit"
    )


class S3Source(_Model):
    bucket: Annotated[str, Field(min_length=3, max_length=63)]
    prefix: str = ""
    suffix: str = ""

    # Push rules (core.dsl.stored): a trigger that can never match no event was refused.
    @field_validator("bucket")
    @classmethod
    def _bucket(cls, v: str, info: ValidationInfo) -> str:
        problem = _bucket_problem(v) if at_push(info) else None
        if problem is not None:
            raise ValueError(f"'{v[:80]}': {problem}")
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str, info: ValidationInfo) -> str:
        if v.startswith("/") and at_push(info):
            raise ValueError(
                f"'{v[:80]}': an S3 key does not start with '/'; write '{v.lstrip('/')[:80]}'"
            )
        return v


class EventSource(_Model):
    pattern: dict[str, Any] = Field(description="An EventBridge event pattern.")
    bus: str = Field(
        default="default",
        description="Where the events are put: default (AWS services), podium (Podium's"
        " bus), or the name of the bus the construct's rules read.",
    )

    @field_validator("bus")
    @classmethod
    def _bus(cls, v: str, info: ValidationInfo) -> str:
        if not _BUS.fullmatch(v) and at_push(info):
            raise ValueError(
                f"'{v[:80]}' is not an event bus name: 1-256 letters, digits and / . _ -"
                " (default, podium, or the name of your bus)"
            )
        return v

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        from podium.core.engine.event_patterns import PatternError, check_pattern

        try:
            check_pattern(v, new=at_push(info))
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        return v


TriggerMatchValue = Annotated[
    Any,
    AfterValidator(
        literal_match(
            "write the value itself, use join_keys for params every joined signal must share,"
            " or a condition over event.signals.<name>.params"
        )
    ),
]


class SignalSource(_Model):
    names: Annotated[
        list[Annotated[str, Field(pattern=SIGNAL_NAME)]],
        Field(min_length=1, max_length=MAX_SIGNAL_NAMES),
    ]
    join_keys: list[Annotated[str, Field(pattern=JOIN_KEY)]] = Field(
        default_factory=list,
        description="Params every joined signal must share (one run per distinct value).",
    )
    match: dict[str, dict[str, TriggerMatchValue]] = Field(
        default_factory=dict, description="Per name: the (literal) params its signals must match."
    )
    condition: Annotated[str, Field(min_length=1)] | None = Field(
        default=None, description="An expression over event.signals.<name>.params that must hold."
    )

    @model_validator(mode="after")
    def _names(self, info: ValidationInfo) -> SignalSource:
        twice = sorted({n for n in self.names if self.names.count(n) > 1})
        if twice:
            raise ValueError(f"signal '{twice[0]}' is named twice")
        unknown = sorted(set(self.match) - set(self.names))
        if unknown:
            raise ValueError(f"match names '{unknown[0]}', which is not in names")
        many = next((n for n, spec in self.match.items() if len(spec) > MAX_PARAMS), None)
        if many is not None and at_push(info):  # no signal has more: none would ever match
            raise ValueError(
                f"match.{many} matches {len(self.match[many]):,} params, but a signal has at"
                f" most {MAX_PARAMS}; match at most {MAX_PARAMS}"
            )
        # A signal of each name must carry every join key and each param its match
        # names (one param, if both): one lacking a join key is passed over without a
        # word, so a trigger needing more than a signal has would never fire.
        needs = {n: set(self.join_keys) | set(self.match.get(n, {})) for n in self.names}
        over = next((n for n in self.names if len(needs[n]) > MAX_PARAMS), None)
        if over is not None and at_push(info):
            named = f" and the params match.{over} names" if self.match.get(over) else ""
            raise ValueError(
                f"signal '{over}' would have to carry {len(needs[over]):,} params (the"
                f" join_keys{named}), but a signal has at most {MAX_PARAMS}: none would"
                f" ever start a run; use at most {MAX_PARAMS} in all"
            )
        from podium.core.dsl.errors import DefinitionError
        from podium.core.engine.signals import parse_match

        for name, spec in self.match.items():
            try:
                parse_match(spec, f"match.{name}")
            except DefinitionError as exc:
                raise ValueError("; ".join(str(i) for i in exc.issues)) from None
        if self.condition is not None:
            from podium.core.dsl.conditions import condition_problem
            from podium.core.expr import ExpressionError, compile_expression

            shape = condition_problem(self.condition) if at_push(info) else None
            if shape is not None:
                raise ValueError(f"condition: {shape}")

            try:
                compile_expression(self.condition)
            except ExpressionError as exc:
                raise ValueError(f"condition: {exc}") from None
        return self


class Trigger(_Model):
    id: Annotated[str, Field(pattern=TRIGGER_ID)] | None = Field(
        default=None, description="Names the trigger (default: its kind and position)."
    )
    cron: str | None = Field(default=None, description="Five-field cron, or @daily etc.")
    timezone: str = Field(default="UTC", description="IANA time zone of the cron.")
    rate: str | None = Field(default=None, description="Every N minutes/hours/days: 15m, 2h.")
    jitter: (
        Annotated[int | float | str, Field(), not_boolean("jitter", "a duration such as 5m or 300")]
        | None
    ) = Field(
        default=None,
        description="Start up to this much later than scheduled (a flexible time window).",
    )
    s3: S3Source | None = None
    event: EventSource | None = None
    signal: SignalSource | None = None
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Run params: values or ${...} templates over event.",
    )
    catchup: Catchup = Catchup.NONE
    max_catchup: Annotated[int, Field(ge=1, le=1000), NOT_BOOLEAN] = DEFAULT_MAX_CATCHUP
    enabled: bool = Field(default=True, description="Its state when first pushed.")

    @model_validator(mode="after")
    def _one_kind(self, info: ValidationInfo) -> Trigger:
        kinds = [k for k in KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a trigger is exactly one of cron, rate, s3, event or signal"
                + (f"; this one has {', '.join(kinds)}" if kinds else "")
            )
        from podium.core.engine.schedule import (
            Cron,
            ScheduleError,
            check_fires,
            load_zone,
            parse_rate,
            zone,
        )

        try:
            # A push takes IANA names only; a stored version keeps the name it was
            # pushed with (one taken before that rule still loads, and fires).
            if at_push(info):
                zone(self.timezone)
            else:
                load_zone(self.timezone)
            if self.cron is not None:
                cron = Cron.parse(self.cron)
                if at_push(info):  # a push rule: a stored one that never fires stays idle
                    check_fires(cron, self.timezone)
            if self.rate is not None:
                parse_rate(self.rate)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        if self.timezone != "UTC" and self.cron is None:
            raise ValueError("timezone applies to cron triggers only")
        if self.jitter is not None and self.kind not in ("cron", "rate"):
            raise ValueError("jitter applies to cron and rate triggers only")
        return self

    @field_validator("jitter")
    @classmethod
    def _jitter(cls, v: int | float | str | None, info: ValidationInfo) -> int | float | str | None:
        # Here, not in _one_kind: an error of a field's own is named at the field. A
        # trigger that is no schedule hears that first (cron and rate come before it).
        # (A cron or rate that failed its own check is absent here, not None: no word.)
        if v is not None and all(k in info.data and info.data[k] is None for k in ("cron", "rate")):
            raise ValueError("jitter applies to cron and rate triggers only")
        if v is not None:
            from podium.core.engine.durations import parse_duration

            if not 60 <= int(parse_duration(v)) <= 86_400:
                raise ValueError("jitter must be between 1 minute and 1 day")
        return v

    def ignored_max_catchup(self) -> str | None:
        """Why ``max_catchup`` is ignored here, if it is: only catchup: all runs more than
        one missed time. Checked at push only (``ignored_field_issues``): a version
        stored before this check keeps loading. (The default is let through: a full dump
        of a trigger, read back, writes it.)"""
        if self.max_catchup != DEFAULT_MAX_CATCHUP and self.catchup is not Catchup.ALL:
            return (
                f"max_catchup applies with catchup: all only (this trigger has catchup:"
                f" {self.catchup.value}); add catchup: all, or remove max_catchup"
            )
        return None

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def scheduled(self) -> bool:
        return self.kind in ("cron", "rate")

    @property
    def jitter_seconds(self) -> int:
        from podium.core.engine.durations import parse_duration

        return int(parse_duration(self.jitter)) if self.jitter is not None else 0


def trigger_ids(triggers: list[Trigger]) -> list[str]:
    """Each trigger's id: its own, or ``<kind>_<position>`` (cron_0, s3_1, ...)."""
    return [t.id or f"{t.kind}_{i}" for i, t in enumerate(triggers)]


def listens_to(trigger: Trigger) -> str:
    """What a trigger answers to (its schedule, bucket, pattern or signal names), not
    what it does with it (params, catch-up, jitter, enabled): how a moved trigger is
    recognised across versions."""
    fields = {
        "cron": ("cron", "timezone"),
        "rate": ("rate",),
        "s3": ("s3",),
        "event": ("event",),
        "signal": ("signal",),
    }[trigger.kind]
    return json.dumps(trigger.model_dump(mode="json", include=set(fields)), sort_keys=True)


def keep_trigger_ids(
    triggers: list[Trigger], before: Mapping[str, Trigger], stateful: Iterable[str] = ()
) -> list[Trigger]:
    """The triggers with ids that follow them across versions.

    A trigger's state (disabled, its catch-up watermark, since when it counts signals) is
    kept under its id, and a default id is its position: adding a trigger before another
    would hand the other's state to the newcomer. So a trigger without an ``id`` that
    listens to what one trigger of the version ``before`` listened to keeps that one's id
    (written into the stored version when it is not its default). Any other keeps its
    default, unless an id it would take is kept by a moved trigger, or is a removed
    trigger's (one of ``stateful``, the ids with stored state, that ``before`` no longer
    has: the state outlives the trigger): then the next free ``<kind>_<n>``. A trigger
    edited in place (a new cron at the same position) keeps its default id and so its
    state, as before.
    """
    by_source: dict[str, str | None] = {}
    for tid, old in before.items():
        key = listens_to(old)
        by_source[key] = None if key in by_source else tid  # two alike: neither is followed
    taken = {t.id for t in triggers if t.id}
    # Never handed to a trigger without an id: a newcomer would come up with a removed
    # trigger's state (disabled, say, and so without its schedule).
    retired = set(stateful) - set(before)
    kept: dict[int, str] = {}
    for i, t in enumerate(triggers):
        old_id = by_source.get(listens_to(t)) if t.id is None else None
        if old_id is not None and old_id not in taken:
            kept[i] = old_id
            taken.add(old_id)
    ids: dict[int, str] = {i: t.id for i, t in enumerate(triggers) if t.id} | kept
    for i, t in enumerate(triggers):  # the defaults first: a renamed one must avoid them
        if i not in ids and f"{t.kind}_{i}" not in taken | retired:
            ids[i] = f"{t.kind}_{i}"
            taken.add(ids[i])
    for i, t in enumerate(triggers):
        n = 0
        while i not in ids:
            if f"{t.kind}_{n}" not in taken | retired:
                ids[i] = f"{t.kind}_{n}"
                taken.add(ids[i])
            n += 1
    out = []
    for i, t in enumerate(triggers):
        moved = t.id is None and ids[i] != f"{t.kind}_{i}"
        out.append(t.model_copy(update={"id": ids[i]}) if moved else t)
    return out


def check_triggers(triggers: list[Trigger]) -> list[Trigger]:
    if len(triggers) > MAX_TRIGGERS:
        raise ValueError(f"at most {MAX_TRIGGERS} triggers")
    ids = trigger_ids(triggers)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValueError(f"trigger id '{twice[0]}' is used twice")
    return triggers


def ignored_field_issues(triggers: list[Trigger]) -> list[Issue]:
    """Fields a push sets that would do nothing (refused at push, never at load)."""
    issues = []
    for i, trigger in enumerate(triggers):
        why = trigger.ignored_max_catchup()
        if why is not None:
            issues.append(Issue(f"triggers[{i}].max_catchup", why))
        if trigger.catchup is not Catchup.NONE and trigger.kind not in ("cron", "rate"):
            issues.append(
                Issue(
                    f"triggers[{i}].catchup",
                    "catchup applies to cron and rate triggers only (nothing is missed"
                    f" while a trigger of kind {trigger.kind} is off); remove it",
                )
            )
    return issues
