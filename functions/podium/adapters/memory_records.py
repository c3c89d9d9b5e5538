"""The runs and steps of an in-memory home, under one lock: what the MemoryStateStore
shares with its run slots and permits, so that a change to several of them is atomic (as
one DynamoDB transaction is)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

from podium.core.engine.errors import RunConflict
from podium.core.engine.records import RunRecord, StepRecord


@dataclass(eq=False)
class MemoryRecords:
    lock: threading.RLock = field(default_factory=threading.RLock)
    runs: dict[str, RunRecord] = field(default_factory=dict)
    steps: dict[str, dict[str, StepRecord]] = field(default_factory=dict)  # by run, by step

    def insert_run(self, run: RunRecord) -> None:
        """A new run (the caller holds the lock); RunConflict if its id is taken. As in
        DynamoDB, a run created terminal never enters the active index."""
        if run.run_id in self.runs:
            raise RunConflict(run.run_id, self.runs[run.run_id])
        terminal = run.status.terminal
        self.runs[run.run_id] = replace(run, settled=terminal, watched=run.watched or terminal)
