#!/usr/bin/env python3
"""The CDK app: ``npx cdk synth`` / ``npx cdk deploy`` from the repository root.

Settings come from CDK context (``-c podium:alarmEmail=ops@example.com``; see
docs/deploy.md). ``-c podium:skipBundling=true`` packages the raw source instead of the
bundle, for an offline look at the template.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Running ``python infra/app.py`` puts infra/ first on sys.path already; this also
# covers ``python -m`` and other launchers.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aws_cdk as cdk

from podium_cdk import PodiumStack, apply_aws_solutions_checks, props_from_context
from podium_cdk.stack import STACK_NAME_CONTEXT


def main() -> cdk.App:
    app = cdk.App()
    PodiumStack(
        app,
        app.node.try_get_context(STACK_NAME_CONTEXT) or "Podium",
        podium=props_from_context(app),
        # Unset outside `cdk` (e.g. tests): the stack is then environment-agnostic.
        env=cdk.Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=os.environ.get("CDK_DEFAULT_REGION"),
        ),
    )
    # Synthesis fails on any AwsSolutions finding that is not acknowledged.
    apply_aws_solutions_checks(app)
    app.synth()
    return app


if __name__ == "__main__":
    main()
