"""What commands read besides their target: ``--param`` and ``--tag`` values, the local
function mapping and stand-ins of podium.toml (with ``--functions``), and whether
``podium run --event FILE``'s event starts a run of the workflow.

A bad value is a usage error (exit 2). Shared by ``podium run`` (``cli/main.py``) and the
commands that start or act on runs, so it imports none of the command modules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.text import Text

from podium.cli.output import err
from podium.cli.remote import quote
from podium.core.dsl.load import (
    MAX_DOCUMENT_DEPTH,
    NotJsonNumber,
    RepeatedKeys,
    check_depth,
    loads_strict_json,
)
from podium.core.dsl.models import ParamSpec, ParamType
from podium.core.dsl.params import parse_cli_value
from podium.core.tags import parse_tag_pairs
from podium.core.text_checks import LONE_SURROGATE_FIX, find_lone_surrogate

if TYPE_CHECKING:
    from podium.cli.remote import ApiClient
    from podium.core.dsl.models import WorkflowDefinition

TypedParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param", "-p", help="Run param as key=value (repeatable), typed like podium run."
    ),
]
TagOption = Annotated[
    list[str] | None,
    typer.Option("--tag", help="Tag the run: key=value (repeatable; over the workflow's tags)."),
]

# A version or an attempt number on the command line: the API's own bound (a bigger
# one reached SQLite, which cannot bind past 64 bits: a traceback, not an error).
MAX_NUMBER = 10**9


# A double as people write it: float() also takes "1_0", "nan" and other scripts' digits.
_DOUBLE = re.compile(r"\s*[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")


def usage_error(message: str) -> typer.Exit:
    """A bad command-line value: said in red; the caller raises the exit (2)."""
    err().print(Text(message, style="red"), highlight=False)
    return typer.Exit(2)


def too_deep(where: str) -> typer.Exit:
    return usage_error(f"{where}: nested more than {MAX_DOCUMENT_DEPTH} levels deep; flatten it")


def json_value(where: str, raw: str) -> Any:
    """``raw`` read as JSON (ValueError when it is not JSON). What the API refuses in a
    body is a usage error (exit 2) naming ``where``: nested more than MAX_DOCUMENT_DEPTH
    levels (Python's parser would give up with a RecursionError past about 1,000), a key
    given twice (the parser would keep the last), NaN, Infinity or a number too big for a
    double, a lone surrogate (an escape, or an argument that was not UTF-8)."""
    try:
        value = loads_strict_json(raw)
    except RecursionError:
        raise too_deep(where) from None
    except RepeatedKeys as exc:
        raise usage_error(f"{where}: {exc}") from None
    except NotJsonNumber as exc:
        raise usage_error(f"{where}: {exc} (write null or a string)") from None
    if check_depth(value) is not None:
        raise too_deep(where)
    lone = find_lone_surrogate(value)
    if lone is not None:
        raise usage_error(f"{where}{'.' + lone if lone else ''}: {LONE_SURROGATE_FIX}")
    return value


def _key_value(pair: str) -> tuple[str, str]:
    key, sep, raw = pair.partition("=")
    if not sep or not key:
        raise usage_error(f"--param '{pair}': use key=value")
    return key, raw


_WHAT = {"-p": "param", "--tag": "tag"}


def once(option: str, keys: Iterable[str]) -> None:
    """A key given twice on the command line: the last value would silently win."""
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise usage_error(f"{option} {key}: given twice; give each {_WHAT[option]} once")
        seen.add(key)


def _typed(key: str, spec: ParamSpec, raw: str) -> Any:
    """One ``-p`` value typed by its spec. What does not fit stays text, for the run's
    param check to refuse with the type it expects."""
    if spec.type is ParamType.DOUBLE and not _DOUBLE.fullmatch(raw):
        return raw
    if spec.type in (ParamType.LIST, ParamType.MAP):
        try:
            return json_value(f"-p {key}", raw)
        except ValueError:  # not JSON: the run's param check names the type it expects
            return raw
    return parse_cli_value(spec, raw)


def parse_params(defn_params: dict[str, Any], pairs: list[str]) -> dict[str, Any]:
    """``--param key=value`` pairs, each typed by its param spec (untyped: a string); a
    pair that is not key=value, and a key given twice, are usage errors (exit 2)."""
    split = [_key_value(pair) for pair in pairs]
    once("-p", (key for key, _ in split))
    out: dict[str, Any] = {}
    for key, raw in split:
        spec = defn_params.get(key)
        out[key] = _typed(key, spec, raw) if spec is not None else raw
    return out


def typed_params(client: ApiClient, workflow: str, version: int | None, pairs: list[str]) -> Any:
    """Type ``key=value`` pairs by the pushed definition's param specs, like ``podium run``."""
    # A syntax error is a usage error: report it before any request.
    once("-p", (_key_value(pair)[0] for pair in pairs))
    wf = client.get(f"/workflows/{quote(workflow)}", {"version": version})
    specs: dict[str, Any] = {}
    for name, raw in ((wf.get("definition") or {}).get("params") or {}).items():
        # A spec this CLI does not know (a newer server): send that value as typed.
        with suppress(ValidationError):
            specs[name] = ParamSpec.model_validate(raw)
    return parse_params(specs, pairs)


def parse_tags(pairs: list[str] | None) -> dict[str, str]:
    """``--tag key=value`` pairs; a bad one, or a key given twice, is a usage error
    (exit 2)."""
    try:
        tags = parse_tag_pairs(pairs or [])
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    # parse_tag_pairs keeps a repeated key's last value; keys are compared as it reads them.
    once("--tag", (pair.partition("=")[0].strip() for pair in pairs or []))
    return tags


def local_functions(directory: Path, pairs: list[str] | None) -> dict[str, str]:
    """The local function mapping: ``directory``'s podium.toml, then ``--functions``.
    A bad entry is a usage error (exit 2)."""
    from podium.local.functions import CONFIG_FILE, parse_pairs, read_config

    try:
        mapping = read_config(directory / CONFIG_FILE)
        mapping.update(parse_pairs(pairs or []))
    except ValueError as exc:
        err().print(Text(str(exc), style="red"), highlight=False)
        raise typer.Exit(2) from None
    return mapping


def local_stand_ins(directory: Path) -> Any:
    """podium.toml's stand-ins of external step types (local/stand_ins.py); a bad entry
    is a usage error (exit 2)."""
    from podium.local.stand_ins import stand_ins_beside

    try:
        return stand_ins_beside(directory)
    except ValueError as exc:
        err().print(Text(str(exc), style="red"), highlight=False)
        raise typer.Exit(2) from None


def check_trigger_event(defn: WorkflowDefinition, event: Mapping[str, Any]) -> None:
    """``podium run --event FILE``: the run a trigger of ``defn`` would start for
    ``event``, started on a throwaway in-memory store holding ``defn`` alone, by the
    code that starts the real one (service/triggers.py ``start_from_event``). Raises its
    DefinitionError (no trigger takes the event, a ``time`` that is no ISO time, the
    trigger's params that do not render from it ...) before the home is made or the
    workflow pushed: found after the push, it left a new version behind."""
    from podium.adapters.clock import SystemClock, UlidGenerator
    from podium.adapters.memory_store import MemoryStateStore
    from podium.adapters.queues import LocalQueue
    from podium.service.context import Services, digest_of
    from podium.service.runtimes.registry import RUNTIMES
    from podium.service.triggers import start_from_event

    clock = SystemClock()
    ctx = Services(
        runtimes=RUNTIMES,
        store=MemoryStateStore(),
        work_queue=LocalQueue("work", clock),
        event_queue=LocalQueue("events", clock),
        runner=_NoRunner(),
        clock=clock,
        ids=UlidGenerator(clock),
    )
    # Stored as a push stores it, without a push's other checks (its subworkflows are
    # in the home, not here): what it refuses is said by the push itself.
    document = {**defn.model_dump(mode="json", exclude_defaults=True), "name": defn.name}
    ctx.store.put_workflow_version(defn.name, document, digest_of(document), ctx.now())
    start_from_event(ctx, defn.name, event)


class _NoRunner:
    """The throwaway store's runner: starting a run runs no step."""

    def invoke(self, invocation: Any) -> Any:
        raise RuntimeError("checking an event runs no step")
