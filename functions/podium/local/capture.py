"""What a step's code prints, captured per attempt (the local stand-in for a Lambda's log
stream), so it never lands on the CLI's stdout (and never breaks ``--json``).

While the embedded runtime runs, ``sys.stdout`` and ``sys.stderr`` are routers: a write
goes to the output of the attempt running in the current context (a ContextVar, so each
worker thread has its own), or to the real stream when no attempt runs there.
``CapturingRunner`` wraps the function runner: it opens an output around each invocation
and hands the rest of the text, with the error's traceback, to the home's log store when
the attempt returns.

What an attempt prints reaches the home while it runs, as a Lambda's lines reach its log
stream: a process killed mid-step (``kill -9``, the OOM killer) leaves what the attempt
said before it died, and ``podium runs logs`` shows a long step's lines as it goes. The
text goes in parts (``LogSink.put_parts``: each numbered after the last, so a read puts
them in order and the end writes only what was not written yet), at most once a second
per attempt: by a flusher thread, and on an explicit flush (``print(...,
flush=True)``, a logging handler) at once when the last write is a second old, so a line
flushed just before a crash is kept.
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Protocol, TextIO

from podium.core.ports import FunctionRunner, Invocation, InvocationResult
from podium.core.text_checks import is_ascii_digits

log = logging.getLogger("podium.local")

_lock = threading.Lock()
_installed = 0
_real: dict[str, TextIO] = {}

# Per attempt and stream, a runaway loop cannot fill the disk: the first MAX_LOG_CHARS
# are kept, then the last TAIL_LOG_CHARS (where a summary or the error is), after a line
# saying how many characters between were dropped.
MAX_LOG_CHARS = 1_000_000
TAIL_LOG_CHARS = 100_000
FLUSH_EVERY_S = 1.0  # an attempt's text reaches the home at most this often (and as soon)
# A flush on the step's own thread (its explicit flush) waits this long at most for the
# home's lock, another process's write: the text waits for the flusher, not the step.
FLUSH_PATIENCE_MS = 200


class LogSink(Protocol):
    def put_parts(
        self, run_id: str, step: str, attempt: int, parts: list[tuple[int, str, str]], at: int
    ) -> None:
        """Write the attempt's parts (number, stream, text) in one go."""
        ...


class _Output:
    """One attempt's output: what it printed and the home does not have yet, in the order
    it was written (a part per run of one stream), and the parts written so far."""

    def __init__(self, key: str, sink: LogSink, clock: Any) -> None:
        self._run, self._step, self._attempt = split_key(key)
        self._sink = sink
        self._clock = clock
        self._pending: list[tuple[str, list[str]]] = []  # (stream, its writes), in turn
        self._kept = {"stdout": 0, "stderr": 0}
        # Past MAX_LOG_CHARS: the stream's last writes (about TAIL_LOG_CHARS, cut at the
        # end), and how many characters before them are dropped.
        self._tail: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._tail_chars = {"stdout": 0, "stderr": 0}
        self._dropped = {"stdout": 0, "stderr": 0}
        self._parts = 0  # parts written: the next one's number
        self._flushed = float("-inf")  # when the last write to the sink began (monotonic)
        self._closed = False
        self._text_lock = threading.Lock()  # the pending text (held for an append only)
        self._sink_lock = threading.Lock()  # one writer of parts at a time: numbered in order

    def write(self, stream: str, text: str) -> None:
        with self._text_lock:
            if self._closed:
                return  # a call the attempt gave up on (a timeout) printing on: not its log
            if not text:
                return
            room = MAX_LOG_CHARS - self._kept[stream]
            if len(text) > room:
                self._keep_tail(stream, text[max(room, 0) :])
                text = text[: max(room, 0)]
                if not text:
                    return
            self._kept[stream] += len(text)
            if self._pending and self._pending[-1][0] == stream:
                self._pending[-1][1].append(text)
            else:
                self._pending.append((stream, [text]))

    def _keep_tail(self, stream: str, text: str) -> None:
        """Text past the stream's head: kept in memory (the text lock held), trimmed to
        its last TAIL_LOG_CHARS now and then, and written when the attempt ends."""
        tail = self._tail[stream]
        tail.append(text)
        self._tail_chars[stream] += len(text)
        if self._tail_chars[stream] > 2 * TAIL_LOG_CHARS:
            self._trim(stream)

    def _trim(self, stream: str) -> None:
        whole = "".join(self._tail[stream])
        kept = whole[-TAIL_LOG_CHARS:]
        self._dropped[stream] += len(whole) - len(kept)
        self._tail[stream], self._tail_chars[stream] = [kept], len(kept)

    def _tails(self) -> list[tuple[str, list[str]]]:
        """Each cut stream's tail, after a line saying how much before it was dropped."""
        out = []
        for stream in self._tail:
            if not self._tail[stream]:
                continue
            self._trim(stream)
            tail, dropped = self._tail[stream], self._dropped[stream]
            said = (
                f"\n[{dropped:,} characters of {stream} dropped: the first"
                f" {MAX_LOG_CHARS:,} and the last {TAIL_LOG_CHARS:,} are kept]\n"
            )
            out.append((stream, [said, *tail] if dropped else tail))
        return out

    def flush_if_due(self, *, wait: bool) -> None:
        """Write what is pending: the flusher's (``wait``), or on the step's own thread
        (an explicit flush) if its last write is FLUSH_EVERY_S old, not while the flusher
        writes, and a locked home left to the flusher after FLUSH_PATIENCE_MS."""
        if not wait and time.monotonic() - self._flushed < FLUSH_EVERY_S:
            return
        if not self._sink_lock.acquire(blocking=wait):
            return
        try:
            if wait:
                self._write_pending()
            else:
                from podium.adapters.sqlite.db import waiting_at_most

                with waiting_at_most(FLUSH_PATIENCE_MS):
                    self._write_pending()
        except Exception:  # the text stays pending: the next flush, or the attempt's end
            log.debug("output of %s/%s/%s kept for later", self._run, self._step, self._attempt)
        finally:
            self._sink_lock.release()

    def close(self, extra: dict[str, str]) -> None:
        """The attempt returned: write the rest, then ``extra`` (its traceback, error)."""
        with self._text_lock:
            self._closed = True
            self._pending.extend(self._tails())
            for stream, text in extra.items():
                if text:
                    self._pending.append((stream, [text]))
        with self._sink_lock:
            self._write_pending()

    def _write_pending(self) -> None:
        """Write the pending parts, numbered on from the last (the sink lock held). What
        the sink refused goes back in front of what came since: nothing is lost or
        written twice."""
        with self._text_lock:
            todo, self._pending = self._pending, []
        if not todo:
            return
        self._flushed = time.monotonic()
        parts = [
            (self._parts + n, stream, "".join(texts)) for n, (stream, texts) in enumerate(todo)
        ]
        try:
            self._sink.put_parts(self._run, self._step, self._attempt, parts, self._clock.now_ms())
        except BaseException:
            with self._text_lock:
                self._pending[:0] = todo
            raise
        self._parts += len(parts)


_current: contextvars.ContextVar[_Output | None] = contextvars.ContextVar(
    "podium_capture", default=None
)
_live: set[_Output] = set()  # the outputs of attempts running now (the flusher's)
_stop_flusher: threading.Event | None = None


class _Router(io.TextIOBase):
    def __init__(self, name: str, real: TextIO) -> None:
        self._name = name
        self._real = real

    def write(self, text: str) -> int:
        output = _current.get()
        if output is None:
            return self._real.write(text)
        output.write(self._name, text)
        return len(text)

    def flush(self) -> None:
        output = _current.get()
        if output is None:
            self._real.flush()
        else:
            output.flush_if_due(wait=False)

    def isatty(self) -> bool:
        return _current.get() is None and self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._real, "encoding", "utf-8")

    def writable(self) -> bool:
        return True


def _flush_live(stop: threading.Event) -> None:
    """The flusher thread: every FLUSH_EVERY_S, what running attempts printed since."""
    while not stop.wait(FLUSH_EVERY_S):
        with _lock:
            outputs = list(_live)
        for output in outputs:
            output.flush_if_due(wait=True)


def install() -> None:
    """Route sys.stdout/sys.stderr, and start the flusher (once per process however many
    runtimes start)."""
    global _installed, _stop_flusher
    with _lock:
        if _installed == 0:
            _real["stdout"], _real["stderr"] = sys.stdout, sys.stderr
            sys.stdout = _Router("stdout", sys.stdout)
            sys.stderr = _Router("stderr", sys.stderr)
            _stop_flusher = threading.Event()
            threading.Thread(
                target=_flush_live, args=(_stop_flusher,), name="podium-log-flusher", daemon=True
            ).start()
        _installed += 1


def uninstall() -> None:
    global _installed, _stop_flusher
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
            if _stop_flusher is not None:
                _stop_flusher.set()  # its thread ends at its next look
                _stop_flusher = None


def split_key(key: str) -> tuple[str, str, int]:
    """``run/step/attempt`` (a step may hold slashes: ``load/3/train``)."""
    run_id, _, rest = key.partition("/")
    step, _, attempt = rest.rpartition("/")
    return run_id, step, int(attempt) if is_ascii_digits(attempt) else 0


def _capturing(key: str, sink: LogSink, clock: Any) -> tuple[_Output, contextvars.Token[Any]]:
    output = _Output(key, sink, clock)
    with _lock:
        _live.add(output)
    return output, _current.set(output)


def _captured(
    output: _Output, token: contextvars.Token[Any], extra: dict[str, str], *, failing: bool
) -> None:
    """The attempt is over: its output leaves the context and the flusher, and the rest
    is written (``failing``: the invocation raised; a refused write must not hide that)."""
    _current.reset(token)
    with _lock:
        _live.discard(output)
    if not failing:
        output.close(extra)
        return
    with suppress(Exception):
        output.close(extra)


class CapturingRunner:
    """A FunctionRunner that keeps each attempt's output in ``sink``."""

    def __init__(self, inner: FunctionRunner, sink: LogSink, clock: Any) -> None:
        self._inner = inner
        self._sink = sink
        self._clock = clock

    def invoke(self, invocation: Invocation) -> InvocationResult:
        output, token = _capturing(invocation.idempotency_key, self._sink, self._clock)
        try:
            result = self._inner.invoke(invocation)
        except BaseException:
            _captured(output, token, {}, failing=True)
            raise
        extra: dict[str, str] = {}
        trace = getattr(result, "traceback", None)
        if not result.ok and trace:
            extra["traceback"] = trace
        elif not result.ok and result.error:
            extra["error"] = result.error
        _captured(output, token, extra, failing=False)
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

    def run(self, key: str, work: Callable[[], Any], extra: dict[str, str] | None = None) -> Any:
        output, token = _capturing(key, self._sink, self._clock)
        try:
            done = work()
        except BaseException:
            _captured(output, token, {}, failing=True)
            raise
        _captured(output, token, {}, failing=False)
        return done
