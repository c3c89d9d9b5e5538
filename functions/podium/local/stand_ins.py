"""Local stand-ins of the external step types, from ``podium.toml`` beside the workflow::

[ecs_tasks]                    # by task definition family (or step id)
train = "ml.train:main"        # a Python callable plays the task
score = { command = ["python", "score.py"] }   # a local command
report = {}                    # the step's own command, run locally

[batch_jobs]                   # by job definition name (or step id)
features = { command = ["python", "features.py"] }

[glue_jobs]                    # by Glue job name (or step id)
etl-daily = "etl.local:run"    # gets {"arguments": {...}, ...}

[state_machines]               # by state machine name (or step id)
Reconcile = "recon.local:run"  # gets {"input": ...}; its return value is the output

[http]
allowed_hosts = ["localhost:8080", "api.example.com"]   # loopback is always allowed

[http.map]                     # a Python callable answers for a host
"https://api.example.com" = "fake_api:handle"

[secrets]                      # http auth secrets: from the environment, never the file
"warehouse/token" = "env:WAREHOUSE_TOKEN"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podium.local.functions import CONFIG_FILE, read_toml

JOB_TABLES = {
    "ecs_tasks": "ecs_task",
    "batch_jobs": "batch_job",
    "glue_jobs": "glue_job",
    "state_machines": "sfn_execution",
}
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass
class StandIns:
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> name -> target
    http_hosts: list[str] = field(default_factory=list)
    http_map: dict[str, str] = field(default_factory=dict)  # origin or host -> callable
    secrets: dict[str, str] = field(default_factory=dict)  # name -> "env:VARIABLE"

    def merge(self, other: StandIns) -> None:
        """``other`` fills what this one does not say (the first file read wins)."""
        for kind, targets in other.jobs.items():
            for name, target in targets.items():
                self.jobs.setdefault(kind, {}).setdefault(name, target)
        self.http_hosts += [h for h in other.http_hosts if h not in self.http_hosts]
        for origin, ref in other.http_map.items():
            self.http_map.setdefault(origin, ref)
        for name, source in other.secrets.items():
            self.secrets.setdefault(name, source)


def read_stand_ins(path: Path) -> StandIns:
    """The stand-in tables of a ``podium.toml`` (none when it does not exist). Raises
    ValueError naming the file, the entry and the fix."""
    data = read_toml(path)  # the same refusals as the function mapping's, once
    found = StandIns()
    for table, kind in JOB_TABLES.items():
        entries = data.get(table, {})
        if not isinstance(entries, dict):
            raise ValueError(f"{path}: [{table}] must be a table of name = target")
        for name, target in entries.items():
            _check_target(path, table, name, target)
            found.jobs.setdefault(kind, {})[name] = target
    http = data.get("http", {})
    odd = sorted(set(http) - {"allowed_hosts", "map"}) if isinstance(http, dict) else []
    if odd:  # read as nothing, silently: a misspelt allowed_hosts allowed no host
        raise ValueError(f"{path}: [http] has no key {odd[0]!r}; its keys are allowed_hosts, map")
    hosts = http.get("allowed_hosts", []) if isinstance(http, dict) else None
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise ValueError(
            f'{path}: [http] allowed_hosts must be a list of hosts, e.g. ["localhost:8080"]'
        )
    found.http_hosts = list(hosts)
    mapped = http.get("map", {}) if isinstance(http, dict) else {}
    if not isinstance(mapped, dict):
        raise ValueError(f'{path}: [http.map] must be a table of "origin" = "module:function"')
    for origin, ref in mapped.items():
        if not isinstance(ref, str) or ":" not in ref:
            raise ValueError(
                f'{path}: [http.map] "{origin}": use "module:function" (it gets the request'
                " and returns the body, or {status, body, headers})"
            )
        found.http_map[origin] = ref
    secrets = data.get("secrets", {})
    if not isinstance(secrets, dict):
        raise ValueError(f'{path}: [secrets] must be a table of name = "env:VARIABLE"')
    for name, source in secrets.items():
        if not isinstance(source, str) or not source.startswith("env:") or len(source) < 5:
            raise ValueError(
                f'{path}: [secrets] {name}: use "env:VARIABLE" (a secret\'s value never goes'
                " in a file)"
            )
        found.secrets[name] = source
    return found


def _check_target(path: Path, table: str, name: str, target: Any) -> None:
    if isinstance(target, str):
        if ":" not in target:
            raise ValueError(
                f"{path}: [{table}] {name} = {target!r}: use 'module:function', or"
                ' { command = ["..."] }'
            )
        return
    if isinstance(target, dict):
        unknown = sorted(set(target) - {"command", "function"})
        command = target.get("command")
        if unknown or (command is not None and not _is_command(command)):
            raise ValueError(
                f"{path}: [{table}] {name}: a table may hold command (a list of strings) or"
                " function ('module:function')"
            )
        return
    raise ValueError(f"{path}: [{table}] {name}: use 'module:function' or a table")


def _is_command(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def stand_ins_beside(directory: Path) -> StandIns:
    return read_stand_ins(directory / CONFIG_FILE)
