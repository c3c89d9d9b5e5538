"""What a lambda step's ``function`` names: a Lambda function, or a Python callable.

On AWS a lambda step names its Lambda function (a name, a name with a version or alias,
or an ARN). Locally, a mapping (``podium.toml`` beside the workflow, or ``--functions``)
says which Python callable plays each Lambda; ``package.module:function`` written in the
definition itself is called directly, on the local runtime only.

``name:qualifier`` (a Lambda name with a version or alias) and ``module:function`` look
alike; a ref is read as a Python callable when both sides are dotted Python identifiers
and the qualifier is not a version (``$LATEST`` or digits). A Lambda alias that is also a
Python identifier is written as an ARN to tell it apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from podium.core.dsl.errors import Issue

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
PYTHON_REF = re.compile(rf"^{_DOTTED}:{_DOTTED}$")
# arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] (other partitions too)
_ARN = re.compile(r"^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:function:(?P<name>[A-Za-z0-9_-]+)")
# NAME:QUALIFIER (a version or an alias, as Lambda's Invoke takes it), or a partial ARN
# ACCOUNT:function:NAME[:QUALIFIER]
_QUALIFIED = re.compile(r"^(?:\d{12}:function:)?(?P<name>[A-Za-z0-9_-]+)(?::[A-Za-z0-9_$-]+)?$")
MAX_MAPPINGS = 1000
LOOP_TYPES = ("foreach", "while")  # steps whose ``steps`` are a body


def is_python_ref(function: str) -> bool:
    """``package.module:function`` (a local Python callable), not a Lambda name or ARN."""
    return bool(PYTHON_REF.match(function)) and not function.startswith("arn:")


def lambda_name(function: str) -> str:
    """The function's name without its version or alias: the name in an ARN
    (``...:function:NAME[:QUALIFIER]``) or in ``NAME:QUALIFIER``; a Python callable
    (``module:function``), or anything else, as it is."""
    match = _ARN.match(function)
    if match:
        return match.group("name")
    if is_python_ref(function):
        return function
    match = _QUALIFIED.match(function)
    return match.group("name") if match else function


def mapped(functions: Mapping[str, str], function: str) -> str | None:
    """The callable (``module:function``) that plays ``function`` locally: mapped by the
    exact name or ARN, else by its name (an ARN's, or ``name:alias``'s and
    ``name:7``'s), so the file that deploys as it is needs one entry per function, not
    one per alias or version."""
    target = functions.get(function)
    if target is None:
        target = functions.get(lambda_name(function))
    return target


def check_mapping(functions: Mapping[str, str], origin: str) -> dict[str, str]:
    """A mapping read from a file or the command line: every value is ``module:function``.
    Raises ValueError naming ``origin`` and the entry."""
    if not isinstance(functions, Mapping):
        raise ValueError(f'{origin}: [functions] must be a table of name = "module:function"')
    if len(functions) > MAX_MAPPINGS:
        raise ValueError(f"{origin}: more than {MAX_MAPPINGS} functions mapped")
    out: dict[str, str] = {}
    for name, target in functions.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{origin}: a function name is empty")
        if not isinstance(target, str) or not is_python_ref(target.strip()):
            raise ValueError(
                f"{origin}: '{name}' = {target!r}: the value must be a Python callable"
                " 'package.module:function'"
            )
        out[name.strip()] = target.strip()
    return out


def unmapped_message(function: str) -> str:
    """Why a Lambda name cannot run locally, and the fix."""
    name = lambda_name(function)
    return (
        f"Lambda function '{function}' has no local mapping: say which Python callable plays"
        f' it in podium.toml beside the workflow ([functions] "{name}" ='
        f' "module:function"), or pass --functions {name}=module:function'
    )


def lambda_functions(
    steps: Iterable[object], where: str = "steps"
) -> Iterator[tuple[str, str, str]]:
    """(path of its ``function``, step id, function) of each lambda step, loop bodies
    included (a foreach's or a while's ``steps``, at any depth): a body's step is deployed
    and run like any other, so what is refused or noted for a top-level step is too."""
    for i, step in enumerate(steps):
        function = getattr(step, "function", None)
        if getattr(step, "type", None) == "lambda" and isinstance(function, str):
            yield f"{where}[{i}].function", str(getattr(step, "id", i)), function
        body = getattr(step, "steps", None)
        if getattr(step, "type", None) in LOOP_TYPES and isinstance(body, list):
            yield from lambda_functions(body, f"{where}[{i}].steps")


def python_ref_issues(steps: Iterable[object]) -> list[Issue]:
    """Issues for lambda steps (in loop bodies too) that name a Python callable: the
    deployed runner invokes Lambda functions only."""
    issues = []
    for path, step_id, function in lambda_functions(steps):
        if not is_python_ref(function):
            continue
        module, _, attr = function.partition(":")
        suggestion = f"{module.rsplit('.', 1)[-1]}-{attr.rsplit('.', 1)[-1]}".replace("_", "-")
        issues.append(
            Issue(
                path,
                f"step '{step_id}' calls the Python callable '{function}',"
                " which only the local runtime can call; on AWS a lambda step names a Lambda"
                f" function (name or ARN): write e.g. function: {suggestion} (your Lambda's"
                " name) and map it locally in podium.toml beside the workflow: [functions]"
                f' "{suggestion}" = "{function}"',
            )
        )
    return issues
