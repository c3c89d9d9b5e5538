"""The routing index of triggers: which workflows an event or a signal could start a run
of, without reading every workflow's definition.

A workflow's active definition gives its *routes*, one key per way an event may reach
one of its triggers:

- ``s3:<bucket>``: an s3 trigger (S3's events come on the default bus);
- ``event:<bus>:<source>``: an event trigger whose pattern names its ``source`` (a list
  of plain strings: one key each);
- ``event:<bus>``: an event trigger whose pattern does not (any source may match);
- ``signal:<name>``: a signal trigger naming that signal.

An event or a signal gives the keys it could match (``event_routes``,
``signal_route``); the workflows stored under any of them are the *candidates*, whose
active definitions are then matched as before. The index is a superset: a candidate
whose trigger has gone matches nothing, but a workflow whose active version has a
trigger is always under that trigger's keys (service/triggers.py adds a version's
routes before it becomes active, and never removes one).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from podium.core.dsl.models import WorkflowDefinition
from podium.core.dsl.triggers import Trigger
from podium.core.errors import PodiumError

S3_AWS_SOURCE = "aws.s3"
DEFAULT_BUS = "default"

# An event's source as EventBridge allows it (1-256 characters): a pattern's longer
# literal is routed as "any source" (it can match no real event's, but a local one's).
MAX_SOURCE = 256
# S3's bucket names are at most 63 characters: a longer "name" in an event matches none.
MAX_BUCKET = 63


class RouteIndexFull(PodiumError):
    """One routing key holds as many workflows as one stored item can (DynamoDB's
    400 KB): the push that would add one more is refused (HTTP 400)."""

    def __init__(self, key: str, workflow: str) -> None:
        self.key, self.workflow = key, workflow
        super().__init__(
            f"cannot add workflow '{workflow}' to the trigger routing index: too many"
            f" workflows already have a trigger routed by '{key[:300]}' (one index item"
            " holds about 4,000 workflow names); give the triggers distinct sources,"
            " buckets or signal names, or merge workflows"
        )


def s3_route(bucket: str) -> str:
    return f"s3:{bucket}"


def event_route(bus: str, source: str | None = None) -> str:
    """A bus name has no ':' (1-256 of letters, digits and / . _ -): unambiguous."""
    return f"event:{bus}" if source is None else f"event:{bus}:{source}"


def signal_route(name: str) -> str:
    return f"signal:{name}"


def trigger_routes(trigger: Trigger) -> frozenset[str]:
    """The keys of one trigger (none for a cron or rate trigger: its schedule names it)."""
    if trigger.s3 is not None:
        return frozenset({s3_route(trigger.s3.bucket)})
    if trigger.event is not None:
        bus = trigger.event.bus
        sources = _literal_sources(trigger.event.pattern)
        if sources is None:
            return frozenset({event_route(bus)})
        return frozenset(event_route(bus, s) for s in sources)
    if trigger.signal is not None:
        return frozenset(signal_route(n) for n in trigger.signal.names)
    return frozenset()


def definition_routes(definition: WorkflowDefinition) -> frozenset[str]:
    """The keys of every trigger of a definition."""
    out: set[str] = set()
    for trigger in definition.triggers:
        out |= trigger_routes(trigger)
    return frozenset(out)


def build_index(definitions: Mapping[str, WorkflowDefinition]) -> dict[str, frozenset[str]]:
    """Key -> the workflows with a trigger under it, from active definitions by name."""
    index: dict[str, set[str]] = {}
    for workflow, definition in definitions.items():
        for key in definition_routes(definition):
            index.setdefault(key, set()).add(workflow)
    return {k: frozenset(v) for k, v in index.items()}


def event_routes(event: Mapping[str, Any], bus: str) -> tuple[str, ...]:
    """The keys under which a trigger could match ``event`` put on ``bus``: the bus's
    "any source" key, its key for the event's source, and on the default bus an S3
    event's bucket."""
    keys = [event_route(bus)]
    sources = [s for s in _strings(event.get("source")) if len(s) <= MAX_SOURCE]
    keys.extend(event_route(bus, s) for s in sources)
    if bus == DEFAULT_BUS and S3_AWS_SOURCE in sources:
        detail = event.get("detail")
        bucket = detail.get("bucket") if isinstance(detail, Mapping) else None
        names = bucket.get("name") if isinstance(bucket, Mapping) else None
        keys.extend(s3_route(b) for b in _strings(names) if len(b) <= MAX_BUCKET)
    return tuple(dict.fromkeys(keys))


def candidates(index: Mapping[str, Collection[str]], keys: Iterable[str]) -> list[str]:
    """The workflows under any of ``keys``, by name."""
    out: set[str] = set()
    for key in keys:
        out.update(index.get(key, ()))
    return sorted(out)


def _literal_sources(pattern: Mapping[str, Any]) -> list[str] | None:
    """The sources a pattern's ``source`` field lists as plain strings (each an exact
    match), or None when it may match other sources (absent, an operator, a number)."""
    rule = pattern.get("source")
    if not isinstance(rule, list) or not rule:
        return None
    if not all(isinstance(s, str) and len(s) <= MAX_SOURCE for s in rule):
        return None
    return sorted(set(rule))


def _strings(value: Any) -> list[str]:
    """A field's string values (a pattern matches an array field by any element)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
