"""What a step's code prints, captured per attempt (the local stand-in for a Lambda's log
stream), so it never lands on the CLI's stdout (and never breaks ``--json``).

While the embedded runtime runs, ``sys.stdout`` and ``sys.stderr`` are routers: a write
goes to the buffer of the attempt running in the current context (a ContextVar, so each
worker thread has its own), or to the real stream when no attempt runs there.
``CapturingRunner`` wraps the function runner: it opens a buffer around each invocation
and hands the text, with the error's traceback, to the home's log store.
"""

from __future__ import annotations

import contextvars
import io
import sys
import threading
from typing import Any, Protocol, TextIO

from podium.core.ports import FunctionRunner, Invocation, InvocationResult
from podium.core.text_checks import is_ascii_digits

_current: contextvars.ContextVar[dict[str, io.StringIO] | None] = contextvars.ContextVar(
    "podium_capture", default=None
)
_lock = threading.Lock()
_installed = 0
_real: dict[str, TextIO] = {}

MAX_LOG_CHARS = 1_000_000  # per attempt and stream: a runaway loop cannot fill the disk


class LogSink(Protocol):
    def put(
        self, run_id: str, step: str, attempt: int, stream: str, text: str, at: int
    ) -> None: ...


class _Router(io.TextIOBase):
    def __init__(self, name: str, real: TextIO) -> None:
        self._name = name
        self._real = real

    def write(self, text: str) -> int:
        buffers = _current.get()
        if buffers is None:
            return self._real.write(text)
        buf = buffers[self._name]
        if buf.tell() < MAX_LOG_CHARS:
            buf.write(text[: MAX_LOG_CHARS - buf.tell()])
        return len(text)

    def flush(self) -> None:
        if _current.get() is None:
            self._real.flush()

    def isatty(self) -> bool:
        return _current.get() is None and self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")

    def writable(self) -> bool:
        return True


def install() -> None:
    """Route sys.stdout/sys.stderr (once per process however many runtimes start)."""
    global _installed
    with _lock:
        if _installed == 0:
            _real["stdout"], _real["stderr"] = sys.stdout, sys.stderr
            sys.stdout = _Router("stdout", sys.stdout)
            sys.stderr = _Router("stderr", sys.stderr)
        _installed += 1


def uninstall() -> None:
    global _installed
    with _lock:
        if _installed == 0:
            return
        _installed -= 1
        if _installed == 0:
            # Only put the streams back if nobody replaced them meanwhile (pytest's capsys).
            if isinstance(sys.stdout, _Router):
                sys.stdout = _real["stdout"]
            if isinstance(sys.stderr, _Router):
                sys.stderr = _real["stderr"]


def split_key(key: str) -> tuple[str, str, int]:
    """``run/step/attempt`` (a step may hold slashes: ``load/3/train``)."""
    run_id, _, rest = key.partition("/")
    step, _, attempt = rest.rpartition("/")
    return run_id, step, int(attempt) if is_ascii_digits(attempt) else 0


class CapturingRunner:
    """A FunctionRunner that keeps each attempt's output in ``sink``."""

    def __init__(self, inner: FunctionRunner, sink: LogSink, clock: Any) -> None:
        self._inner = inner
        self._sink = sink
        self._clock = clock

    def invoke(self, invocation: Invocation) -> InvocationResult:
        buffers = {"stdout": io.StringIO(), "stderr": io.StringIO()}
        token = _current.set(buffers)
        try:
            result = self._inner.invoke(invocation)
        finally:
            _current.reset(token)
        texts = {name: buf.getvalue() for name, buf in buffers.items()}
        trace = getattr(result, "traceback", None)
        if not result.ok and trace:
            texts["traceback"] = trace
        elif not result.ok and result.error:
            texts["error"] = result.error
        run_id, step, attempt = split_key(invocation.idempotency_key)
        now = self._clock.now_ms()
        for name, text in texts.items():
            if text:
                self._sink.put(run_id, step, attempt, name, text, now)
        return result

    def invoke_async(self, invocation: Invocation) -> InvocationResult:
        """An async invoke's output is not kept (it runs on after the attempt starts)."""
        return self._inner.invoke_async(invocation)  # type: ignore[attr-defined, no-any-return]


class AttemptCapture:
    """What a step's local stand-in prints (an ecs_task's callable, a local command's
    output), kept in the attempt's log like a local lambda's (``podium runs logs``)."""

    def __init__(self, sink: LogSink, clock: Any) -> None:
        self._sink = sink
        self._clock = clock

    def run(self, key: str, work: Any, extra: dict[str, str] | None = None) -> Any:
        buffers = {"stdout": io.StringIO(), "stderr": io.StringIO()}
        token = _current.set(buffers)
        try:
            return work()
        finally:
            _current.reset(token)
            run_id, step, attempt = split_key(key)
            now = self._clock.now_ms()
            for name, buf in buffers.items():
                text = buf.getvalue()
                if text:
                    self._sink.put(run_id, step, attempt, name, text, now)
