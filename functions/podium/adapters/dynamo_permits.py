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

A key's holders share its ``#PERMITS`` item, which DynamoDB caps at 400 KB: a holder's
marker is ``h:`` and its run id and step, and its lease (8 bytes): with 64-character run
ids and 20-character steps 95 bytes, so some 4,200 holders; a loop's iteration, whose
run id names its parents, up to about 1,050 bytes, so as few as 380. A key whose ``limit`` is
higher than its item can hold is full at what it holds: a claim that would pass the
item's size is refused as one at the limit (``Claim.FULL``: the step queues, and a
release wakes it), never as an error (it came back on every delivery, to the dead-letter
queue), and ``state`` says the key is at its limit once fewer than ``HOLDER_ROOM`` bytes
are left, so a release's wake-up does not wake a head that cannot claim either.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger("podium.permits")

PERMITS_SK = "#PERMITS"
_WAITING = frozenset({StepStatus.WAITING_FOR_PERMITS, StepStatus.READY})
_PAGE = 1_000  # queue items a Query reads at once (a page stops at 1 MB anyway)

# DynamoDB refuses an item over 400 KB (409,600 bytes; moto at 405,000): the budget is
# counted below both. A claim adds at most one holder marker: ``h:`` + a run id (64
# characters; a loop iteration's names its parents, 10 levels of ``.<step>.<index>``,
# at most 64 + 10 * 88) + ``/`` + a step id (80) = at most 1,027 bytes, its lease (a
# number: at most 21 bytes) and a digit more of ``n``/``lim``: 1,050 bytes. Wake-ups
# stop once less than twice that is left, so a woken head's claim always fits.
ITEM_BUDGET = 400_000
HOLDER_ROOM = 2_100


def item_bytes(item: Mapping[str, Any]) -> int:
    """A ``#PERMITS`` item's size as DynamoDB counts it: names and strings in UTF-8, a
    number one byte per two significant digits and one more."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "N" in value:
            whole, _, fraction = str(value["N"]).lstrip("+-").partition(".")
            size += (len((whole + fraction).strip("0")) + 1) // 2 + 1
        else:
            size += len(str(value.get("S", "")).encode())
    return size


def too_large(exc: ClientError) -> list[int] | None:
    """The transaction items DynamoDB refused for passing its 400 KB item size, when
    that is why ``exc`` refused the write: their places (a TransactionCanceled's
    ``ValidationError`` reasons), or [] when the refusal names none (a single write's
    ValidationException, as moto also answers a transaction). None: another error."""
    error = exc.response.get("Error", {})
    if error.get("Code") == "ValidationException":
        return [] if "item size" in str(error.get("Message", "")).lower() else None
    reasons = _reasons(exc)
    if reasons is None:
        return None
    places = [
        i
        for i, r in enumerate(reasons)
        if r.get("Code") == "ValidationError" and "size" in str(r.get("Message", "")).lower()
    ]
    return places or None


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
            if too_large(exc) is not None:
                # A waiter counted on a key's item that is at its 400 KB (a few bytes
                # more): refused, as a step moved meanwhile; its sweep tries again.
                log.warning("a permit queue write refused: the key's item is at 400 KB")
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
            full = self._too_full(exc, needs)
            if full is not None:
                log.warning(
                    "%s waits for a permit of %r: the key's record would pass DynamoDB's"
                    " 400 KB item size with another holder (as at its limit, though fewer"
                    " than its limit hold it)",
                    holder,
                    full,
                )
                return ClaimResult(Claim.FULL, full_key=full)
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

    def _too_full(self, exc: ClientError, needs: Sequence[PermitNeed]) -> str | None:
        """The key whose item a claim would have made too large, if that refused it."""
        places = too_large(exc)
        if places is None:
            return None
        named = [needs[i].key for i in places if i < len(needs)]
        if named:
            return named[0]
        if places or not needs:
            return None  # the step's own item: not a key's limit
        # The refusal names no item: the largest of the keys' items is the one.
        return max(needs, key=lambda n: item_bytes(self._item(n.key))).key

    def _item(self, key: str) -> dict[str, Any]:
        got = self._db.get_item(
            TableName=self._table, Key=self._permits_key(key), ConsistentRead=True
        )
        return dict(got.get("Item") or {})

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
        return [(p.run_id, p.step) for p in self.places(key, limit)]

    def places(self, key: str, limit: int, *, after: QueuePlace | None = None) -> list[QueuePlace]:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :q)",
            "ExpressionAttributeNames": {"#pk": "pk", "#sk": "sk"},
            "ExpressionAttributeValues": {":pk": {"S": key_pk(key)}, ":q": {"S": "Q#"}},
            "ConsistentRead": True,
        }
        if after is not None:
            start = _queue_sk(after.since, holder_id(after.run_id, after.step))
            kwargs["ExclusiveStartKey"] = c.key(key_pk(key), start)
        out: list[QueuePlace] = []
        while len(out) < limit:  # a page stops at 1 MB
            resp = self._db.query(**kwargs, Limit=min(limit - len(out), _PAGE))
            out += [_place(key, item) for item in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
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
        return _place(key, items[0]) if items else None

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
        active = int(item["n"]["N"]) if "n" in item else 0
        limit = int(item["lim"]["N"]) if "lim" in item else None
        if limit is not None and item_bytes(item) > ITEM_BUDGET - HOLDER_ROOM:
            # No room for another holder: the key is at its limit as far as a wake-up is
            # concerned (a woken head would be refused as FULL, wait and wake itself).
            limit = min(limit, active)
        return PermitState(
            active=active,
            holders={k[2:]: int(v["N"]) for k, v in item.items() if k.startswith("h:")},
            waiting=int(item["w"]["N"]) if "w" in item else 0,
            limit=limit,
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


def _place(key: str, item: Mapping[str, Any]) -> QueuePlace:
    since = int(item["sk"]["S"].split("#", 2)[1])
    run_id, _, step = item["holder"]["S"].partition("/")
    return QueuePlace(key, since, run_id, step)


def _reasons(exc: ClientError) -> list[dict[str, Any]] | None:
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return None
    return list(exc.response.get("CancellationReasons") or [])
