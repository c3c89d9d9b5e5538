"""A backend built on first use: a Lambda that never runs an ECS step never pays for
creating an ECS client at cold start."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from podium.core.ports import JobBackend, JobRequest


class LazyBackend:
    def __init__(self, make: Callable[[], JobBackend]) -> None:
        self._make = make
        self._backend: JobBackend | None = None
        self._lock = threading.Lock()

    def _get(self) -> JobBackend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._make()
        return self._backend

    def start(self, request: JobRequest) -> Any:
        return self._get().start(request)

    def find(self, request: JobRequest) -> Any:
        return self._get().find(request)

    def complete(self, request: JobRequest, outcome: Any) -> Any:
        return self._get().complete(request, outcome)

    def stop(self, request: JobRequest, reason: str) -> None:
        self._get().stop(request, reason)

    def __getattr__(self, name: str) -> Any:
        """A backend's own extras (Glue's key_of_run)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._get(), name)
