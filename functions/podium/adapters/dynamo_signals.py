"""Signals on the state table.

Items (docs/architecture.md):
- ``SIG#<name>`` / ``<sent_at:013>#<signal id>``: the signal; ``p`` its params as a map
  (strings and numbers, so the query's filter compares them natively), ``d`` the whole
  signal as JSON, ``xm`` its expiry in ms, ``expires_at`` in seconds (the table's TTL).
- ``SIGID#<signal id>`` / ``#SIG``: its identity, written in the same transaction on
  condition that it is absent or expired: the de-duplication.
- ``SIGW#<name>`` / ``<run>/<step>``: a step waiting for a signal of that name.
- ``SIGC#<consumer>`` / ``<signal id>@<sent_at>``: a signal trigger used this signal
  instance for the run ``grp`` (all the signals of one run are marked in one
  transaction), at ``at`` (ms). A mark made before marks named instances has the
  signal id alone as its sort key and no ``at``.
Every item carries ``expires_at``, so nothing outlives its TTL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.dynamo_conditions import error_code
from podium.core.engine.signals import ConsumedMark, Op, ParamMatch, Signal, Waiter, matches

_OPS = {Op.EQ: "=", Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}


def _ttl(ms: int) -> dict[str, str]:
    return {"N": str(-(-ms // 1000))}


def _value(v: str | int) -> dict[str, str]:
    return {"N": str(v)} if isinstance(v, int) else {"S": v}


def _sort_key(signal: Signal) -> str:
    return f"{signal.sent_at:013d}#{signal.signal_id}"


class DynamoSignals:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def send(self, signal: Signal) -> tuple[Signal, bool]:
        data = json.dumps(signal.as_json(), separators=(",", ":"), default=str)
        ident = {
            "pk": {"S": f"SIGID#{signal.signal_id}"},
            "sk": {"S": "#SIG"},
            "d": {"S": data},
            "xm": {"N": str(signal.expires_at)},
            "expires_at": _ttl(signal.expires_at),
        }
        item = {
            "pk": {"S": f"SIG#{signal.name}"},
            "sk": {"S": _sort_key(signal)},
            "p": {"M": {k: _value(v) for k, v in signal.params.items()}},
            "d": {"S": data},
            "xm": {"N": str(signal.expires_at)},
            "expires_at": _ttl(signal.expires_at),
        }
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": ident,
                            "ConditionExpression": "attribute_not_exists(#pk) OR #xm <= :now",
                            "ExpressionAttributeNames": {"#pk": "pk", "#xm": "xm"},
                            "ExpressionAttributeValues": {":now": {"N": str(signal.sent_at)}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {"Put": {"TableName": self._table, "Item": item}},
                ]
            )
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            first = reasons[0] if reasons else {}
            if first.get("Code") != "ConditionalCheckFailed":
                raise
            old = first.get("Item") or self._identity(signal.signal_id)
            if not old:
                raise
            return Signal.from_json(json.loads(old["d"]["S"])), False
        return signal, True

    def _identity(self, signal_id: str) -> dict[str, Any] | None:
        got: dict[str, Any] | None = self._db.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"SIGID#{signal_id}"}, "sk": {"S": "#SIG"}},
            ConsistentRead=True,
        ).get("Item")
        return got

    def find(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        limit: int = 1,
    ) -> list[Signal]:
        names = {"#pk": "pk", "#xm": "xm"}
        values: dict[str, Any] = {":pk": {"S": f"SIG#{name}"}, ":now": {"N": str(now)}}
        key = "#pk = :pk"
        if since is not None:
            key += " AND #sk >= :since"
            names["#sk"] = "sk"
            values[":since"] = {"S": f"{max(since, 0):013d}"}
        filters = ["#xm > :now"]
        for i, c in enumerate(conditions):
            names["#p"] = "p"
            names[f"#k{i}"] = c.param
            values[f":v{i}"] = _value(c.value)
            values[f":t{i}"] = {"S": "N" if isinstance(c.value, int) else "S"}
            # Types first: a string never matches a number (and is never compared to one).
            filters.append(f"attribute_type(#p.#k{i}, :t{i}) AND #p.#k{i} {_OPS[c.op]} :v{i}")
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": key,
            "FilterExpression": " AND ".join(filters),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        found: list[Signal] = []
        while len(found) < limit:
            resp = self._db.query(**query)
            for item in resp.get("Items", []):
                signal = Signal.from_json(json.loads(item["d"]["S"]))
                # The filter already matched; checking again keeps the rule in one place
                # (a string never equals a number in either).
                if matches(signal, conditions, since=since):
                    found.append(signal)
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            query["ExclusiveStartKey"] = last
        return found[:limit]

    def add_waiter(self, name: str, waiter: Waiter, expires_at: int) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"SIGW#{name}"},
                "sk": {"S": f"{waiter.run_id}/{waiter.step}"},
                "xm": {"N": str(expires_at)},
                "expires_at": _ttl(expires_at),
            },
        )

    def waiters(self, name: str, now: int) -> list[Waiter]:
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk",
            "FilterExpression": "#xm > :now",
            "ExpressionAttributeNames": {"#pk": "pk", "#xm": "xm"},
            "ExpressionAttributeValues": {":pk": {"S": f"SIGW#{name}"}, ":now": {"N": str(now)}},
            "ConsistentRead": True,
        }
        out: list[Waiter] = []
        while True:
            resp = self._db.query(**query)
            for item in resp.get("Items", []):
                run_id, _, step = item["sk"]["S"].partition("/")
                out.append(Waiter(run_id, step))
            last = resp.get("LastEvaluatedKey")
            if not last:
                return out
            query["ExclusiveStartKey"] = last

    def remove_waiter(self, name: str, waiter: Waiter) -> None:
        self._db.delete_item(
            TableName=self._table,
            Key={"pk": {"S": f"SIGW#{name}"}, "sk": {"S": f"{waiter.run_id}/{waiter.step}"}},
        )

    def consume(
        self,
        consumer: str,
        signal_ids: Sequence[str],
        group: str,
        expires_at: int,
        made_at: int | None = None,
    ) -> bool:
        # One transaction (a trigger joins at most 8 names): all marks or none. A mark
        # already held by this group (a replay) passes its condition and is rewritten.
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        "pk": {"S": f"SIGC#{consumer}"},
                        "sk": {"S": sid},
                        "grp": {"S": group},
                        "xm": {"N": str(expires_at)},
                        "expires_at": _ttl(expires_at),
                        **({} if made_at is None else {"at": {"N": str(made_at)}}),
                    },
                    "ConditionExpression": "attribute_not_exists(#pk) OR #grp = :grp",
                    "ExpressionAttributeNames": {"#pk": "pk", "#grp": "grp"},
                    "ExpressionAttributeValues": {":grp": {"S": group}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for sid in signal_ids
        ]
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                return False  # a signal is another group's
            raise
        return True

    def consumed_by(self, consumer: str, signal_id: str) -> str | None:
        item = self._db.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"SIGC#{consumer}"}, "sk": {"S": signal_id}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else str(item.get("grp", {}).get("S", ""))

    def marks(self, consumer: str, keys: Sequence[str]) -> dict[str, ConsumedMark]:
        out: dict[str, ConsumedMark] = {}
        wanted = list(dict.fromkeys(keys))  # BatchGetItem refuses a key twice
        for i in range(0, len(wanted), 100):  # its limit per call
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [
                        {"pk": {"S": f"SIGC#{consumer}"}, "sk": {"S": k}}
                        for k in wanted[i : i + 100]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                resp = self._db.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self._table, []):
                    at = item.get("at")
                    out[item["sk"]["S"]] = ConsumedMark(
                        str(item.get("grp", {}).get("S", "")),
                        int(item["xm"]["N"]) if "xm" in item else 0,
                        None if at is None else int(at["N"]),
                    )
                # Throttled keys come back unprocessed: asked again.
                request = resp.get("UnprocessedKeys") or {}
        return out

    def get(self, signal_id: str, *, now: int) -> Signal | None:
        item = self._identity(signal_id)
        if item is None or int(item["xm"]["N"]) <= now:
            return None
        return Signal.from_json(json.loads(item["d"]["S"]))
