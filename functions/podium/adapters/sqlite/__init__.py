"""The embedded default's durable home: every port on one SQLite file (WAL mode)."""

from podium.adapters.sqlite.db import Database
from podium.adapters.sqlite.permits import SqlitePermits
from podium.adapters.sqlite.queue import SqliteQueue
from podium.adapters.sqlite.slots import SqliteRunSlots
from podium.adapters.sqlite.store import SqliteStateStore

__all__ = ["Database", "SqlitePermits", "SqliteQueue", "SqliteRunSlots", "SqliteStateStore"]
