"""Every Lambda function the construct deploys names a handler that exists: its module
is in the bundled source tree and defines the function (a deployed function whose
module is missing fails on its first event, long after `cdk deploy` said it was fine)."""

from __future__ import annotations

import importlib
import sys

from infra_support import REPO_ROOT, Synth


def _handlers(synth: Synth) -> dict[str, str]:
    return {
        logical_id: resource["Properties"]["Handler"]
        for logical_id, resource in synth.resources("AWS::Lambda::Function").items()
        if str(resource["Properties"].get("Handler", "")).startswith("podium.")
    }


def test_every_deployed_handler_module_exists_and_defines_its_function(default: Synth) -> None:
    source = REPO_ROOT / "functions"
    sys.path.insert(0, str(source))
    handlers = _handlers(default)
    assert {h.split(".")[2] for h in handlers.values()} >= {
        "api", "advance", "work", "sweep", "events"
    }  # fmt: skip
    for logical_id, handler in handlers.items():
        module_name, _, function = handler.rpartition(".")
        path = source / (module_name.replace(".", "/") + ".py")
        assert path.is_file(), f"{logical_id}: {handler}: no {path.relative_to(REPO_ROOT)}"
        module = importlib.import_module(module_name)
        assert callable(getattr(module, function, None)), f"{logical_id}: {handler}"
