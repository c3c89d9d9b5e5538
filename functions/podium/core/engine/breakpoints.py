"""Breakpoints: which keys a workflow's breakpoint set holds, and which attempts they hold.

A workflow's breakpoints are one small set of strings (the store's ``breakpoints``):
``step`` holds that step in every run of the workflow (for a loop's body workflow: in
every iteration); ``step#N`` holds it only in iteration N of the loop whose body it is
(the child run's ``parent_index``; in a nested loop, the innermost one's index, as
``iteration`` is in expressions). One string per breakpoint keeps the store's item and
its adapters as they were: an iteration breakpoint is just another member of the set.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

ITERATION_MARK = "#"  # step ids are identifiers: a "#" never occurs in one


def breakpoint_key(step: str, iteration: int | None = None) -> str:
    if iteration is None:
        return step
    if iteration < 0:
        raise ValueError("an iteration index is 0 or more")
    return f"{step}{ITERATION_MARK}{iteration}"


def step_of_key(key: str) -> str:
    return key.split(ITERATION_MARK, 1)[0]


def held_by(breakpoints: Collection[str], step: str, iteration: int | None) -> bool:
    """Does a breakpoint hold ``step`` in the run at ``iteration`` (its ``parent_index``;
    None for a run that is no loop iteration)?"""
    if step in breakpoints:
        return True
    return iteration is not None and breakpoint_key(step, iteration) in breakpoints


def keys_to_clear(breakpoints: Iterable[str], step: str, iteration: int | None) -> list[str]:
    """``break clear`` of a step: every breakpoint of it (the all-iterations one and each
    iteration's); with an iteration, only that iteration's."""
    if iteration is not None:
        wanted = breakpoint_key(step, iteration)
        return [k for k in breakpoints if k == wanted]
    return sorted(k for k in breakpoints if step_of_key(k) == step)
