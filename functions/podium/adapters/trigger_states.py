"""Triggers' state across versions (TriggerStates port): on/off, since when the trigger
exists, its catch-up watermark and its latest failure to start a run. In memory, on
SQLite and on the DynamoDB table (``TRG#<workflow>`` / ``<trigger>``: ``en`` on, ``ca``
since, ``fa`` fired at, ``ft`` failed at, ``fe`` the failure).

The same views keep the trigger routing index (core/engine/trigger_index.py): on
DynamoDB one item per routing key (``TRGR#<key>`` / ``#R``: ``wf`` the string set of
workflow names) and the mark that it was built (``TRGR`` / ``#BUILT``); on SQLite the
``trigger_routes`` table (made by its first write: a reader finds no table = not built)."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.dynamo_conditions import error_code
from podium.core.engine.trigger_index import RouteIndexFull
from podium.core.ports import TriggerState

MAX_ERROR = 2_000  # characters of a failure kept


class MemoryTriggerStates:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], TriggerState] = {}
        self._routes: dict[str, set[str]] = {}
        self._built = False

    def get_state(self, workflow: str, trigger: str) -> TriggerState | None:
        with self._lock:
            return self._states.get((workflow, trigger))

    def add_routes(self, workflow: str, keys: Collection[str]) -> None:
        with self._lock:
            for key in keys:
                self._routes.setdefault(key, set()).add(workflow)

    def get_routes(self, keys: Collection[str]) -> dict[str, frozenset[str]] | None:
        with self._lock:
            if not self._built:
                return None
            return {k: frozenset(self._routes[k]) for k in keys if k in self._routes}

    def mark_routes_built(self) -> None:
        with self._lock:
            self._built = True

    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self._lock:
            return self._states.setdefault((workflow, trigger), TriggerState(enabled, now))

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self._lock:
            old = self._states.get((workflow, trigger), TriggerState(enabled, now))
            new = replace(old, enabled=enabled)
            self._states[(workflow, trigger)] = new
            return new

    def states(self, workflow: str) -> dict[str, TriggerState]:
        with self._lock:
            return {t: s for (w, t), s in self._states.items() if w == workflow}

    def mark_fired(self, workflow: str, trigger: str, at: int) -> bool:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None or (old.fired_at is not None and old.fired_at >= at):
                return False
            self._states[(workflow, trigger)] = replace(old, fired_at=at)
            return True

    def record_failure(self, workflow: str, trigger: str, error: str, at: int) -> None:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None or (old.failed_at is not None and old.failed_at > at):
                return
            self._states[(workflow, trigger)] = replace(old, failed_at=at, error=error[:MAX_ERROR])


# The routing index: (key, workflow) rows; the row (_BUILT, '') marks it built.
_ROUTES_SQL = """
CREATE TABLE IF NOT EXISTS trigger_routes (
    route TEXT NOT NULL,
    workflow TEXT NOT NULL,
    PRIMARY KEY (route, workflow)
) WITHOUT ROWID
"""
_BUILT = "#built"  # no routing key starts with '#'


class SqliteTriggerStates:
    """The ``trigger_states`` table is made (and upgraded) with the home, by
    adapters/sqlite/db.py's schema: a command that only reads takes no write lock."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO trigger_states (workflow, trigger, enabled, since)"
                " VALUES (?, ?, ?, ?)",
                (workflow, trigger, int(enabled), now),
            )
        return self.states(workflow)[trigger]

    def get_state(self, workflow: str, trigger: str) -> TriggerState | None:
        with self.db.query() as conn:
            r = conn.execute(
                "SELECT enabled, since, fired_at, failed_at, error FROM trigger_states"
                " WHERE workflow = ? AND trigger = ?",
                (workflow, trigger),
            ).fetchone()
        if r is None:
            return None
        return TriggerState(
            bool(r[0]),
            int(r[1]),
            None if r[2] is None else int(r[2]),
            None if r[3] is None else int(r[3]),
            None if r[4] is None else str(r[4]),
        )

    def add_routes(self, workflow: str, keys: Collection[str]) -> None:
        with self.db.write() as conn:
            conn.execute(_ROUTES_SQL)
            conn.executemany(
                "INSERT OR IGNORE INTO trigger_routes (route, workflow) VALUES (?, ?)",
                [(k, workflow) for k in sorted(keys)],
            )

    def get_routes(self, keys: Collection[str]) -> dict[str, frozenset[str]] | None:
        if not self.db.has_table("trigger_routes"):
            return None  # never written: not built (a reader takes no write lock)
        wanted = sorted(set(keys))
        with self.db.query() as conn:
            built = conn.execute(
                "SELECT 1 FROM trigger_routes WHERE route = ? AND workflow = ''", (_BUILT,)
            ).fetchone()
            if built is None:
                return None
            found: dict[str, set[str]] = {}
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                rows = conn.execute(
                    "SELECT route, workflow FROM trigger_routes WHERE route IN"
                    f" ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for route, workflow in rows:
                    found.setdefault(str(route), set()).add(str(workflow))
        return {k: frozenset(v) for k, v in found.items()}

    def mark_routes_built(self) -> None:
        with self.db.write() as conn:
            conn.execute(_ROUTES_SQL)
            conn.execute(
                "INSERT OR IGNORE INTO trigger_routes (route, workflow) VALUES (?, '')", (_BUILT,)
            )

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO trigger_states (workflow, trigger, enabled, since) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (workflow, trigger) DO UPDATE SET enabled = excluded.enabled",
                (workflow, trigger, int(enabled), now),
            )
        return self.states(workflow)[trigger]

    def states(self, workflow: str) -> dict[str, TriggerState]:
        with self.db.query() as conn:
            rows = conn.execute(
                "SELECT trigger, enabled, since, fired_at, failed_at, error FROM trigger_states"
                " WHERE workflow = ?",
                (workflow,),
            ).fetchall()
        return {
            str(r[0]): TriggerState(
                bool(r[1]),
                int(r[2]),
                None if r[3] is None else int(r[3]),
                None if r[4] is None else int(r[4]),
                None if r[5] is None else str(r[5]),
            )
            for r in rows
        }

    def mark_fired(self, workflow: str, trigger: str, at: int) -> bool:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE trigger_states SET fired_at = ? WHERE workflow = ? AND trigger = ?"
                " AND (fired_at IS NULL OR fired_at < ?)",
                (at, workflow, trigger, at),
            ).rowcount
        return bool(changed)

    def record_failure(self, workflow: str, trigger: str, error: str, at: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE trigger_states SET failed_at = ?, error = ? WHERE workflow = ?"
                " AND trigger = ? AND (failed_at IS NULL OR failed_at <= ?)",
                (at, error[:MAX_ERROR], workflow, trigger, at),
            )


class DynamoTriggerStates:
    def __init__(self, client: Any, table: str) -> None:
        self._db = client
        self._table = table

    def _key(self, workflow: str, trigger: str) -> dict[str, Any]:
        return {"pk": {"S": f"TRG#{workflow}"}, "sk": {"S": trigger}}

    @staticmethod
    def _state(item: dict[str, Any]) -> TriggerState:
        fired, failed, error = item.get("fa"), item.get("ft"), item.get("fe")
        return TriggerState(
            bool(item["en"]["BOOL"]),
            int(item["ca"]["N"]),
            int(fired["N"]) if fired else None,
            int(failed["N"]) if failed else None,
            str(error["S"]) if error else None,
        )

    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        resp = self._db.update_item(
            TableName=self._table,
            Key=self._key(workflow, trigger),
            UpdateExpression="SET #en = if_not_exists(#en, :en), #ca = if_not_exists(#ca, :ca)",
            ExpressionAttributeNames={"#en": "en", "#ca": "ca"},
            ExpressionAttributeValues={":en": {"BOOL": enabled}, ":ca": {"N": str(now)}},
            ReturnValues="ALL_NEW",
        )
        return self._state(resp["Attributes"])

    def get_state(self, workflow: str, trigger: str) -> TriggerState | None:
        # Consistent: a disable that returned must stop the next event's run (an eventual
        # read could still say enabled); a missing state is then made by ensure.
        item = self._db.get_item(
            TableName=self._table, Key=self._key(workflow, trigger), ConsistentRead=True
        ).get("Item")
        return self._state(item) if item else None

    def add_routes(self, workflow: str, keys: Collection[str]) -> None:
        for key in sorted(keys):
            try:
                self._db.update_item(
                    TableName=self._table,
                    Key=_route_key(key),
                    UpdateExpression="ADD #wf :wf",
                    ExpressionAttributeNames={"#wf": "wf"},
                    ExpressionAttributeValues={":wf": {"SS": [workflow]}},
                )
            except ClientError as exc:
                if error_code(exc) == "ValidationException" and "size" in str(exc).lower():
                    raise RouteIndexFull(key, workflow) from None
                raise

    def get_routes(self, keys: Collection[str]) -> dict[str, frozenset[str]] | None:
        wanted = [_BUILT_KEY, *(_route_key(k) for k in sorted(set(keys)))]
        items: list[dict[str, Any]] = []
        for i in range(0, len(wanted), 100):
            request: dict[str, Any] = {
                self._table: {"Keys": wanted[i : i + 100], "ConsistentRead": True}
            }
            while request:
                resp = self._db.batch_get_item(RequestItems=request)
                items.extend(resp.get("Responses", {}).get(self._table, []))
                request = resp.get("UnprocessedKeys") or {}
        found = {i["pk"]["S"]: i for i in items}
        if _BUILT_KEY["pk"]["S"] not in found:
            return None
        return {
            pk[len(_ROUTE_PREFIX) :]: frozenset(item["wf"]["SS"])
            for pk, item in found.items()
            if pk.startswith(_ROUTE_PREFIX) and "wf" in item
        }

    def mark_routes_built(self) -> None:
        self._db.put_item(TableName=self._table, Item=dict(_BUILT_KEY))

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        resp = self._db.update_item(
            TableName=self._table,
            Key=self._key(workflow, trigger),
            UpdateExpression="SET #en = :en, #ca = if_not_exists(#ca, :ca)",
            ExpressionAttributeNames={"#en": "en", "#ca": "ca"},
            ExpressionAttributeValues={":en": {"BOOL": enabled}, ":ca": {"N": str(now)}},
            ReturnValues="ALL_NEW",
        )
        return self._state(resp["Attributes"])

    def states(self, workflow: str) -> dict[str, TriggerState]:
        resp = self._db.query(
            TableName=self._table,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "pk"},
            ExpressionAttributeValues={":pk": {"S": f"TRG#{workflow}"}},
            ConsistentRead=True,
        )
        return {item["sk"]["S"]: self._state(item) for item in resp.get("Items", [])}

    def mark_fired(self, workflow: str, trigger: str, at: int) -> bool:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression="SET #fa = :at",
                ConditionExpression=(
                    "attribute_exists(#pk) AND (attribute_not_exists(#fa) OR #fa < :at)"
                ),
                ExpressionAttributeNames={"#fa": "fa", "#pk": "pk"},
                ExpressionAttributeValues={":at": {"N": str(at)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record_failure(self, workflow: str, trigger: str, error: str, at: int) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression="SET #ft = :at, #fe = :error",
                ConditionExpression=(
                    "attribute_exists(#pk) AND (attribute_not_exists(#ft) OR #ft <= :at)"
                ),
                ExpressionAttributeNames={"#ft": "ft", "#fe": "fe", "#pk": "pk"},
                ExpressionAttributeValues={
                    ":at": {"N": str(at)},
                    ":error": {"S": error[:MAX_ERROR]},
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # else: no state yet, or a newer failure is kept


_ROUTE_PREFIX = "TRGR#"
_BUILT_KEY: dict[str, Any] = {"pk": {"S": "TRGR"}, "sk": {"S": "#BUILT"}}


def _route_key(key: str) -> dict[str, Any]:
    return {"pk": {"S": _ROUTE_PREFIX + key}, "sk": {"S": "#R"}}
