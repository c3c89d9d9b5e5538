"""RunSlots on the single table.

Items (pk ``W#<workflow>``):
  ``#SLOTS``                   ``n`` active count, ``h:<run_id>`` holder markers
                               (value: when admitted), ``blk`` the run blocking the queue
  ``Q#<created:013d>#<run_id>`` one per QUEUED run; a consistent Query on the prefix
                               reads the queue in arrival order
Every change is a TransactWriteItems whose conditions name the count, the holder and the
run's status, so racing Lambdas can never exceed a limit or admit a run twice.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from podium.adapters import dynamo_codec as c
from podium.core.engine.errors import RunConflict
from podium.core.engine.records import QueueEntry, RunRecord, SlotState
from podium.core.engine.status import RunStatus
from podium.core.ports import Admission

SLOTS_SK = "#SLOTS"


def _queue_sk(created_at: int, run_id: str) -> str:
    return f"Q#{created_at:013d}#{run_id}"


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
        entry = c.key(c.workflow_pk(run.workflow), _queue_sk(run.created_at, run.run_id))
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

    def queued(self, workflow: str, limit: int) -> list[QueueEntry]:
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :q)",
            ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues={":pk": {"S": c.workflow_pk(workflow)}, ":q": {"S": "Q#"}},
            ConsistentRead=True,
            Limit=limit,
        )
        out = []
        for item in resp.get("Items", []):
            _, created, run_id = item["sk"]["S"].split("#", 2)
            out.append(QueueEntry(workflow, run_id, int(created)))
        return out

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
        delete_entry = {
            "Delete": {
                "TableName": self._table,
                "Key": c.key(
                    c.workflow_pk(entry.workflow), _queue_sk(entry.created_at, entry.run_id)
                ),
            }
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
                            "Key": c.key(
                                c.workflow_pk(entry.workflow),
                                _queue_sk(entry.created_at, entry.run_id),
                            ),
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
