"""Podium's AWS CDK constructs.

``Podium`` (the L3 construct) and ``PodiumProps`` are what a CDK app needs;
``PodiumStack`` is the ready stack that ``infra/app.py`` deploys.
"""

from .nag import apply_aws_solutions_checks
from .podium import OUTPUT_KEYS, Podium
from .props import PodiumProps
from .stack import PodiumStack, props_from_context

__all__ = [
    "OUTPUT_KEYS",
    "Podium",
    "PodiumProps",
    "PodiumStack",
    "apply_aws_solutions_checks",
    "props_from_context",
]
