"""``podium dev`` fires cron and rate triggers itself: the deployed stack's Scheduler
schedules are kept in memory here (adapters.schedules.MemorySchedules), and a ticker
thread puts each due time's ``fire`` message on the home's event queue. Only times
from the start of ``podium dev`` on fire, and after a sleep only each schedule's latest
(a stopped or suspended dev server does not replay what it missed; ``catchup`` in the
trigger does, when the next time fires: the trigger's state keeps when its rule took
effect, which the schedules made again at each start do not)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from podium.adapters.schedules import MemorySchedules

log = logging.getLogger("podium.dev")

LOOK_EVERY_S = 2.0  # how soon a workflow another process pushed is scheduled
FULL_EVERY_S = 60.0  # ... and a trigger it enabled or disabled


class ScheduleTicker:
    def __init__(
        self,
        runtime: Any,
        *,
        interval_s: float = 1.0,
        on_sent: Callable[[], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.interval_s = interval_s
        self.on_sent = on_sent
        self.fired = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="podium-dev-cron", daemon=True)
        services = runtime.services
        if not isinstance(services.schedules, MemorySchedules):
            services.schedules = MemorySchedules()
        self.schedules: MemorySchedules = services.schedules
        self._heads: list[tuple[str, int]] = []
        self._next_look = time.monotonic() + LOOK_EVERY_S
        self._next_full = time.monotonic() + FULL_EVERY_S

    def prime(self) -> int:
        """Schedules for every workflow already in the home (pushed by earlier runs)."""
        from podium.service.triggers import sync_triggers

        count = 0
        heads = self.runtime.store.list_workflows()
        self._heads = heads
        for workflow, _ in heads:
            try:
                report = sync_triggers(self.runtime.services, workflow)
            except Exception:  # one bad workflow must not stop the dev server
                log.exception("triggers of %s not scheduled", workflow)
                continue
            count += len(report.created) + len(report.updated)
        return count

    def tick(self) -> int:
        """Put the fire message of each schedule's latest time now due on the event
        queue (after a sleep, the times before it are its trigger's ``catchup``'s)."""
        due = self.schedules.due(self.runtime.clock.now_ms(), latest_only=True)
        for message in due:
            self.runtime.event_queue.send(message)
        self.fired += len(due)
        if due and self.on_sent is not None:
            self.on_sent()
        return len(due)

    def start(self) -> ScheduleTicker:
        self.tick()  # the first look: from now on
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def follow_home(self, now_s: float) -> int:
        """Schedules again when another process changed the home's workflows (a
        ``podium run`` or ``push`` from another terminal goes to the home, not through
        this server), or a minute has passed (``podium triggers enable|disable``)."""
        if now_s < self._next_look:
            return 0
        self._next_look = now_s + LOOK_EVERY_S
        heads = self.runtime.store.list_workflows()
        if heads == self._heads and now_s < self._next_full:
            return 0
        self._next_full = now_s + FULL_EVERY_S
        return self.prime()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.follow_home(time.monotonic())
                self.tick()
            except Exception:
                log.exception("the cron ticker failed")
