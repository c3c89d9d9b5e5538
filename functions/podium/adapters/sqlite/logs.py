"""What each attempt of a step printed (stdout, stderr) and its traceback, in the home.

The local stand-in for a Lambda's CloudWatch log stream: ``podium runs logs`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from podium.adapters.sqlite.db import Database

STREAMS = ("stdout", "stderr", "traceback", "error")


@dataclass(frozen=True, slots=True)
class LogEntry:
    run_id: str
    step: str
    attempt: int
    stream: str
    at: int
    text: str


class SqliteLogs:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, run_id: str, step: str, attempt: int, stream: str, text: str, at: int) -> None:
        seq = STREAMS.index(stream) if stream in STREAMS else len(STREAMS)
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO logs (run_id, step, attempt, stream, seq, at, text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, step, attempt, stream, seq, at, text),
            )

    def read(
        self, run_id: str, step: str | None = None, attempt: int | None = None
    ) -> list[LogEntry]:
        sql = "SELECT step, attempt, stream, at, text FROM logs WHERE run_id = ?"
        args: list[object] = [run_id]
        if step is not None:
            sql += " AND step = ?"
            args.append(step)
        if attempt is not None:
            sql += " AND attempt = ?"
            args.append(attempt)
        sql += " ORDER BY at, step, attempt, seq"
        with self._db.query() as conn:
            rows = conn.execute(sql, args).fetchall()
        return [LogEntry(run_id, r[0], int(r[1]), r[2], int(r[3]), r[4]) for r in rows]
