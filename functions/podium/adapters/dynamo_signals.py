"""Signals on the state table.

Items (docs/architecture.md):
- ``SIG#<name>`` / ``<sent_at:013>#<signal id>``: the signal's head, the item a find
  queries: ``p`` its params as a map (strings and numbers, so the query's filter
  compares them natively), ``rq`` its request id (when it has one), ``src`` its source,
  ``pl`` (1) when it has a payload, ``xm`` its expiry in ms, ``expires_at`` in seconds
  (the table's TTL). No payload: a find reads every head it looks at, and a payload may
  be 64 KB; the payloads of the signals a find returns are read by key from their
  identity items. ``find_heads`` is one Query page (``Limit``: the heads evaluated),
  continued past expired heads the TTL has not deleted yet (a few Queries at most), and
  reads no payload; ``whole`` reads them for the heads a caller keeps. A head written
  before heads were split (``d``: the whole signal) is read as it is: those are gone
  within their TTL (365 days at most). Only such a head may have a consumption mark of
  its id alone (below): the releases that made those could not read a head without
  ``d``, so a join reads one mark per head without ``d``, two per head with it.
- ``SIGID#<signal id>`` / ``#SIG``: the whole signal (``d``, JSON), its identity,
  written in the same transaction on condition that it is absent or expired: the
  de-duplication.
- ``SIGW#<name>`` / ``<run>/<step>``: a step waiting for a signal of that name; ``ck``
  when a check of the wait last found no match (ms; service/signal_waits.py).
- ``SIGC#<consumer>`` / ``<signal id>@<sent_at>``: a signal trigger used this signal
  instance for the run ``grp`` (all the signals of one run are marked in one
  transaction), at ``at`` (ms). A mark made before marks named instances has the
  signal id alone as its sort key and no ``at``.
Every item carries ``expires_at``, so nothing outlives its TTL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.dynamo_conditions import error_code
from podium.core.engine.errors import StoreUnavailable
from podium.core.engine.signals import (
    ConsumedMark,
    HeadPage,
    Op,
    ParamMatch,
    ParamValue,
    Signal,
    SignalHead,
    Waiter,
    matches,
)

_OPS = {Op.EQ: "=", Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}
# A find's pages (Query's Limit counts the heads evaluated, before the filter): as many
# as it still needs when nothing is filtered, so that the newest signal costs one head;
# with conditions at least this many (a page of small heads under 4 KB costs one read
# unit, as one head does), then twice the last page each time, up to _MAX_PAGE: a match
# far down costs a few round trips, and never more than twice the heads before it.
_FIRST_FILTERED_PAGE = 16
_MAX_PAGE = 1_000
# BatchGetItem: its limit of keys per call; how often keys it left unprocessed (it was
# throttled) are asked again, after a wait doubling from _BACKOFF_S up to _MAX_BACKOFF_S.
_BATCH_GET = 100
# How many Queries one page of heads (find_heads) makes at most, going on past expired
# heads (the TTL deletes an item within days of its expiry, not at once).
_FILL_QUERIES = 8
_BATCH_GET_TRIES = 8
_BACKOFF_S = 0.05
_MAX_BACKOFF_S = 1.0


def _ttl(ms: int) -> dict[str, str]:
    return {"N": str(-(-ms // 1000))}


def _value(v: str | int) -> dict[str, str]:
    return {"N": str(v)} if isinstance(v, int) else {"S": v}


def _param(v: dict[str, str]) -> ParamValue:
    return int(v["N"]) if "N" in v else v["S"]


def _sort_key(signal: Signal) -> str:
    return f"{signal.sent_at:013d}#{signal.signal_id}"


def _identity_key(signal_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SIGID#{signal_id}"}, "sk": {"S": "#SIG"}}


def _waiter_key(name: str, waiter: Waiter) -> dict[str, Any]:
    return {"pk": {"S": f"SIGW#{name}"}, "sk": {"S": f"{waiter.run_id}/{waiter.step}"}}


def _head_item(signal: Signal) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": f"SIG#{signal.name}"},
        "sk": {"S": _sort_key(signal)},
        "p": {"M": {k: _value(v) for k, v in signal.params.items()}},
        "src": {"S": signal.source},
        "xm": {"N": str(signal.expires_at)},
        "expires_at": _ttl(signal.expires_at),
    }
    if signal.request_id is not None:
        item["rq"] = {"S": signal.request_id}
    if signal.payload is not None:
        item["pl"] = {"N": "1"}
    return item


def _expired(item: dict[str, Any], now: int) -> bool:
    xm = item.get("xm")
    return xm is None or int(xm["N"]) <= now


def _position(sort_key: str) -> tuple[int, str]:
    sent_at, _, signal_id = sort_key.partition("#")
    return int(sent_at), signal_id


def _head(item: dict[str, Any], name: str) -> SignalHead:
    """A queried item as a head; not whole when its payload is still to be read (from
    its identity item). A head without ``d`` was written by a release that marks signal
    instances only (and that a release marking ids could not read): no mark of its id
    alone is its (``SignalHead.id_marks``)."""
    if "d" in item:  # written before heads were split: the whole signal
        return SignalHead(Signal.from_json(json.loads(item["d"]["S"])), True, id_marks=True)
    sent_at, signal_id = _position(item["sk"]["S"])
    rq = item.get("rq")
    signal = Signal(
        name=name,
        params={k: _param(v) for k, v in item.get("p", {}).get("M", {}).items()},
        signal_id=signal_id,
        sent_at=sent_at,
        expires_at=int(item["xm"]["N"]),
        request_id=None if rq is None else str(rq["S"]),
        source=str(item.get("src", {}).get("S", "api")),
    )
    return SignalHead(signal, "pl" not in item, id_marks=False)


class DynamoSignals:
    def __init__(
        self, client: Any, table_name: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._db = client
        self._table = table_name
        self._sleep = sleep  # the backoff's wait (tests pass one that does not wait)

    def send(self, signal: Signal) -> tuple[Signal, bool]:
        # UTF-8, not ASCII-escaped: the payload's limit (64 KiB) is of its UTF-8 JSON,
        # which escaped could triple (an emoji is 4 bytes, its two escapes 12); with 20
        # params of 1,024 emoji the item would pass DynamoDB's 400 KB.
        data = json.dumps(signal.as_json(), separators=(",", ":"), default=str, ensure_ascii=False)
        ident = {
            **_identity_key(signal.signal_id),
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
                    {"Put": {"TableName": self._table, "Item": _head_item(signal)}},
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
            TableName=self._table, Key=_identity_key(signal_id), ConsistentRead=True
        ).get("Item")
        return got

    def _query(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        now: int,
        since: int | None,
        *,
        with_expired: bool = False,
    ) -> dict[str, Any]:
        """The Query of ``name``'s unexpired heads matching ``conditions``, newest first;
        ``with_expired``: the expired ones too (matching or not), so that the caller
        can tell how many of the items it evaluated were live."""
        names = {"#pk": "pk", "#xm": "xm"}
        values: dict[str, Any] = {":pk": {"S": f"SIG#{name}"}, ":now": {"N": str(now)}}
        key = "#pk = :pk"
        if since is not None:
            key += " AND #sk >= :since"
            names["#sk"] = "sk"
            values[":since"] = {"S": f"{max(since, 0):013d}"}
        filters = []
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
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if not with_expired:
            query["FilterExpression"] = " AND ".join(["#xm > :now", *filters])
        elif filters:
            query["FilterExpression"] = (
                "attribute_not_exists(#xm) OR #xm <= :now OR (" + " AND ".join(filters) + ")"
            )
        else:  # nothing filtered: every item evaluated is returned
            del names["#xm"], values[":now"]
        query["ExpressionAttributeNames"] = names
        return query

    def find(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        limit: int = 1,
    ) -> list[Signal]:
        query = self._query(name, conditions, now, since)
        found: list[Signal] = []
        page = max(limit, _FIRST_FILTERED_PAGE) if conditions else limit
        while len(found) < limit:
            query["Limit"] = max(1, min(page, _MAX_PAGE))
            resp = self._db.query(**query)
            # The filter already matched; checking again keeps the rule in one place (a
            # string never equals a number in either).
            heads = [_head(item, name) for item in resp.get("Items", [])]
            pending = [h for h in heads if matches(h.signal, conditions, since=since)]
            while pending and len(found) < limit:
                wanted = limit - len(found)
                found.extend(self.whole(pending[:wanted]))
                pending = pending[wanted:]
            last = resp.get("LastEvaluatedKey")
            if not last:
                break
            query["ExclusiveStartKey"] = last
            page = max(2 * page, limit - len(found))
        return found[:limit]

    def find_heads(
        self,
        name: str,
        conditions: Sequence[ParamMatch],
        *,
        now: int,
        since: int | None = None,
        before: tuple[int, str] | None = None,
        size: int,
    ) -> HeadPage:
        size = max(1, size)
        # Limit counts the items evaluated, before the filter: ``size`` bounds the work
        # whatever matches. Expired heads the TTL has not deleted yet are evaluated too,
        # but the other stores never see them: the filter returns them (with the live
        # ones matching), and the query goes on from where it stopped, asking for the
        # live ones still missing, until ``size`` live heads were evaluated. Bounded:
        # at most _FILL_QUERIES Queries, and once it passed over ``size`` expired heads
        # it stops there (a shorter page, with its ``next``). A page of 1 MB (DynamoDB's
        # own cap) is continued alike.
        query = self._query(name, conditions, now, since, with_expired=True)
        if before is not None:
            query["ExclusiveStartKey"] = {
                "pk": {"S": f"SIG#{name}"},
                "sk": {"S": f"{before[0]:013d}#{before[1]}"},
            }
        heads: list[SignalHead] = []
        live = expired = 0
        for _ in range(_FILL_QUERIES):
            query["Limit"] = size - live
            resp = self._db.query(**query)
            items = resp.get("Items", [])
            gone = [item for item in items if _expired(item, now)]
            expired += len(gone)
            live += int(resp.get("ScannedCount", len(items))) - len(gone)
            heads.extend(_head(item, name) for item in items if not _expired(item, now))
            last = resp.get("LastEvaluatedKey")
            if not last or live >= size or expired >= size:
                break
            query["ExclusiveStartKey"] = last
        return HeadPage(
            [h for h in heads if matches(h.signal, conditions, since=since)],
            None if not last else _position(last["sk"]["S"]),
        )

    def whole(self, heads: Sequence[SignalHead]) -> list[Signal]:
        """The signals of ``heads`` with their payloads, read by key (consistently: the
        identity item was written in the head's transaction), in the same order. One whose
        identity now holds another signal is left out: it expired, and a signal of the
        same id was sent since (by a clock a little ahead of the caller's)."""
        ids = [h.signal.signal_id for h in heads if not h.whole]
        identities = {
            item["pk"]["S"].removeprefix("SIGID#"): Signal.from_json(json.loads(item["d"]["S"]))
            for item in self._batch_get([_identity_key(sid) for sid in ids])
        }
        out: list[Signal] = []
        for h in heads:
            if h.whole:
                out.append(h.signal)
                continue
            whole = identities.get(h.signal.signal_id)
            if whole is not None and whole.sent_at == h.signal.sent_at:
                out.append(whole)
        return out

    def _batch_get(self, keys: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Consistent reads of items by key, 100 a call. Keys left unprocessed (the call
        was throttled) are asked again after a wait that doubles each time, at most
        _BATCH_GET_TRIES calls; then StoreUnavailable (the caller's message is redelivered)."""
        unique = list({(k["pk"]["S"], k["sk"]["S"]): k for k in keys}.values())  # no repeat
        for start in range(0, len(unique), _BATCH_GET):
            pending: list[dict[str, Any]] = unique[start : start + _BATCH_GET]
            for attempt in range(_BATCH_GET_TRIES):
                if attempt:
                    self._sleep(min(_MAX_BACKOFF_S, _BACKOFF_S * 2 ** (attempt - 1)))
                resp = self._db.batch_get_item(
                    RequestItems={self._table: {"Keys": pending, "ConsistentRead": True}}
                )
                yield from resp.get("Responses", {}).get(self._table, [])
                unprocessed = resp.get("UnprocessedKeys") or {}
                pending = unprocessed.get(self._table, {}).get("Keys", [])
                if not pending:
                    break
            else:
                raise StoreUnavailable(f"BatchGetItem left {len(pending)} signal keys unread")

    def add_waiter(self, name: str, waiter: Waiter, expires_at: int) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                **_waiter_key(name, waiter),
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

    def last_miss(self, name: str, waiter: Waiter) -> int | None:
        # Read eventually consistent (half the units): an older value is an earlier
        # miss, or none, and either only makes the next check look further back.
        item = self._db.get_item(
            TableName=self._table,
            Key=_waiter_key(name, waiter),
            ProjectionExpression="#ck",
            ExpressionAttributeNames={"#ck": "ck"},
        ).get("Item")
        return None if item is None or "ck" not in item else int(item["ck"]["N"])

    def note_miss(self, name: str, waiter: Waiter, at: int) -> None:
        # Never on a waiter that is gone (removed, it would come back without a TTL), and
        # never back in time (a slower check that missed earlier ends after a later one).
        try:
            self._db.update_item(
                TableName=self._table,
                Key=_waiter_key(name, waiter),
                UpdateExpression="SET #ck = :at",
                ConditionExpression="attribute_exists(#pk) AND"
                " (attribute_not_exists(#ck) OR #ck < :at)",
                ExpressionAttributeNames={"#pk": "pk", "#ck": "ck"},
                ExpressionAttributeValues={":at": {"N": str(at)}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise

    def remove_waiter(self, name: str, waiter: Waiter) -> None:
        self._db.delete_item(TableName=self._table, Key=_waiter_key(name, waiter))

    def consume(
        self,
        consumer: str,
        signal_ids: Sequence[str],
        group: str,
        expires_at: int,
        made_at: int | None = None,
    ) -> bool:
        # One transaction (a trigger joins at most 8 names): all marks or none. A mark
        # already held by this group (a replay) passes its condition and keeps its first
        # time and expiry (if_not_exists), as the other stores' insert-or-ignore: its
        # time opens the recovery window after the consume.
        sets = ["#grp = :grp", "#xm = if_not_exists(#xm, :xm)"]
        sets.append("#ttl = if_not_exists(#ttl, :ttl)")
        values: dict[str, Any] = {
            ":grp": {"S": group},
            ":xm": {"N": str(expires_at)},
            ":ttl": _ttl(expires_at),
        }
        names = {"#pk": "pk", "#grp": "grp", "#xm": "xm", "#ttl": "expires_at"}
        if made_at is not None:
            sets.append("#at = if_not_exists(#at, :at)")
            values[":at"] = {"N": str(made_at)}
            names["#at"] = "at"
        items = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": {"S": f"SIGC#{consumer}"}, "sk": {"S": sid}},
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": "attribute_not_exists(#pk) OR #grp = :grp",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
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
        wanted = [{"pk": {"S": f"SIGC#{consumer}"}, "sk": {"S": k}} for k in keys]
        for item in self._batch_get(wanted):
            at = item.get("at")
            out[item["sk"]["S"]] = ConsumedMark(
                str(item.get("grp", {}).get("S", "")),
                int(item["xm"]["N"]) if "xm" in item else 0,
                None if at is None else int(at["N"]),
            )
        return out

    def get(self, signal_id: str, *, now: int) -> Signal | None:
        item = self._identity(signal_id)
        if item is None or int(item["xm"]["N"]) <= now:
            return None
        return Signal.from_json(json.loads(item["d"]["S"]))
