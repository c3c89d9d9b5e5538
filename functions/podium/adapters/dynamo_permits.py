"""Permits on the single table.

Items (pk ``K#<key>``):
  ``#PERMITS``                    ``n`` held, ``w`` waiting, ``lim`` last limit seen,
                                  ``h:<run_id>/<step>`` a holder (value: lease expiry)
  ``Q#<since:013d>#<run>/<step>`` one per waiting step; a consistent Query reads the
                                  queue in arrival order
A run's own max_parallel_steps key (``K#run:<run_id>``) goes with its run: ``forget``
deletes its ``#PERMITS`` item once the run ended and gave its permits back, and its
items expire with the run's (adapters/dynamo_expiry.py) should a late write leave one.
A claim is one transaction: the permits of every key the step needs (``n < limit``, not
already held, and nobody waiting unless this step is the one that waited) and the step's
``READY -> RUNNING`` at its attempt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters import dynamo_codec as c
from podium.adapters.dynamo_conditions import step_transition
from podium.core.engine.permits import (
    PermitNeed,
    QueuePlace,
    holder_id,
    stranded_in_queue,
)
from podium.core.engine.records import PermitState, StepRecord
from podium.core.engine.status import CLAIMABLE, StepStatus
from podium.core.ports import Claim, ClaimResult

PERMITS_SK = "#PERMITS"
_WAITING = frozenset({StepStatus.WAITING_FOR_PERMITS, StepStatus.READY})


def key_pk(key: str) -> str:
    return f"K#{key}"


def _queue_sk(since: int, holder: str) -> str:
    return f"Q#{since:013d}#{holder}"


class DynamoPermits:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def _permits_key(self, key: str) -> dict[str, Any]:
        return c.key(key_pk(key), PERMITS_SK)

    def _leave_queue(self, step: StepRecord, *, count: bool = True) -> list[dict[str, Any]]:
        """Delete the step's queue item and, with ``count``, count one waiter less."""
        assert step.waiting_key is not None and step.waiting_since is not None
        holder = holder_id(step.run_id, step.step)
        return self._leave_place(step.waiting_key, step.waiting_since, holder, count=count)

    def _leave_place(
        self, key: str, since: int, holder: str, *, count: bool = True
    ) -> list[dict[str, Any]]:
        """Delete the queue item of ``holder`` at ``since`` in ``key``'s queue (it must
        be there) and, with ``count``, count one waiter less."""
        delete = {
            "Delete": {
                "TableName": self._table,
                "Key": c.key(key_pk(key), _queue_sk(since, holder)),
                "ConditionExpression": "attribute_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": "pk"},
            }
        }
        if not count:
            return [delete]
        return [
            delete,
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._permits_key(key),
                    "UpdateExpression": "ADD #w :minus",
                    "ExpressionAttributeNames": {"#w": "w"},
                    "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                }
            },
        ]

    def _transact_if(self, items: list[dict[str, Any]]) -> bool:
        """One transaction; False when one of its conditions failed."""
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _reasons(exc) is not None:
                return False
            raise
        return True

    def claim(
        self,
        step: StepRecord,
        needs: Sequence[PermitNeed],
        *,
        attempt: int,
        changes: Mapping[str, Any],
    ) -> ClaimResult:
        holder = holder_id(step.run_id, step.step)
        lease = changes["lease_until"]
        items: list[dict[str, Any]] = []
        for need in needs:
            was_waiting_here = step.waiting_key == need.key
            update = "SET #h = :lease, #lim = :lim ADD #n :one"
            condition = "(attribute_not_exists(#n) OR #n < :lim) AND attribute_not_exists(#h)"
            values: dict[str, Any] = {
                ":lim": {"N": str(need.limit)},
                ":lease": {"N": str(lease)},
                ":one": {"N": "1"},
            }
            if was_waiting_here:  # it leaves this key's queue in the same update
                update += ", #w :minus"
                values[":minus"] = {"N": "-1"}
            elif step.waiting_key is None:  # newcomers queue behind steps that waited first
                # (a step waiting on another key is no newcomer here: bounced to the back
                # of this key's queue, it woke this one's head, which did the same back,
                # a livelock of two keys with both free)
                condition += " AND (attribute_not_exists(#w) OR #w <= :zero)"
                values[":zero"] = {"N": "0"}
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._permits_key(need.key),
                        "UpdateExpression": update,
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": {
                            "#n": "n",
                            "#h": f"h:{holder}",
                            "#lim": "lim",
                            # DynamoDB refuses a name the expressions do not use.
                            **({"#w": "w"} if "#w" in update + condition else {}),
                        },
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        leaving = step.waiting_key is not None
        if leaving:
            # One transaction may touch an item once: the waiter count of a key it claims
            # moved in that key's update above.
            counted = any(n.key == step.waiting_key for n in needs)
            items += self._leave_queue(step, count=not counted)
        step_changes = {**changes, "waiting_key": None, "waiting_since": None, "reason": None}
        items.append(
            {
                "Update": step_transition(
                    self._table,
                    step.run_id,
                    step.step,
                    CLAIMABLE,
                    attempt - 1,
                    StepStatus.RUNNING,
                    step_changes,
                )
            }
        )
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            reasons = _reasons(exc)
            if reasons is None:
                raise
            last = reasons[-1] if reasons else {}
            if last.get("Code") == "ConditionalCheckFailed":
                old = last.get("Item")
                return ClaimResult(Claim.CONFLICT, current=c.step_from_item(old) if old else None)
            for need, reason in zip(needs, reasons, strict=False):
                if reason.get("Code") in ("ConditionalCheckFailed", "TransactionConflict"):
                    return ClaimResult(Claim.FULL, full_key=need.key)
            if leaving and any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return ClaimResult(Claim.CONFLICT)  # its queue item is gone: a replay
            raise
        return ClaimResult(Claim.CLAIMED)

    def wait(self, step: StepRecord, key: str, limit: int, now: int) -> bool:
        holder = holder_id(step.run_id, step.step)
        if step.waiting_key == key:  # woken, but the key is full again: back in its place
            items = [
                {
                    "Update": step_transition(
                        self._table,
                        step.run_id,
                        step.step,
                        CLAIMABLE,
                        step.attempt,
                        StepStatus.WAITING_FOR_PERMITS,
                        {},
                    )
                }
            ]
        else:
            items = [] if step.waiting_key is None else self._leave_queue(step)
            entry = c.key(key_pk(key), _queue_sk(now, holder))
            entry["holder"] = {"S": holder}
            items += [
                {"Put": {"TableName": self._table, "Item": entry}},
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": self._permits_key(key),
                        "UpdateExpression": "SET #lim = :lim ADD #w :one",
                        "ExpressionAttributeNames": {"#w": "w", "#lim": "lim"},
                        "ExpressionAttributeValues": {
                            ":one": {"N": "1"},
                            ":lim": {"N": str(limit)},
                        },
                    }
                },
                {
                    "Update": step_transition(
                        self._table,
                        step.run_id,
                        step.step,
                        CLAIMABLE,
                        step.attempt,
                        StepStatus.WAITING_FOR_PERMITS,
                        {
                            "waiting_key": key,
                            "waiting_since": now,
                            "reason": f"waiting for a permit of '{key}' (limit {limit})",
                        },
                    )
                },
            ]
        if step.waiting_key != key:
            # Decided from the step as the caller read it: the write must find the step
            # still queued where it was read (or nowhere). A stale duplicate would else
            # add a second queue item and orphan the first at the head of the queue.
            update = items[-1]["Update"]
            update["ExpressionAttributeNames"]["#cwk"] = "wk"
            if step.waiting_key is None:
                update["ConditionExpression"] += " AND attribute_not_exists(#cwk)"
            else:
                update["ExpressionAttributeValues"][":cwk"] = {"S": step.waiting_key}
                update["ConditionExpression"] += " AND #cwk = :cwk"
        return self._transact_if(items)

    def release(self, key: str, holder: str) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._permits_key(key),
                UpdateExpression="REMOVE #h ADD #n :minus",
                ConditionExpression="attribute_exists(#h)",
                ExpressionAttributeNames={"#h": f"h:{holder}", "#n": "n"},
                ExpressionAttributeValues={":minus": {"N": "-1"}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def queue(self, key: str, limit: int) -> list[tuple[str, str]]:
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :q)",
            ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues={":pk": {"S": key_pk(key)}, ":q": {"S": "Q#"}},
            ConsistentRead=True,
            Limit=limit,
        )
        out = []
        for item in resp.get("Items", []):
            run_id, _, step = item["holder"]["S"].partition("/")
            out.append((run_id, step))
        return out

    def head(self, key: str) -> tuple[str, str] | None:
        first = self.queue(key, 1)
        return first[0] if first else None

    def abandon(self, step: StepRecord, to: StepStatus, changes: Mapping[str, Any]) -> bool:
        items = [
            *self._leave_queue(step),
            {
                "Update": step_transition(
                    self._table,
                    step.run_id,
                    step.step,
                    _WAITING | CLAIMABLE,
                    None,
                    to,
                    {**changes, "waiting_key": None, "waiting_since": None},
                )
            },
        ]
        return self._transact_if(items)

    def head_place(self, key: str) -> QueuePlace | None:
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :q)",
            ExpressionAttributeNames={"#pk": "pk", "#sk": "sk"},
            ExpressionAttributeValues={":pk": {"S": key_pk(key)}, ":q": {"S": "Q#"}},
            ConsistentRead=True,
            Limit=1,
        )
        items = resp.get("Items", [])
        if not items:
            return None
        since = int(items[0]["sk"]["S"].split("#", 2)[1])
        run_id, _, step = items[0]["holder"]["S"].partition("/")
        return QueuePlace(key, since, run_id, step)

    def drop(self, step: StepRecord) -> bool:
        if step.waiting_key is None or step.waiting_since is None:
            return False
        if not stranded_in_queue(step):
            return False
        # Conditional on the status as read (a terminal one is a sink; a PAUSED one
        # resumed is READY at its place, and claims as the waiter it is) at that place.
        update = step_transition(
            self._table,
            step.run_id,
            step.step,
            frozenset({step.status}),
            None,
            step.status,
            {"waiting_key": None, "waiting_since": None},
        )
        update["ExpressionAttributeNames"].update({"#cwk": "wk", "#cws": "ws"})
        update["ExpressionAttributeValues"].update(
            {":cwk": {"S": step.waiting_key}, ":cws": {"N": str(step.waiting_since)}}
        )
        update["ConditionExpression"] += " AND #cwk = :cwk AND #cws = :cws"
        return self._transact_if([*self._leave_queue(step), {"Update": update}])

    def drop_orphan(self, place: QueuePlace) -> bool:
        holder = holder_id(place.run_id, place.step)
        # No step holds the place: its item is gone, or holds no place, or another.
        unheld = {
            "TableName": self._table,
            "Key": c.key(c.run_pk(place.run_id), c.step_sk(place.step)),
            "ConditionExpression": (
                "attribute_not_exists(#pk) OR attribute_not_exists(#wk)"
                " OR attribute_not_exists(#ws) OR #wk <> :wk OR #ws <> :ws"
            ),
            "ExpressionAttributeNames": {"#pk": "pk", "#wk": "wk", "#ws": "ws"},
            "ExpressionAttributeValues": {
                ":wk": {"S": place.key},
                ":ws": {"N": str(place.since)},
            },
        }
        leave = self._leave_place(place.key, place.since, holder)
        return self._transact_if([*leave, {"ConditionCheck": unheld}])

    def state(self, key: str) -> PermitState:
        item = (
            self._db.get_item(
                TableName=self._table, Key=self._permits_key(key), ConsistentRead=True
            ).get("Item")
            or {}
        )
        return PermitState(
            active=int(item["n"]["N"]) if "n" in item else 0,
            holders={k[2:]: int(v["N"]) for k, v in item.items() if k.startswith("h:")},
            waiting=int(item["w"]["N"]) if "w" in item else 0,
            limit=int(item["lim"]["N"]) if "lim" in item else None,
        )

    def forget(self, key: str) -> bool:
        # Nobody holds (``n``) and nobody waits (``w``, so no queue item is left behind),
        # judged as a claim judges them: an absent count is none.
        try:
            self._db.delete_item(
                TableName=self._table,
                Key=self._permits_key(key),
                ConditionExpression=(
                    "attribute_exists(#pk) AND (attribute_not_exists(#n) OR #n <= :zero)"
                    " AND (attribute_not_exists(#w) OR #w <= :zero)"
                ),
                ExpressionAttributeNames={"#pk": "pk", "#n": "n", "#w": "w"},
                ExpressionAttributeValues={":zero": {"N": "0"}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _reasons(exc: ClientError) -> list[dict[str, Any]] | None:
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return list(exc.response.get("CancellationReasons") or [])
