"""Item layout of the single table, and the codec between items and records.

Attribute names are short on purpose: DynamoDB bills every write per KB of the whole item,
and step items are written several times each. ``docs/architecture.md`` documents them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from podium.core.engine.checks import first_check
from podium.core.engine.loops import CHILD_COUNTERS
from podium.core.engine.records import RunRecord, StepRecord, TimelineEvent, WorkflowVersion
from podium.core.engine.status import RunStatus, StepStatus
from podium.core.text_checks import is_ascii_digits

AttrValue = dict[str, Any]
Item = dict[str, AttrValue]

RUN_SK = "#RUN"
SINKS_SK = "#SINKS"  # the run's finished-sink counter and the set of sinks it counted
HEAD_SK = "#HEAD"
ACTIVE_PK = "ACTIVE"  # gsi2's one partition before it was sharded: still read, never written
# gsi2 (unsettled runs, the sweeper's due work) is spread over this many partition keys:
# its sort key starts with a time, so one key's writes all land at its newest end, which
# DynamoDB cannot split for heat, and one partition takes about 1,000 writes a second.
ACTIVE_SHARDS = 8
# An unsettled run kept out of gsi2 (a loop iteration until its loop watches it).
UNWATCHED = "uw"
WORKFLOWS_PK = "WORKFLOWS"  # gsi1 partition of the workflow heads (list_workflows)

# StepRecord field -> (attribute name, kind)
STEP_FIELDS: dict[str, tuple[str, str]] = {
    "status": ("st", "S"),
    "attempt": ("at", "N"),
    "ready_at": ("rd", "N"),
    "started_at": ("sa", "N"),
    "ended_at": ("ea", "N"),
    "lease_until": ("lu", "N"),
    "error": ("er", "S"),
    "output": ("out", "J"),
    "reason": ("rs", "S"),
    "waiting_key": ("wk", "S"),
    "waiting_since": ("ws", "N"),
    "due_at": ("du", "N"),
    "error_type": ("et", "S"),
    "retry_counts": ("rc", "J"),
    "params": ("prm", "J"),
    "log_ref": ("lg", "J"),
    "signals": ("sig", "J"),
    "kept_signals": ("ksg", "J"),
    "loop": ("lp", "J"),
    "result_for": ("rsf", "N"),
}
# A loop step's child counters (StepRecord field -> attribute): numbers that ADD updates
# change, stored only once non-zero so that other steps' items stay small.
LOOP_COUNTERS: dict[str, str] = {
    "children_launched": "cl",
    "children_ok": "cok",
    "children_failed": "cf",
    "children_stopped": "cs",
}
RUN_FIELDS: dict[str, tuple[str, str]] = {
    "root": ("rt", "S"),
    "parent_run": ("pr", "S"),
    "parent_step": ("ps", "S"),
    "parent_index": ("pi", "N"),
    "depth": ("dp", "N"),
    "logical_date": ("ld", "S"),
    "restart_of": ("ro", "S"),
    "restart_from": ("rf", "S"),
    "reason": ("rs", "S"),
    "results_by": ("rby", "N"),
    "ancestor_deadline": ("adl", "N"),
    "status": ("st", "S"),
    "started_at": ("sa", "N"),
    "ended_at": ("ea", "N"),
    "error": ("er", "S"),
    "iteration": ("it", "J"),
    "failing_since": ("fs", "N"),
    "reopened": ("rop", "N"),
}


def active_sk(check_at: int, run_id: str) -> str:
    """The active index sorts unsettled runs by their next check (the sweeper's due
    work): ``<check time, 13 digits>#<run id>``."""
    return f"{check_at:013d}#{run_id}"


def due_until(now: int) -> str:
    """The largest active-index sort key due at ``now`` ('~' sorts after any run id)."""
    return f"{now:013d}#~"


def active_pk(run_id: str) -> str:
    """The gsi2 partition key of an unsettled run: one of ACTIVE_SHARDS, by its id."""
    return f"{ACTIVE_PK}#{zlib.crc32(run_id.encode()) % ACTIVE_SHARDS}"


def active_pks() -> tuple[str, ...]:
    """Every gsi2 partition key a reader queries: the shards, and the key every run
    entered the index under before the shards (such a run may still be unsettled)."""
    return (*(f"{ACTIVE_PK}#{n}" for n in range(ACTIVE_SHARDS)), ACTIVE_PK)


def run_id_of_active_sk(sk: str) -> str:
    return sk.rpartition("#")[2]


def run_pk(run_id: str) -> str:
    return f"R#{run_id}"


def step_sk(step: str) -> str:
    return f"S#{step}"


# A loop step's children are counted on shard items beside it, ``S#<step>#K<nn>``: a
# number set of the indexes running there (``rn``), the counts by outcome, and the
# highest index opened there plus one (``hi``). Under ``S#``, so a run's steps and
# shards are read in one query (step ids hold no "#").
# Blocks of SHARD_BLOCK consecutive indexes go to one shard, in turn: children launched
# together end together, so a Lambda batch's ends are counted in one or two writes
# (StateStore.count_children), and a running window of 1,000 still spreads over all 16.
LOOP_SHARDS = 16
SHARD_BLOCK = 16
SHARD_MARK = "#K"
SHARD_COUNTERS: dict[str, str] = {"ok": "ok", "failed": "f", "stopped": "s"}
SHARDED = "ks"  # on the step item: its children are counted on shards (set first)
CLOSED = "kc"  # on the step item: the loop is ending, no child may start unwatched
HELD = "kh"  # on the step item: its run's pause reason, for a launch racing the pause


def shard_sk(step: str, index: int) -> str:
    return f"S#{step}{SHARD_MARK}{index // SHARD_BLOCK % LOOP_SHARDS:02d}"


def legacy_shard_sk(step: str, index: int) -> str:
    """Where the build before 16-index blocks opened an index (its loops still count)."""
    return f"S#{step}{SHARD_MARK}{index % LOOP_SHARDS:02d}"


def shard_prefix(step: str) -> str:
    return f"S#{step}{SHARD_MARK}"


def is_shard(item: Item) -> bool:
    return "#" in item["sk"]["S"][2:]


def step_of_shard(item: Item) -> str:
    sk: str = item["sk"]["S"]
    return sk[2:].rpartition(SHARD_MARK)[0]


def running_of_shard(item: Item) -> list[int]:
    return sorted(int(n) for n in item.get("rn", {}).get("NS", []))


def steps_from_items(items: list[Item]) -> list[StepRecord]:
    """Step items with their loop shards' counts added (a shard never comes without
    its step: both are written under the same run, the step first)."""
    steps: dict[str, StepRecord] = {}
    shards: list[Item] = []
    for item in items:
        if is_shard(item):
            shards.append(item)
        else:
            record = step_from_item(item)
            steps[record.step] = record
    for shard in shards:
        found = steps.get(step_of_shard(shard))
        if found is None:
            continue
        record = found
        fields = {CHILD_COUNTERS[outcome]: attr for outcome, attr in SHARD_COUNTERS.items()}
        added = {
            field: getattr(record, field) + int(shard[attr]["N"])
            for field, attr in fields.items()
            if attr in shard
        }
        steps[record.step] = replace(record, **added)
    return list(steps.values())


def runs_index_sk(created_at: int, run_id: str) -> str:
    """A run's sort key in its workflow's listing (gsi1): newest first when descending."""
    return f"{created_at:013d}#{run_id}"


def workflow_pk(name: str) -> str:
    return f"W#{name}"


def version_sk(version: int) -> str:
    return f"V#{version:08d}"


def event_sk(at: int, event_id: str) -> str:
    return f"E#{at:013d}#{event_id}"


def encode(value: Any, kind: str) -> AttrValue:
    if kind == "S":
        return {"S": str(value.value if hasattr(value, "value") else value)}
    if kind == "N":
        return {"N": str(int(value))}
    return {"S": json.dumps(value, separators=(",", ":"), default=str)}


def decode(attr: AttrValue, kind: str) -> Any:
    if kind == "S":
        return attr["S"]
    if kind == "N":
        return int(attr["N"])
    return json.loads(attr["S"])


def key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


# steps ------------------------------------------------------------------------------
def step_to_item(rec: StepRecord) -> Item:
    item = key(run_pk(rec.run_id), step_sk(rec.step))
    for field, (attr, kind) in STEP_FIELDS.items():
        value = getattr(rec, field)
        # An empty map is a value (an output of {} read back None would change what the
        # templates of a restart's taken-over steps see); only retry_counts, empty by
        # default, is left out empty.
        if value is not None and not (field == "retry_counts" and not value):
            item[attr] = encode(value, kind)
    if rec.arrived:
        item["n"] = {"N": str(rec.arrived)}
    if rec.taken_arrivals:
        item["nt"] = {"N": str(rec.taken_arrivals)}
    if rec.failed_arrivals:
        item["nf"] = {"N": str(rec.failed_arrivals)}
    for field, attr in LOOP_COUNTERS.items():
        if getattr(rec, field):
            item[attr] = {"N": str(getattr(rec, field))}
    return item


def step_from_item(item: Item, run_id: str | None = None, step: str | None = None) -> StepRecord:
    """Decode a whole item, or a partial one (UPDATED_NEW) when the key is given."""
    values: dict[str, Any] = {}
    for field, (attr, kind) in STEP_FIELDS.items():
        if attr in item:
            values[field] = decode(item[attr], kind)
    values["status"] = StepStatus(values["status"])
    for counter, attr in LOOP_COUNTERS.items():
        if attr in item:
            values[counter] = int(item[attr]["N"])
    return StepRecord(
        run_id=run_id if run_id is not None else item["pk"]["S"][2:],
        step=step if step is not None else item["sk"]["S"][2:],
        arrived=int(item["n"]["N"]) if "n" in item else 0,
        taken_arrivals=int(item["nt"]["N"]) if "nt" in item else 0,
        failed_arrivals=int(item["nf"]["N"]) if "nf" in item else 0,
        **values,
    )


def sink_mark(step: str) -> str:
    """The per-sink attribute a counter written before the number set of sink indexes
    used (dynamo_sinks still honours it on a run's single counter item)."""
    return f"k:{step}"


def update_parts(
    changes: Mapping[str, Any], fields: Mapping[str, tuple[str, str]], prefix: str
) -> tuple[list[str], list[str], dict[str, str], dict[str, AttrValue]]:
    """SET and REMOVE clauses for ``changes`` (None removes), with names and values."""
    sets: list[str] = []
    removes: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, AttrValue] = {}
    for i, (field, value) in enumerate(changes.items()):
        attr, kind = fields[field]
        names[f"#{prefix}{i}"] = attr
        if value is None:
            removes.append(f"#{prefix}{i}")
        else:
            values[f":{prefix}{i}"] = encode(value, kind)
            sets.append(f"#{prefix}{i} = :{prefix}{i}")
    return sets, removes, names, values


def expression(sets: list[str], removes: list[str], adds: list[str] | None = None) -> str:
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    if adds:
        parts.append("ADD " + ", ".join(adds))
    return " ".join(parts)


# runs -------------------------------------------------------------------------------
def run_to_item(run: RunRecord) -> Item:
    item = key(run_pk(run.run_id), RUN_SK)
    item.update(
        {
            "wf": {"S": run.workflow},
            "ver": {"N": str(run.version)},
            "st": {"S": run.status.value},
            "prm": {"S": json.dumps(run.params, separators=(",", ":"))},
            "ca": {"N": str(run.created_at)},
            "skt": {"N": str(run.sinks_total)},
            "fl": {"BOOL": run.failing},
            "trg": {"S": run.trigger},
        }
    )
    if run.iteration is None:
        # A loop's iterations are found from their loop step, never by workflow: kept
        # out of the by-workflow index, each of their writes bills one index write less.
        item["gsi1pk"] = {"S": workflow_pk(run.workflow)}
        item["gsi1sk"] = {"S": runs_index_sk(run.created_at, run.run_id)}
    if run.depth:
        item["dp"] = {"N": str(run.depth)}
    if run.chain:  # set once, at creation; most runs have none
        item["chn"] = {"N": str(run.chain)}
    if run.request_id is not None:  # a restart's request, set once at creation
        item["rq"] = {"S": run.request_id}
    if run.timed_out:  # a run created with it (as the other stores keep it)
        item["tof"] = {"BOOL": True}
    if run.reopened:
        item["rop"] = {"N": str(run.reopened)}
    if run.tags:  # set at creation, never updated
        item["tg"] = {"S": json.dumps(run.tags, separators=(",", ":"), sort_keys=True)}
    if not run.status.terminal and run.watched:
        item["gsi2pk"] = {"S": active_pk(run.run_id)}
        item["gsi2sk"] = {"S": active_sk(first_check(run), run.run_id)}
    elif not run.status.terminal:
        item[UNWATCHED] = {"BOOL": True}  # unsettled, out of gsi2 (RunRecord.watched)
    identity = (
        "root",
        "parent_run",
        "parent_step",
        "parent_index",
        "logical_date",
        "restart_of",
        "restart_from",
    )
    if run.iteration is not None:
        item["it"] = encode(run.iteration, "J")
    for field in (
        "started_at",
        "ended_at",
        "error",
        "reason",
        "results_by",
        "ancestor_deadline",
        "failing_since",
        *identity,
    ):
        value = getattr(run, field)
        if value is not None:
            attr, kind = RUN_FIELDS[field]
            item[attr] = encode(value, kind)
    return item


def run_from_item(item: Item) -> RunRecord:
    return RunRecord(
        run_id=item["pk"]["S"][2:],
        workflow=item["wf"]["S"],
        version=int(item["ver"]["N"]),
        status=RunStatus(item["st"]["S"]),
        params=json.loads(item["prm"]["S"]),
        created_at=int(item["ca"]["N"]),
        sinks_total=int(item["skt"]["N"]),
        failing=item["fl"]["BOOL"],
        timed_out=item.get("tof", {}).get("BOOL", False),
        failing_since=int(item["fs"]["N"]) if "fs" in item else None,
        started_at=int(item["sa"]["N"]) if "sa" in item else None,
        ended_at=int(item["ea"]["N"]) if "ea" in item else None,
        error=item["er"]["S"] if "er" in item else None,
        trigger=item["trg"]["S"],
        reason=item["rs"]["S"] if "rs" in item else None,
        results_by=int(item["rby"]["N"]) if "rby" in item else None,
        ancestor_deadline=int(item["adl"]["N"]) if "adl" in item else None,
        root=item["rt"]["S"] if "rt" in item else None,
        parent_run=item["pr"]["S"] if "pr" in item else None,
        parent_step=item["ps"]["S"] if "ps" in item else None,
        parent_index=int(item["pi"]["N"]) if "pi" in item else None,
        depth=int(item["dp"]["N"]) if "dp" in item else 0,
        chain=int(item["chn"]["N"]) if "chn" in item else 0,
        logical_date=item["ld"]["S"] if "ld" in item else None,
        restart_of=item["ro"]["S"] if "ro" in item else None,
        restart_from=item["rf"]["S"] if "rf" in item else None,
        request_id=item["rq"]["S"] if "rq" in item else None,
        reopened=int(item["rop"]["N"]) if "rop" in item else 0,
        tags=json.loads(item["tg"]["S"]) if "tg" in item else {},
        check_at=_check_of(item),
        iteration=json.loads(item["it"]["S"]) if "it" in item else None,
        # Terminal, out of the active index and not marked unwatched: every follow-up
        # was done.
        settled=RunStatus(item["st"]["S"]).terminal
        and "gsi2pk" not in item
        and UNWATCHED not in item,
        watched=UNWATCHED not in item,
    )


# workflows --------------------------------------------------------------------------
def pack_document(document: dict[str, Any]) -> bytes:
    """Definitions compress ~10x; a 10,000-step workflow then fits in one item."""
    return zlib.compress(json.dumps(document, separators=(",", ":")).encode(), 6)


def version_from_item(item: Item, active: int) -> WorkflowVersion:
    raw = item["doc"]["B"]
    return WorkflowVersion(
        name=item["pk"]["S"][2:],
        version=int(item["ver"]["N"]),
        document=json.loads(zlib.decompress(raw)),
        digest=item["dg"]["S"],
        created_at=int(item["ca"]["N"]),
        active_version=active,
    )


# events -----------------------------------------------------------------------------
def event_to_item(ev: TimelineEvent) -> Item:
    item = key(run_pk(ev.run_id), event_sk(ev.at, ev.event_id))
    item["k"] = {"S": ev.kind}
    item["d"] = {"S": json.dumps(ev.detail, separators=(",", ":"), default=str)}
    if ev.step is not None:
        item["stp"] = {"S": ev.step}
    if ev.attempt is not None:
        item["at"] = {"N": str(ev.attempt)}
    return item


def event_from_item(item: Item) -> TimelineEvent:
    _, at, event_id = item["sk"]["S"].split("#", 2)
    return TimelineEvent(
        run_id=item["pk"]["S"][2:],
        at=int(at),
        event_id=event_id,
        kind=item["k"]["S"],
        step=item["stp"]["S"] if "stp" in item else None,
        attempt=int(item["at"]["N"]) if "at" in item else None,
        detail=json.loads(item["d"]["S"]),
    )


def _check_of(item: Item) -> int | None:
    sk = item.get("gsi2sk", {}).get("S", "")
    head, sep, _ = sk.partition("#")
    return int(head) if sep and is_ascii_digits(head) else None
