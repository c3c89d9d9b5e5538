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
whose trigger has gone matches nothing (it costs the event one read), but a workflow
whose active version has a trigger is always under that trigger's keys: a version's
routes are added before it becomes active, and a key is taken away only once the active
version no longer has it, by a removal that no activation in flight can lose
(``plan_prune``, which the race analysis below is about).

Removal (service/triggers.py, ``activating`` and ``prune_routes``). Every activation
that adds routes marks itself in flight first and unmarks itself once the version is
active; each mark and unmark bumps the workflow's *activation generation*. After a
version becomes active, the keys the replaced version had and the new one lacks are
*stale candidates*, pruned in three steps:

1. r1: read the generation and the in-flight marks;
2. r2: read the active version (strongly consistent) and its routes;
3. r3: take the workflow off the stale keys the active version lacks, in one atomic
   write on condition that the generation is still the one of r1 (on DynamoDB, one
   transaction per 99 keys: each is such a write, and the analysis holds for each).

``plan_prune`` decides step 3 from r1 and r2: nothing while another activation is in
flight (a fresh mark); otherwise the keys to remove, and the marks older than
``ACTIVATION_GRACE_MS`` (left by a crashed activation) to clear with them.

Why an event then never misses a workflow whose active version V has a key K: say an
activation X makes V active; X does b (mark, generation + 1), a (add K), v (V active),
e (unmark, generation + 1). A prune P that removes K at r3:

- X's b after r1: if before r3, the generation moved and r3 is refused; if after, X's
  add comes after the removal and puts K back before V is active.
- X's e before r1: then v < r1 < r2, so r2 saw V active (or a later version): when it
  is V, K is not stale and not removed; when V was replaced meanwhile, V becomes active
  again only through another activation, the case analysed here.
- b before r1, e after r1: r1 saw X's mark. A fresh one stops the prune; had e come
  before r3, the generation would have moved and r3 been refused.
- the exception: X's mark older than the grace (X is slower than any Lambda can be, or
  died) is cleared with the removal. A live X then finds its mark gone at e and adds its
  routes again: a window of a missed event from v to that add, only for an activation
  slower than 15 minutes between marking itself and activating.

A prune that is refused, skipped or cut short (a crash, a store error) leaves the
workflow under a key its active version lacks: an extra candidate, which costs an event
under that key one read of the workflow's active version and starts nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
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


# Workflows one routing key holds: 4,900 names of at most 80 characters (WORKFLOW_NAME)
# and the longest key fit in one DynamoDB item (400 KB). Every adapter refuses the next
# one alike (a count, not DynamoDB's size error), so the local home fails where AWS would.
MAX_ROUTE_WORKFLOWS = 4_900

# How long an activation may take from marking itself in flight to making its version
# active before a prune takes its mark for a crashed one's: a Lambda runs 15 minutes at
# most; clocks of two writers differ by far less.
ACTIVATION_GRACE_MS = 15 * 60_000


class RouteIndexFull(PodiumError):
    """One routing key holds ``MAX_ROUTE_WORKFLOWS`` workflows already: the push that
    would add one more is refused (HTTP 400)."""

    def __init__(self, key: str, workflow: str) -> None:
        self.key, self.workflow = key, workflow
        super().__init__(
            f"cannot add workflow '{workflow}' to the trigger routing index: too many"
            f" workflows already have a trigger routed by '{key[:300]}' (one index key"
            f" holds {MAX_ROUTE_WORKFLOWS:,} workflow names); give the triggers distinct"
            " sources, buckets or signal names, or merge workflows"
        )


@dataclass(frozen=True, slots=True)
class RouteActivations:
    """A workflow's activations as a prune reads them (r1): the generation, bumped by
    every mark and unmark, and the marks of those in flight (token -> marked at, ms)."""

    generation: int = 0
    pending: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RoutePrune:
    """What a prune writes at r3: the keys to take the workflow off, and the marks of
    crashed activations to clear (both on condition of the generation read at r1)."""

    remove: frozenset[str]
    expired: frozenset[str]


def plan_prune(
    stale: Collection[str], active: Collection[str], seen: RouteActivations, now: int
) -> RoutePrune | None:
    """The prune of ``stale`` candidate keys once ``active`` (the active version's
    routes, read after ``seen``) is active; None when there is nothing to write, or
    while another activation is in flight (it may be about to make a version with one
    of these keys active: the keys stay, extra candidates)."""
    expired = frozenset(t for t, at in seen.pending.items() if at < now - ACTIVATION_GRACE_MS)
    if len(expired) < len(seen.pending):
        return None
    remove = frozenset(stale) - frozenset(active)
    if not remove and not expired:
        return None
    return RoutePrune(remove, expired)


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
