"""The Lambda code asset: one zip shared by the five engine functions.

Bundling runs in this Python process through CDK's ``ILocalBundling`` hook (no Docker).
Set the context flag ``podium:skipBundling`` to ``true`` to package the raw source
folder instead; unit tests and offline template checks do that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from .bundling import SOURCE_DIR, Architecture, build_bundle, bundle_hash

SKIP_BUNDLING_CONTEXT = "podium:skipBundling"

# Only used if local bundling declined, which ours never does (it raises instead);
# CDK requires an image in BundlingOptions all the same.
_FALLBACK_IMAGE = "public.ecr.aws/sam/build-python3.13"
_RAW_EXCLUDES = ["**/__pycache__", "**/*.pyc", "*.egg-info"]


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """Builds the bundle with pip on the host, for the target architecture."""

    def __init__(self, arch: Architecture) -> None:
        self.arch: Architecture = arch

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        # Raise rather than return False: False would make CDK fall back to Docker,
        # hiding pip's real error behind "docker: command not found".
        build_bundle(Path(output_dir), arch=self.arch)
        return True


def skip_bundling(scope: Construct) -> bool:
    value = scope.node.try_get_context(SKIP_BUNDLING_CONTEXT)
    return str(value).strip().lower() in ("1", "true", "yes")


def engine_code(scope: Construct, *, arch: Architecture) -> lambda_.Code:
    """The code asset for the engine handlers (``podium.handlers.*``)."""
    if skip_bundling(scope):
        # The raw package: enough for template assertions, not for running.
        return lambda_.Code.from_asset(str(SOURCE_DIR.parent), exclude=_RAW_EXCLUDES)
    return lambda_.Code.from_asset(
        str(SOURCE_DIR.parent),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=bundle_hash(arch=arch),
        bundling=BundlingOptions(
            image=DockerImage.from_registry(_FALLBACK_IMAGE),
            local=LocalPipBundling(arch),
        ),
    )
