"""RunSlots on the single table.

Items (pk ``W#<workflow>``):
  ``#SLOTS``                   ``n`` active count, ``h:<run_id>`` holder markers
                               (value: when admitted), ``blk`` the run blocking the queue
  ``Q#<created:013d>#<order>#<run_id>`` one per QUEUED run (``run``: its id); a
                               consistent Query on the prefix reads the queue in arrival
                               order: by creation, then by ``order``, a ULID made at the
                               enqueue (monotonic in a process). Not by run id: the runs
                               a backfill makes in one millisecond have ids whose time is
                               their scheduled time, so ``--backwards`` ran out of order.
Every change is a TransactWriteItems whose conditions name the count, the holder and the
run's status, so racing Lambdas can never exceed a limit or admit a run twice.

The holders share the ``#SLOTS`` item, which DynamoDB caps at 400 KB. A holder is
``h:`` and a top run's id (at most 64 characters: the API's ``run_id``, the ULIDs
Podium makes are 26) and when it was admitted (a millisecond time, 8 bytes): at most 74
bytes, so the 5,000 runs a ``{parallel: N}`` may have active (core/dsl/models.py
``MAX_PARALLEL_RUNS``) take at most 370,000 bytes, with some 39 KB to spare. A version
stored before that bound (up to 10,000) is not refused when it runs: an admission that
would pass the item's size is refused as one at the limit (``Admission.FULL``: the run
stays queued, and a warning says why) rather than as an error.

Entries queued before ``order`` was kept (``Q#<created:013d>#<run_id>``, still in
deployed tables) share the prefix, so the same Query reads them, in their millisecond
among the new ones; an entry's key is the one read (``ListedEntry.place``), so they are
admitted and removed by their own key. A ``QueueEntry`` made from a run (a stop of a
queued run) carries no key: it is found by a Query of its creation millisecond, which
holds either layout, and matched by ``run``.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters import dynamo_codec as c
from podium.adapters.clock import SystemClock, UlidGenerator
from podium.adapters.dynamo_permits import too_large
from podium.core.engine.errors import RunConflict
from podium.core.engine.records import QueueEntry, RunRecord, SlotState
from podium.core.engine.status import RunStatus
from podium.core.ports import Admission, ListedEntry

log = logging.getLogger("podium.admission")

SLOTS_SK = "#SLOTS"
_ORDER = UlidGenerator(SystemClock())  # one per process: its ids never go back


def _queue_ms(created_at: int) -> str:
    return f"Q#{created_at:013d}#"


def _entry(workflow: str, item: dict[str, Any]) -> ListedEntry:
    sk = item["sk"]["S"]
    created = sk.split("#", 2)[1]
    run_id = item["run"]["S"] if "run" in item else sk.rsplit("#", 1)[1]
    return ListedEntry(workflow, run_id, int(created), sk)


def _holder(run_id: str) -> str:
    return f"h:{run_id}"


def _cancelled(exc: ClientError) -> list[dict[str, Any]] | None:
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return list(exc.response.get("CancellationReasons") or [])


class DynamoRunSlots:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def _slots_key(self, workflow: str) -> dict[str, Any]:
        return c.key(c.workflow_pk(workflow), SLOTS_SK)

    def enqueue(self, run: RunRecord) -> None:
        sk = f"{_queue_ms(run.created_at)}{_ORDER.new_id()}#{run.run_id}"
        entry = c.key(c.workflow_pk(run.workflow), sk)
        entry["run"] = {"S": run.run_id}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": c.run_to_item(run),
                            "ConditionExpression": "attribute_not_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": "pk"},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": entry}},
                ]
            )
        except ClientError as exc:
            reasons = _cancelled(exc)
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                old = reasons[0].get("Item")
                raise RunConflict(run.run_id, c.run_from_item(old) if old else None) from None
            raise

    def queued(
        self, workflow: str, limit: int, *, after: QueueEntry | None = None
    ) -> list[QueueEntry]:
        pk = c.workflow_pk(workflow)
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :q)",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":q": {"S": "Q#"}},
            "ConsistentRead": True,
        }
        if after is not None:
            # An entry gone from the queue: from the start of its millisecond.
            start = self._key_of(after) or _queue_ms(after.created_at)
            kwargs["ExclusiveStartKey"] = c.key(pk, start)
        out: list[QueueEntry] = []
        while len(out) < limit:  # a page stops at 1 MB
            resp = self._db.query(**kwargs, Limit=limit - len(out))
            out += [_entry(workflow, item) for item in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return out

    def _key_of(self, entry: QueueEntry) -> str | None:
        """The sort key of ``entry``'s queue item; None when it is no longer queued."""
        if isinstance(entry, ListedEntry) and entry.place:
            return entry.place
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :q)",
            "FilterExpression": "#run = :run",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk", "#run": "run"},
            "ExpressionAttributeValues": {
                ":pk": {"S": c.workflow_pk(entry.workflow)},
                ":q": {"S": _queue_ms(entry.created_at)},
                ":run": {"S": entry.run_id},
            },
            "ConsistentRead": True,
        }
        while True:
            resp = self._db.query(**kwargs)
            if resp.get("Items"):
                return str(resp["Items"][0]["sk"]["S"])
            if "LastEvaluatedKey" not in resp:
                return None
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _take_slot(
        self, workflow: str, run_id: str, limit: int, strict: bool, now: int
    ) -> dict[str, Any]:
        condition = "(attribute_not_exists(#n) OR #n < :limit) AND attribute_not_exists(#h)"
        if strict:
            condition += " AND attribute_not_exists(#blk)"
        names = {"#n": "n", "#h": _holder(run_id), "#blk": "blk"}
        # A run admitted under another strategy clears a block: the same write, free.
        update = "SET #h = :now ADD #n :one" + ("" if strict else " REMOVE #blk")
        return {
            "Update": {
                "TableName": self._table,
                "Key": self._slots_key(workflow),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {
                    ":limit": {"N": str(limit)},
                    ":now": {"N": str(now)},
                    ":one": {"N": "1"},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def admit(
        self, entry: QueueEntry, *, limit: int, strict: bool, now: int, check_at: int
    ) -> Admission:
        if limit <= 0:
            return Admission.FULL  # paused: the condition below cannot say "never"
        run_update = {
            "Update": {
                "TableName": self._table,
                "Key": c.key(c.run_pk(entry.run_id), c.RUN_SK),
                # Its next check in the same write (a QUEUED run is in the due index).
                "UpdateExpression": "SET #st = :running, #sa = :now, #g2s = :check",
                "ConditionExpression": "#st = :queued",
                "ExpressionAttributeNames": {"#st": "st", "#sa": "sa", "#g2s": "gsi2sk"},
                "ExpressionAttributeValues": {
                    ":running": {"S": RunStatus.RUNNING.value},
                    ":queued": {"S": RunStatus.QUEUED.value},
                    ":now": {"N": str(now)},
                    ":check": {"S": c.active_sk(check_at, entry.run_id)},
                },
            }
        }
        sk = self._key_of(entry)
        if sk is None:
            return Admission.GONE  # left the queue (its item goes with the run's change)
        delete_entry = {
            "Delete": {"TableName": self._table, "Key": c.key(c.workflow_pk(entry.workflow), sk)}
        }
        try:
            self._db.transact_write_items(
                TransactItems=[
                    self._take_slot(entry.workflow, entry.run_id, limit, strict, now),
                    run_update,
                    delete_entry,
                ]
            )
        except ClientError as exc:
            places = too_large(exc)
            if places is not None and (not places or places[0] == 0):
                # The slots' item (the first write; a refusal that names none can only
                # be it: the run's and the entry's items are small).
                log.warning(
                    "run %s stays queued: %s's slots would pass DynamoDB's 400 KB item"
                    " size with another holder (as at its limit, though fewer than it hold"
                    " one)",
                    entry.run_id,
                    entry.workflow,
                )
                return Admission.FULL
            reasons = _cancelled(exc)
            if reasons is None:
                raise
            codes = [r.get("Code") for r in reasons]
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return Admission.GONE
            if codes and codes[0] == "ConditionalCheckFailed":
                old = reasons[0].get("Item") or {}
                return Admission.BLOCKED if strict and "blk" in old else Admission.FULL
            if "TransactionConflict" in codes:
                return Admission.FULL  # another admission touched the slots: look again
            raise
        return Admission.ADMITTED

    def start_alone(self, run: RunRecord, now: int) -> SlotState | None:
        try:
            self._db.transact_write_items(
                TransactItems=[
                    self._take_slot(run.workflow, run.run_id, 1, False, now),
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": c.run_to_item(run),
                            "ConditionExpression": "attribute_not_exists(#pk)",
                            "ExpressionAttributeNames": {"#pk": "pk"},
                        }
                    },
                ]
            )
        except ClientError as exc:
            reasons = _cancelled(exc)
            if reasons is None:
                raise
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return _slot_state(reasons[0].get("Item") or {})
            if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
                raise RunConflict(run.run_id, None) from None
            if any(r.get("Code") == "TransactionConflict" for r in reasons):
                return self.state(run.workflow)  # another start is racing us: it wins
            raise
        return None

    def release(self, workflow: str, run_id: str, *, block: bool) -> bool:
        sets = ["#blk = :run"] if block else []
        expression = ("SET " + ", ".join(sets) + " " if sets else "") + "REMOVE #h ADD #n :minus"
        names = {"#h": _holder(run_id), "#n": "n"}
        values: dict[str, Any] = {":minus": {"N": "-1"}}
        if block:
            names["#blk"] = "blk"
            values[":run"] = {"S": run_id}
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._slots_key(workflow),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#h)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def state(self, workflow: str) -> SlotState:
        item = self._db.get_item(
            TableName=self._table, Key=self._slots_key(workflow), ConsistentRead=True
        ).get("Item")
        return _slot_state(item or {})

    def unblock(self, workflow: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=self._slots_key(workflow),
            UpdateExpression="REMOVE #blk",
            ExpressionAttributeNames={"#blk": "blk"},
        )

    def drop_queued(self, entry: QueueEntry, to: RunStatus, reason: str, now: int) -> bool:
        sk = self._key_of(entry)
        if sk is None:
            return False
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": c.key(c.run_pk(entry.run_id), c.RUN_SK),
                            "UpdateExpression": "SET #st = :to, #rs = :why, #ea = :now"
                            " REMOVE #g2p, #g2s",
                            "ConditionExpression": "#st = :queued",
                            "ExpressionAttributeNames": {
                                "#st": "st",
                                "#rs": "rs",
                                "#ea": "ea",
                                "#g2p": "gsi2pk",
                                "#g2s": "gsi2sk",
                            },
                            "ExpressionAttributeValues": {
                                ":to": {"S": to.value},
                                ":why": {"S": reason},
                                ":now": {"N": str(now)},
                                ":queued": {"S": RunStatus.QUEUED.value},
                            },
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": c.key(c.workflow_pk(entry.workflow), sk),
                        }
                    },
                ]
            )
        except ClientError as exc:
            if _cancelled(exc) is not None:
                return False
            raise
        return True


def _slot_state(item: dict[str, Any]) -> SlotState:
    holders = {k[2:]: int(v["N"]) for k, v in item.items() if k.startswith("h:")}
    return SlotState(
        active=int(item["n"]["N"]) if "n" in item else 0,
        holders=holders,
        blocked_by=item["blk"]["S"] if "blk" in item else None,
    )
