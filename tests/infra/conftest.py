"""Session fixtures for the CDK tests: each app is synthesized once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from infra_support import Synth, build_default, synthesize


@pytest.fixture(scope="session")
def default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synth]:
    """The ready stack of infra/app.py with default props."""
    yield synthesize(tmp_path_factory.mktemp("default") / "cdk.out", build_default)


@pytest.fixture(scope="session")
def template(default: Synth) -> Template:
    return default.template


