"""Triggers' state across versions (TriggerStates port): on/off, since when the trigger
exists, its catch-up watermark and its latest failure to start a run. In memory, on
SQLite and on the DynamoDB table (``TRG#<workflow>`` / ``<trigger>``: ``en`` on, ``ca``
since, ``fa`` fired at, ``ft`` failed at, ``fe`` the failure, ``ru`` the schedule's rule
and ``rs`` since when, ``ea`` when it was last turned on again, ``bc`` its backfill
cancels, ``bp`` its backfills paused, ``bd:<driver>`` each live backfill driver's tick;
on SQLite those ticks are the ``backfill_drivers`` table's, made by its first write).

The same views keep the trigger routing index (core/engine/trigger_index.py): on
DynamoDB one item per routing key (``TRGR#<key>`` / ``#R``: ``wf`` the string set of
workflow names), the mark that it was built (``TRGR`` / ``#BUILT``) and one item per
workflow for the removal of its keys (``TRGA#<workflow>`` / ``#A``: ``g`` its activation
generation, ``p:<token>`` the time each activation in flight marked itself); on SQLite
the ``trigger_routes``, ``trigger_route_generations`` and ``trigger_route_activations``
tables (each made by its first write: a reader finds no table = nothing written)."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters.dynamo_conditions import error_code
from podium.core.engine.trigger_index import (
    MAX_ROUTE_WORKFLOWS,
    RouteActivations,
    RouteIndexFull,
)
from podium.core.ports import TriggerState

MAX_ERROR = 2_000  # characters of a failure kept


class MemoryTriggerStates:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], TriggerState] = {}
        self._routes: dict[str, set[str]] = {}
        self._built = False
        self._generations: dict[str, int] = {}
        self._pending: dict[str, dict[str, int]] = {}

    def get_state(self, workflow: str, trigger: str) -> TriggerState | None:
        with self._lock:
            return self._states.get((workflow, trigger))

    def add_routes(self, workflow: str, keys: Collection[str]) -> None:
        with self._lock:
            for key in sorted(keys):
                names = self._routes.setdefault(key, set())
                if workflow not in names and len(names) >= MAX_ROUTE_WORKFLOWS:
                    raise RouteIndexFull(key, workflow)
                names.add(workflow)

    def remove_routes(
        self, workflow: str, keys: Collection[str], generation: int, expired: Collection[str]
    ) -> bool:
        with self._lock:
            if self._generations.get(workflow, 0) != generation:
                return False
            for key in keys:
                names = self._routes.get(key, set())
                names.discard(workflow)
                if not names:
                    self._routes.pop(key, None)
            pending = self._pending.get(workflow, {})
            for token in expired:
                pending.pop(token, None)
            return True

    def begin_activation(self, workflow: str, token: str, at: int) -> None:
        with self._lock:
            self._pending.setdefault(workflow, {})[token] = at
            self._generations[workflow] = self._generations.get(workflow, 0) + 1

    def end_activation(self, workflow: str, token: str) -> bool:
        with self._lock:
            self._generations[workflow] = self._generations.get(workflow, 0) + 1
            return self._pending.get(workflow, {}).pop(token, None) is not None

    def route_activations(self, workflow: str) -> RouteActivations:
        with self._lock:
            return RouteActivations(
                self._generations.get(workflow, 0), dict(self._pending.get(workflow, {}))
            )

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
            again = enabled and not old.enabled  # turned on again: counts from now
            new = replace(old, enabled=enabled, enabled_at=now if again else old.enabled_at)
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

    def set_rule(self, workflow: str, trigger: str, rule: str, since: int) -> None:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is not None:
                self._states[(workflow, trigger)] = replace(old, rule=rule, rule_since=since)

    def cancel_backfills(self, workflow: str, trigger: str) -> int | None:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None:
                return None
            new = replace(old, backfill_cancels=old.backfill_cancels + 1, backfills_paused=False)
            self._states[(workflow, trigger)] = new
            return new.backfill_cancels

    def pause_backfills(self, workflow: str, trigger: str, paused: bool) -> bool | None:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None:
                return None
            self._states[(workflow, trigger)] = replace(old, backfills_paused=paused)
            return paused

    def start_backfill_driver(self, workflow: str, trigger: str, driver: str) -> int | None:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None:
                return None
            tick = old.backfill_drivers.get(driver, 0) + 1
            drivers = {**old.backfill_drivers, driver: tick}
            self._states[(workflow, trigger)] = replace(old, backfill_drivers=drivers)
            return tick

    def advance_backfill_driver(
        self, workflow: str, trigger: str, driver: str, seen: int, to: int
    ) -> bool:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None or old.backfill_drivers.get(driver, 0) != seen:
                return False
            drivers = {**old.backfill_drivers, driver: to}
            self._states[(workflow, trigger)] = replace(old, backfill_drivers=drivers)
            return True

    def end_backfill_driver(self, workflow: str, trigger: str, driver: str, seen: int) -> bool:
        with self._lock:
            old = self._states.get((workflow, trigger))
            if old is None or old.backfill_drivers.get(driver) != seen:
                return False
            drivers = {d: t for d, t in old.backfill_drivers.items() if d != driver}
            self._states[(workflow, trigger)] = replace(old, backfill_drivers=drivers)
            return True


# The routing index: (key, workflow) rows; the row (_BUILT, '') marks it built.
_ROUTES_SQL = """
CREATE TABLE IF NOT EXISTS trigger_routes (
    route TEXT NOT NULL,
    workflow TEXT NOT NULL,
    PRIMARY KEY (route, workflow)
) WITHOUT ROWID
"""
_BUILT = "#built"  # no routing key starts with '#'
# The removal of a workflow's keys (core/engine/trigger_index.py): its activation
# generation, and the activations in flight (token, marked at ms).
_GENERATIONS_SQL = """
CREATE TABLE IF NOT EXISTS trigger_route_generations (
    workflow TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
) WITHOUT ROWID
"""
_ACTIVATIONS_SQL = """
CREATE TABLE IF NOT EXISTS trigger_route_activations (
    workflow TEXT NOT NULL,
    token TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (workflow, token)
) WITHOUT ROWID
"""
# Each live backfill driver's tick (TriggerState.backfill_drivers).
_DRIVERS_SQL = """
CREATE TABLE IF NOT EXISTS backfill_drivers (
    workflow TEXT NOT NULL,
    trigger TEXT NOT NULL,
    driver TEXT NOT NULL,
    tick INTEGER NOT NULL,
    PRIMARY KEY (workflow, trigger, driver)
) WITHOUT ROWID
"""
_BUMP_SQL = (
    "INSERT INTO trigger_route_generations (workflow, generation) VALUES (?, 1)"
    " ON CONFLICT (workflow) DO UPDATE SET generation = generation + 1"
)


class SqliteTriggerStates:
    """The ``trigger_states`` table is made (and upgraded) with the home, by
    adapters/sqlite/db.py's schema: a command that only reads takes no write lock."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self._drivers_made = False  # the backfill_drivers table was seen (never dropped)

    def ensure(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        with self.db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO trigger_states (workflow, trigger, enabled, since)"
                " VALUES (?, ?, ?, ?)",
                (workflow, trigger, int(enabled), now),
            )
        return self.states(workflow)[trigger]

    def get_state(self, workflow: str, trigger: str) -> TriggerState | None:
        drivers = self._has_drivers()
        with self.db.read() as conn:  # one snapshot of the state and its drivers' ticks
            r = conn.execute(
                f"SELECT {_STATE_COLUMNS} FROM trigger_states WHERE workflow = ? AND trigger = ?",
                (workflow, trigger),
            ).fetchone()
            ticks = (
                conn.execute(
                    "SELECT driver, tick FROM backfill_drivers WHERE workflow = ? AND trigger = ?",
                    (workflow, trigger),
                ).fetchall()
                if drivers and r is not None
                else []
            )
        if r is None:
            return None
        return replace(_sqlite_state(r), backfill_drivers={str(d): int(t) for d, t in ticks})

    def _has_drivers(self) -> bool:
        """Whether the backfill_drivers table exists (made by its first write: a reader
        takes no write lock)."""
        if not self._drivers_made:
            self._drivers_made = self.db.has_table("backfill_drivers")
        return self._drivers_made

    def add_routes(self, workflow: str, keys: Collection[str]) -> None:
        with self.db.write() as conn:  # one transaction: a refused key adds none
            conn.execute(_ROUTES_SQL)
            for key in sorted(keys):
                held = conn.execute(
                    "SELECT COUNT(*), COALESCE(MAX(workflow = ?), 0) FROM trigger_routes"
                    " WHERE route = ?",
                    (workflow, key),
                ).fetchone()
                if held[1]:
                    continue
                if held[0] >= MAX_ROUTE_WORKFLOWS:
                    raise RouteIndexFull(key, workflow)
                conn.execute(
                    "INSERT INTO trigger_routes (route, workflow) VALUES (?, ?)", (key, workflow)
                )

    def remove_routes(
        self, workflow: str, keys: Collection[str], generation: int, expired: Collection[str]
    ) -> bool:
        with self.db.write() as conn:  # the condition and the removal: one transaction
            conn.execute(_ROUTES_SQL)
            conn.execute(_GENERATIONS_SQL)
            conn.execute(_ACTIVATIONS_SQL)
            row = conn.execute(
                "SELECT generation FROM trigger_route_generations WHERE workflow = ?",
                (workflow,),
            ).fetchone()
            if (0 if row is None else int(row[0])) != generation:
                return False
            conn.executemany(
                "DELETE FROM trigger_routes WHERE route = ? AND workflow = ?",
                [(k, workflow) for k in sorted(keys)],
            )
            conn.executemany(
                "DELETE FROM trigger_route_activations WHERE workflow = ? AND token = ?",
                [(workflow, t) for t in sorted(expired)],
            )
        return True

    def begin_activation(self, workflow: str, token: str, at: int) -> None:
        with self.db.write() as conn:
            conn.execute(_GENERATIONS_SQL)
            conn.execute(_ACTIVATIONS_SQL)
            conn.execute(
                "INSERT OR REPLACE INTO trigger_route_activations (workflow, token, at)"
                " VALUES (?, ?, ?)",
                (workflow, token, at),
            )
            conn.execute(_BUMP_SQL, (workflow,))

    def end_activation(self, workflow: str, token: str) -> bool:
        with self.db.write() as conn:
            conn.execute(_GENERATIONS_SQL)
            conn.execute(_ACTIVATIONS_SQL)
            gone = conn.execute(
                "DELETE FROM trigger_route_activations WHERE workflow = ? AND token = ?",
                (workflow, token),
            ).rowcount
            conn.execute(_BUMP_SQL, (workflow,))
        return bool(gone)

    def route_activations(self, workflow: str) -> RouteActivations:
        if not self.db.has_table("trigger_route_generations"):
            return RouteActivations()  # never written (a reader takes no write lock)
        with self.db.read() as conn:  # one snapshot of both tables
            row = conn.execute(
                "SELECT generation FROM trigger_route_generations WHERE workflow = ?",
                (workflow,),
            ).fetchone()
            pending = conn.execute(
                "SELECT token, at FROM trigger_route_activations WHERE workflow = ?",
                (workflow,),
            ).fetchall()
        return RouteActivations(
            0 if row is None else int(row[0]), {str(t): int(at) for t, at in pending}
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
                " ON CONFLICT (workflow, trigger) DO UPDATE SET enabled = excluded.enabled,"
                # turned on again (it was off): counts from now
                " enabled_at = CASE WHEN excluded.enabled AND NOT trigger_states.enabled"
                " THEN excluded.since ELSE trigger_states.enabled_at END",
                (workflow, trigger, int(enabled), now),
            )
        return self.states(workflow)[trigger]

    def states(self, workflow: str) -> dict[str, TriggerState]:
        drivers = self._has_drivers()
        with self.db.read() as conn:
            rows = conn.execute(
                f"SELECT trigger, {_STATE_COLUMNS} FROM trigger_states WHERE workflow = ?",
                (workflow,),
            ).fetchall()
            ticks = (
                conn.execute(
                    "SELECT trigger, driver, tick FROM backfill_drivers WHERE workflow = ?",
                    (workflow,),
                ).fetchall()
                if drivers and rows
                else []
            )
        by_trigger: dict[str, dict[str, int]] = {}
        for trigger, driver, tick in ticks:
            by_trigger.setdefault(str(trigger), {})[str(driver)] = int(tick)
        return {
            str(r[0]): replace(_sqlite_state(r[1:]), backfill_drivers=by_trigger.get(str(r[0]), {}))
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

    def set_rule(self, workflow: str, trigger: str, rule: str, since: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE trigger_states SET rule = ?, rule_since = ? WHERE workflow = ?"
                " AND trigger = ?",
                (rule, since, workflow, trigger),
            )

    def cancel_backfills(self, workflow: str, trigger: str) -> int | None:
        with self.db.write() as conn:  # one transaction: the count it wrote
            conn.execute(
                "UPDATE trigger_states SET backfill_cancels = COALESCE(backfill_cancels, 0) + 1,"
                " backfills_paused = 0 WHERE workflow = ? AND trigger = ?",
                (workflow, trigger),
            )
            row = conn.execute(
                "SELECT backfill_cancels FROM trigger_states WHERE workflow = ? AND trigger = ?",
                (workflow, trigger),
            ).fetchone()
        return None if row is None else int(row[0])

    def pause_backfills(self, workflow: str, trigger: str, paused: bool) -> bool | None:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE trigger_states SET backfills_paused = ? WHERE workflow = ? AND trigger = ?",
                (int(paused), workflow, trigger),
            ).rowcount
        return paused if changed else None

    def start_backfill_driver(self, workflow: str, trigger: str, driver: str) -> int | None:
        with self.db.write() as conn:  # one transaction: the state read, the tick written
            conn.execute(_DRIVERS_SQL)
            found = conn.execute(
                "SELECT 1 FROM trigger_states WHERE workflow = ? AND trigger = ?",
                (workflow, trigger),
            ).fetchone()
            if found is None:
                return None
            conn.execute(
                "INSERT INTO backfill_drivers (workflow, trigger, driver, tick)"
                " VALUES (?, ?, ?, 1) ON CONFLICT (workflow, trigger, driver)"
                " DO UPDATE SET tick = tick + 1",
                (workflow, trigger, driver),
            )
            row = conn.execute(
                "SELECT tick FROM backfill_drivers WHERE workflow = ? AND trigger = ?"
                " AND driver = ?",
                (workflow, trigger, driver),
            ).fetchone()
        self._drivers_made = True
        return int(row[0])

    def advance_backfill_driver(
        self, workflow: str, trigger: str, driver: str, seen: int, to: int
    ) -> bool:
        if seen == 0:  # none kept: made, on condition that it has none (and a state)
            with self.db.write() as conn:
                conn.execute(_DRIVERS_SQL)
                changed = conn.execute(
                    "INSERT OR IGNORE INTO backfill_drivers (workflow, trigger, driver, tick)"
                    " SELECT workflow, trigger, ?, ? FROM trigger_states WHERE workflow = ?"
                    " AND trigger = ?",
                    (driver, to, workflow, trigger),
                ).rowcount
            self._drivers_made = True
            return bool(changed)
        if not self._has_drivers():
            return False  # no driver was ever started: none is at ``seen``
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE backfill_drivers SET tick = ? WHERE workflow = ? AND trigger = ?"
                " AND driver = ? AND tick = ?",
                (to, workflow, trigger, driver, seen),
            ).rowcount
        return bool(changed)

    def end_backfill_driver(self, workflow: str, trigger: str, driver: str, seen: int) -> bool:
        if not self._has_drivers():
            return False
        with self.db.write() as conn:
            gone = conn.execute(
                "DELETE FROM backfill_drivers WHERE workflow = ? AND trigger = ? AND driver = ?"
                " AND tick = ?",
                (workflow, trigger, driver, seen),
            ).rowcount
        return bool(gone)


_STATE_COLUMNS = (
    "enabled, since, fired_at, failed_at, error, rule, rule_since, backfill_cancels,"
    " backfills_paused, enabled_at"
)


def _sqlite_state(r: Any) -> TriggerState:
    """A state from its row's ``_STATE_COLUMNS``."""
    return TriggerState(
        bool(r[0]),
        int(r[1]),
        None if r[2] is None else int(r[2]),
        None if r[3] is None else int(r[3]),
        None if r[4] is None else str(r[4]),
        None if r[5] is None else str(r[5]),
        None if r[6] is None else int(r[6]),
        int(r[7] or 0),
        bool(r[8]),
        None if r[9] is None else int(r[9]),
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
        rule, rule_since = item.get("ru"), item.get("rs")
        cancelled, paused, again = item.get("bc"), item.get("bp"), item.get("ea")
        return TriggerState(
            bool(item["en"]["BOOL"]),
            int(item["ca"]["N"]),
            int(fired["N"]) if fired else None,
            int(failed["N"]) if failed else None,
            str(error["S"]) if error else None,
            str(rule["S"]) if rule else None,
            int(rule_since["N"]) if rule_since else None,
            int(cancelled["N"]) if cancelled else 0,
            bool(paused["BOOL"]) if paused else False,
            int(again["N"]) if again else None,
            {
                name[len(_DRIVER) :]: int(value["N"])
                for name, value in item.items()
                if name.startswith(_DRIVER)
            },
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
                    # The same count as the other stores (a name already in: idempotent).
                    ConditionExpression=(
                        "attribute_not_exists(#wf) OR size(#wf) < :max OR contains(#wf, :name)"
                    ),
                    ExpressionAttributeNames={"#wf": "wf"},
                    ExpressionAttributeValues={
                        ":wf": {"SS": [workflow]},
                        ":name": {"S": workflow},
                        ":max": {"N": str(MAX_ROUTE_WORKFLOWS)},
                    },
                )
            except ClientError as exc:
                code = error_code(exc)
                if code == "ConditionalCheckFailedException" or (
                    code == "ValidationException" and "size" in str(exc).lower()
                ):
                    raise RouteIndexFull(key, workflow) from None
                raise

    def remove_routes(
        self, workflow: str, keys: Collection[str], generation: int, expired: Collection[str]
    ) -> bool:
        # Only the keys that hold it: a transaction then writes no empty item.
        held = sorted(k for k, names in self._read_routes(keys).items() if workflow in names)
        tokens = sorted(expired)
        if not held and not tokens:
            return True
        chunks = [
            held[i : i + _KEYS_PER_TRANSACTION] for i in range(0, len(held), _KEYS_PER_TRANSACTION)
        ]
        # Each transaction is a conditional removal of its own: one refused after another
        # went through (the generation moved between them) leaves its keys, extra
        # candidates. The marks to clear go with the first.
        for n, chunk in enumerate(chunks or [[]]):
            guard: dict[str, Any] = {
                "TableName": self._table,
                "Key": _activations_key(workflow),
                "ConditionExpression": (
                    "attribute_not_exists(#g) OR #g = :g" if generation == 0 else "#g = :g"
                ),
                "ExpressionAttributeNames": {"#g": "g"},
                "ExpressionAttributeValues": {":g": {"N": str(generation)}},
            }
            kind = "ConditionCheck"
            if n == 0 and tokens:
                kind = "Update"
                guard["ExpressionAttributeNames"].update(
                    {f"#p{i}": _PENDING + t for i, t in enumerate(tokens)}
                )
                guard["UpdateExpression"] = "REMOVE " + ", ".join(
                    f"#p{i}" for i in range(len(tokens))
                )
            items = [{kind: guard}, *(self._take_off(key, workflow) for key in chunk)]
            try:
                if len(items) == 1:  # marks to clear, no key: one conditional update
                    self._db.update_item(**guard)
                else:
                    self._db.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if error_code(exc) in (
                    "ConditionalCheckFailedException",
                    "TransactionCanceledException",
                ):
                    return False  # the generation moved (or a write to a key raced it)
                raise
        return True

    def _take_off(self, key: str, workflow: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": _route_key(key),
                "UpdateExpression": "DELETE #wf :wf",
                "ExpressionAttributeNames": {"#wf": "wf"},
                "ExpressionAttributeValues": {":wf": {"SS": [workflow]}},
            }
        }

    def begin_activation(self, workflow: str, token: str, at: int) -> None:
        self._db.update_item(
            TableName=self._table,
            Key=_activations_key(workflow),
            UpdateExpression="SET #p = :at ADD #g :one",
            ExpressionAttributeNames={"#p": _PENDING + token, "#g": "g"},
            ExpressionAttributeValues={":at": {"N": str(at)}, ":one": {"N": "1"}},
        )

    def end_activation(self, workflow: str, token: str) -> bool:
        resp = self._db.update_item(
            TableName=self._table,
            Key=_activations_key(workflow),
            UpdateExpression="REMOVE #p ADD #g :one",
            ExpressionAttributeNames={"#p": _PENDING + token, "#g": "g"},
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_OLD",  # the mark's old value, when it was there
        )
        return _PENDING + token in resp.get("Attributes", {})

    def route_activations(self, workflow: str) -> RouteActivations:
        item = self._db.get_item(
            TableName=self._table, Key=_activations_key(workflow), ConsistentRead=True
        ).get("Item", {})
        return RouteActivations(
            int(item["g"]["N"]) if "g" in item else 0,
            {
                name[len(_PENDING) :]: int(value["N"])
                for name, value in item.items()
                if name.startswith(_PENDING)
            },
        )

    def get_routes(self, keys: Collection[str]) -> dict[str, frozenset[str]] | None:
        found = self._read({_BUILT_PK: _BUILT_KEY} | {k: _route_key(k) for k in keys})
        if _BUILT_PK not in found:
            return None
        return {k: _names(item) for k, item in found.items() if k != _BUILT_PK and _names(item)}

    def _read_routes(self, keys: Collection[str]) -> dict[str, frozenset[str]]:
        """The workflows under each of ``keys``, built or not."""
        found = self._read({k: _route_key(k) for k in keys})
        return {k: _names(item) for k, item in found.items()}

    def _read(self, wanted: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Items by name (strongly consistent BatchGetItems of 100 keys), those found."""
        by_pk = {key["pk"]["S"]: name for name, key in wanted.items()}
        keys = [wanted[n] for n in sorted(wanted)]
        found: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self._table: {"Keys": keys[i : i + 100], "ConsistentRead": True}
            }
            while request:
                resp = self._db.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self._table, []):
                    found[by_pk[item["pk"]["S"]]] = item
                request = resp.get("UnprocessedKeys") or {}
        return found

    def mark_routes_built(self) -> None:
        self._db.put_item(TableName=self._table, Item=dict(_BUILT_KEY))

    def set_enabled(self, workflow: str, trigger: str, enabled: bool, now: int) -> TriggerState:
        if not enabled:
            return self._switch(workflow, trigger, False, now)
        # One update cannot set ``ea`` only if ``en`` was false: first the update on
        # that condition (off to on); failing, the old item says it was on already
        # (nothing to write), or there is none: made, on condition that there is still
        # none (made meanwhile, maybe off: the conditional update again).
        for _ in range(_ENABLE_TRIES):
            try:
                resp = self._db.update_item(
                    TableName=self._table,
                    Key=self._key(workflow, trigger),
                    UpdateExpression="SET #en = :on, #ea = :now",
                    ConditionExpression="#en = :off",
                    ExpressionAttributeNames={"#en": "en", "#ea": "ea"},
                    ExpressionAttributeValues={
                        ":on": {"BOOL": True},
                        ":off": {"BOOL": False},
                        ":now": {"N": str(now)},
                    },
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return self._state(resp["Attributes"])
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                old = exc.response.get("Item")
            if old is not None:
                return self._state(old)  # on already: nothing to change
            try:
                return self._switch(workflow, trigger, True, now, made=True)
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise  # else: made meanwhile (maybe off): the conditional one again
        raise RuntimeError(f"trigger {workflow}/{trigger}: its state kept changing")

    def _switch(
        self, workflow: str, trigger: str, enabled: bool, now: int, *, made: bool = False
    ) -> TriggerState:
        """Set on or off, the state made since ``now`` when it has none; ``made``: only
        when it has none (ConditionalCheckFailedException else)."""
        resp = self._db.update_item(
            TableName=self._table,
            Key=self._key(workflow, trigger),
            UpdateExpression="SET #en = :en, #ca = if_not_exists(#ca, :ca)",
            **({"ConditionExpression": "attribute_not_exists(#pk)"} if made else {}),
            ExpressionAttributeNames={"#en": "en", "#ca": "ca", **({"#pk": "pk"} if made else {})},
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

    def set_rule(self, workflow: str, trigger: str, rule: str, since: int) -> None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression="SET #ru = :rule, #rs = :since",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#ru": "ru", "#rs": "rs", "#pk": "pk"},
                ExpressionAttributeValues={":rule": {"S": rule}, ":since": {"N": str(since)}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise  # else: no state (a trigger's state is made before its schedule)

    def cancel_backfills(self, workflow: str, trigger: str) -> int | None:
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                # atomic: two cancels count two; a pause ends with the backfills
                UpdateExpression="ADD #bc :one REMOVE #bp",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#bc": "bc", "#bp": "bp", "#pk": "pk"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return None  # no state
        return int(resp["Attributes"]["bc"]["N"])

    def pause_backfills(self, workflow: str, trigger: str, paused: bool) -> bool | None:
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression="SET #bp = :bp" if paused else "REMOVE #bp",
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#bp": "bp", "#pk": "pk"},
                **({"ExpressionAttributeValues": {":bp": {"BOOL": True}}} if paused else {}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return None  # no state
        return paused

    def start_backfill_driver(self, workflow: str, trigger: str, driver: str) -> int | None:
        try:
            resp = self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression="ADD #d :one",  # atomic: two starts are two ticks
                ConditionExpression="attribute_exists(#pk)",
                ExpressionAttributeNames={"#d": _DRIVER + driver, "#pk": "pk"},
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return None  # no state
        return int(resp["Attributes"][_DRIVER + driver]["N"])

    def advance_backfill_driver(
        self, workflow: str, trigger: str, driver: str, seen: int, to: int
    ) -> bool:
        return self._on_tick(workflow, trigger, driver, seen, "SET #d = :to", to)

    def end_backfill_driver(self, workflow: str, trigger: str, driver: str, seen: int) -> bool:
        if seen == 0:
            return False  # no tick kept: nothing to forget
        return self._on_tick(workflow, trigger, driver, seen, "REMOVE #d")

    def _on_tick(
        self, workflow: str, trigger: str, driver: str, seen: int, update: str, to: int = 0
    ) -> bool:
        """``update`` on condition that ``driver``'s tick is still ``seen`` (another copy
        of its message took the tick, or it ended: False, nothing written). ``seen`` 0:
        that it has none, in the trigger's state (an update would make an item without
        one)."""
        names = {"#d": _DRIVER + driver}
        values = {":seen": {"N": str(seen)}}
        if ":to" in update:
            values[":to"] = {"N": str(to)}
        condition = "#d = :seen"
        if seen == 0:
            condition = "attribute_exists(#pk) AND attribute_not_exists(#d)"
            names["#pk"] = "pk"
            del values[":seen"]
        try:
            self._db.update_item(
                TableName=self._table,
                Key=self._key(workflow, trigger),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True


_DRIVER = "bd:"  # a live backfill driver's tick: bd:<driver id> = its tick
_ROUTE_PREFIX = "TRGR#"
_BUILT_KEY: dict[str, Any] = {"pk": {"S": "TRGR"}, "sk": {"S": "#BUILT"}}
_BUILT_PK = "#built"  # its name among the routing keys read (none starts with '#')
_PENDING = "p:"  # an activation's mark: p:<token> = when it marked itself (ms)
# How many times an enable tries its conditional writes while other writers turn the
# trigger off and on (each round is two writes at most; a race settles in one more).
_ENABLE_TRIES = 3
# A transaction holds 100 items: the workflow's condition and 99 keys.
_KEYS_PER_TRANSACTION = 99


def _route_key(key: str) -> dict[str, Any]:
    return {"pk": {"S": _ROUTE_PREFIX + key}, "sk": {"S": "#R"}}


def _activations_key(workflow: str) -> dict[str, Any]:
    return {"pk": {"S": f"TRGA#{workflow}"}, "sk": {"S": "#A"}}


def _names(item: dict[str, Any]) -> frozenset[str]:
    """A routing key's workflows (a key whose last one was removed has no ``wf``)."""
    return frozenset(item["wf"]["SS"]) if "wf" in item else frozenset()
