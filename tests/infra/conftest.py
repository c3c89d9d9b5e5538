"""Session fixtures for the CDK tests: each app is synthesized once per session."""

from __future__ import annotations

import pytest
from infra_support import Synth, build_custom, build_default, synthesize


@pytest.fixture(scope="session")
def default(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The ready stack of infra/app.py, default props, checked by cdk-nag."""
    return synthesize(tmp_path_factory.mktemp("default") / "cdk.out", build_default)


@pytest.fixture(scope="session")
def custom(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Podium inside a user's own stack with custom props, checked by cdk-nag."""
    return synthesize(tmp_path_factory.mktemp("custom") / "cdk.out", build_custom)
