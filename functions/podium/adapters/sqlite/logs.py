"""What each attempt of a step printed (stdout, stderr) and its traceback, in the home.

The local stand-in for a Lambda's CloudWatch log stream: ``podium runs logs`` reads it.
An attempt's text is written as it runs, in parts (local/capture.py): part ``n`` of a
stream is row ``seq = n * PART_STRIDE + the stream's index`` (part 0 is a row per stream,
as homes written before parts have them). A read puts an attempt's parts in order and
joins the parts of one stream that follow each other, so a reader sees an entry per
stream as before (or per change of stream, when an attempt wrote both in turn).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from podium.adapters.sqlite.db import Database

STREAMS = ("stdout", "stderr", "traceback", "error")
PART_STRIDE = 8  # seq numbers per part: more than STREAMS and the unknown stream


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
        self.put_parts(run_id, step, attempt, [(0, stream, text)], at)

    def put_parts(
        self, run_id: str, step: str, attempt: int, parts: list[tuple[int, str, str]], at: int
    ) -> None:
        """Write the attempt's parts (number, stream, text) in one transaction; a part
        written again replaces itself."""
        with self._db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO logs (run_id, step, attempt, stream, seq, at, text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, step, attempt, stream, _seq(part, stream), at, text)
                    for part, stream, text in parts
                ],
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
        # Attempts in the order they began to write, each one's parts in their order.
        sql += " ORDER BY MIN(at) OVER (PARTITION BY step, attempt), step, attempt, seq"
        with self._db.query() as conn:
            rows = conn.execute(sql, args).fetchall()
        entries: list[LogEntry] = []
        texts: list[list[str]] = []  # each entry's parts (joined once: a step may write many)
        for step_, attempt_, stream, at, text in rows:
            last = entries[-1] if entries else None
            if last and (last.step, last.attempt, last.stream) == (step_, attempt_, stream):
                texts[-1].append(text)  # the next part of the same stream
            else:
                entries.append(LogEntry(run_id, step_, int(attempt_), stream, int(at), ""))
                texts.append([text])
        return [replace(e, text="".join(parts)) for e, parts in zip(entries, texts, strict=True)]


def _seq(part: int, stream: str) -> int:
    return part * PART_STRIDE + (STREAMS.index(stream) if stream in STREAMS else len(STREAMS))
