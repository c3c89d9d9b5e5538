"""Checks that need the whole step list: ids, dependencies and cycles."""

from __future__ import annotations

from collections.abc import Sequence

from podium.core.dsl.errors import Issue, did_you_mean
from podium.core.dsl.models import JoinRule, WorkflowDefinition

MAX_DEPENDS_ON = 10_000
"""Steps one step may depend on. A join marks each arrival on its own item (2-4 bytes
each in DynamoDB, whose items stop at 400 KB, and every arrival rewrites the item)."""


def check_graph(defn: WorkflowDefinition) -> list[Issue]:
    issues = check_step_graph([(s.id, s.dependency_ids) for s in defn.steps])
    for i, step in enumerate(defn.steps):
        if step.recover and step.join not in (JoinRule.ONE_FAILED, JoinRule.ALL_DONE):
            issues.append(
                Issue(
                    f"steps[{i}].recover",
                    "recover applies to error handlers only: set join to one_failed (or"
                    " all_done), or remove recover",
                )
            )
        if step.recover and not step.depends_on:
            issues.append(Issue(f"steps[{i}].recover", "a handler needs depends_on"))
    return issues


def check_raw_graph(data: object) -> list[Issue]:
    """The same checks on an unvalidated document, so that one ``podium validate`` lists
    graph errors together with shape errors. Steps too malformed to read are left out."""
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        return []
    pairs: list[tuple[str, list[str]]] = []
    for raw in steps:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            return []  # indexes would no longer match the user's list
        raw_deps = raw.get("depends_on", [])
        deps: list[str] = []
        for d in raw_deps if isinstance(raw_deps, list) else []:
            dep = d.get("step") if isinstance(d, dict) else d
            if isinstance(dep, str):
                deps.append(dep)
        pairs.append((raw["id"], deps))
    return check_step_graph(pairs)


def check_step_graph(steps: Sequence[tuple[str, list[str]]]) -> list[Issue]:
    issues: list[Issue] = []
    first_index: dict[str, int] = {}
    for i, (step_id, _) in enumerate(steps):
        if step_id in first_index:
            issues.append(
                Issue(
                    f"steps[{i}].id",
                    f"duplicate step id '{step_id}' (first used by steps[{first_index[step_id]}]);"
                    " give each step a unique id",
                )
            )
        else:
            first_index[step_id] = i
    ids = list(first_index)
    duplicated = bool(issues)
    issues += _check_fan_in(steps)
    for i, (step_id, step_deps) in enumerate(steps):
        seen: set[str] = set()
        for j, dep in enumerate(step_deps):
            path = f"steps[{i}].depends_on[{j}]"
            if dep == step_id:
                issues.append(Issue(path, f"step '{step_id}' cannot depend on itself"))
            elif dep not in first_index:
                issues.append(Issue(path, f"unknown step '{dep}'{did_you_mean(dep, ids)}"))
            elif dep in seen:
                issues.append(Issue(path, f"'{dep}' is listed twice; list each dependency once"))
            seen.add(dep)
    # Other mistakes don't hide a cycle: fixing an unknown name and then meeting a cycle
    # costs the user a second round. Only duplicate ids make the graph ambiguous.
    if not duplicated:
        known = {sid: [d for d in deps if d in first_index and d != sid] for sid, deps in steps}
        cycle = find_cycle(ids, known)
        if cycle:
            i = first_index[cycle[0]]
            issues.append(
                Issue(
                    f"steps[{i}].depends_on",
                    f"dependency cycle: {' -> '.join(cycle)}; remove one of these dependencies",
                )
            )
    return issues


def _check_fan_in(steps: Sequence[tuple[str, list[str]]]) -> list[Issue]:
    return [
        Issue(
            f"steps[{i}].depends_on",
            f"{len(step_deps):,} dependencies, over the limit of {MAX_DEPENDS_ON:,} per"
            " step; depend on a few steps that each depend on part of them, or make the"
            " repeated work a foreach",
        )
        for i, (_, step_deps) in enumerate(steps)
        if len(step_deps) > MAX_DEPENDS_ON
    ]


def find_cycle(nodes: Sequence[str], deps: dict[str, list[str]]) -> list[str] | None:
    """A cycle in execution order (``a -> b`` means b depends on a), closed, or None.

    Iterative DFS so that a 100,000-step chain cannot overflow the Python stack.
    """
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for node, node_deps in deps.items():
        for d in node_deps:
            successors[d].append(node)
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(nodes, white)
    for root in nodes:
        if color[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        color[root] = grey
        while stack:
            node, idx = stack[-1]
            succ = successors[node]
            if idx < len(succ):
                stack[-1] = (node, idx + 1)
                nxt = succ[idx]
                if color[nxt] == grey:
                    start = path.index(nxt)
                    return [*path[start:], nxt]
                if color[nxt] == white:
                    color[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                color[node] = black
                stack.pop()
                path.pop()
    return None
