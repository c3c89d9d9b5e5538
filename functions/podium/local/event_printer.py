"""``--events`` on ``podium run`` and ``podium dev``: every run and step status event is
printed as one JSON line as it is published; and ``podium run --event FILE``."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.load import MAX_DOCUMENT_DEPTH, RepeatedKeys, check_depth, loads_strict_json
from podium.core.engine.records import RunRecord
from podium.core.ports import Events
from podium.service.context import Services


class PrintingEvents:
    """Publishes to ``inner`` (kept, as locally) and prints each event."""

    def __init__(self, inner: Events, stream: TextIO) -> None:
        self.inner = inner
        self._stream = stream
        self._lock = threading.Lock()

    @property
    def published(self) -> list[dict[str, Any]]:
        return list(getattr(self.inner, "published", []))

    def take_unrouted(self) -> list[dict[str, Any]]:
        """The inner events' (what the pump offers to ``bus: podium`` triggers, and
        where an in-memory bus trims what it keeps): printing must switch neither off."""
        take = getattr(self.inner, "take_unrouted", None)
        return take() if take is not None else []

    def publish(self, events: Sequence[Mapping[str, Any]]) -> None:
        self.inner.publish(events)
        with self._lock:
            for event in events:
                line = {"source": "podium", **event}
                self._stream.write(json.dumps(line, default=str, separators=(",", ":")) + "\n")
            self._stream.flush()


def print_events_of(ctx: Services, stream: TextIO) -> None:
    assert ctx.events is not None
    if not isinstance(ctx.events, PrintingEvents):
        ctx.events = PrintingEvents(ctx.events, stream)


def read_event(path: Path) -> dict[str, Any]:
    """``podium run --event FILE``'s event, read and checked as an API body is (no NaN,
    no key twice, not too deep, an object): before anything is made or pushed, so a bad
    file is said with nothing written (it was found after the push)."""
    try:
        event = loads_strict_json(path.read_text())  # as an API body: no NaN, no key twice
    except (OSError, ValueError, RepeatedKeys) as exc:
        raise DefinitionError([Issue(str(path), f"cannot read the event JSON: {exc}")]) from None
    except RecursionError:  # Python's parser gives up about 1,000 levels down
        raise _too_deep(path) from None
    if check_depth(event) is not None:
        raise _too_deep(path)
    if not isinstance(event, dict):
        raise DefinitionError([Issue(str(path), "the event must be a JSON object")])
    return event


def start_from_file(ctx: Services, workflow: str, event: dict[str, Any]) -> RunRecord:
    """``podium run --event FILE``: the run a trigger of the workflow starts for the
    event (``read_event``'s)."""
    from podium.service.triggers import start_from_event

    return start_from_event(ctx, workflow, event)


def _too_deep(path: Path) -> DefinitionError:
    return DefinitionError(
        [Issue(str(path), f"the event nests more than {MAX_DOCUMENT_DEPTH} levels; flatten it")]
    )
