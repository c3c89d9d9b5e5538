"""Build the Lambda bundle (podium + its runtime dependencies) without Docker.

This module imports nothing from aws_cdk, so ``scripts/build-lambda`` runs it with a
bare venv, and the CDK asset (``podium_cdk.code``) calls the same ``build_bundle``.

The third-party dependencies are installed with pip's cross-platform flags
(``--platform ... --only-binary=:all:``), so an x86_64 laptop builds a correct arm64
bundle. They are cached under ``build/lambda-deps`` keyed by requirements, architecture
and Python version: after one online build, ``cdk synth`` works offline.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

Architecture = Literal["arm64", "x86_64"]

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = REPO_ROOT / "pyproject.toml"
SOURCE_DIR = REPO_ROOT / "functions" / "podium"
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "lambda-deps"

# The Lambda runtime the bundle targets; handlers run on Runtime.PYTHON_3_13.
LAMBDA_PYTHON_VERSION = "3.13"

# Dependencies of the podium distribution that must not ship in the Lambda bundle:
# Lambda's runtime provides boto3 (and botocore, s3transfer); the rest serve only the
# CLI and the local moto runtime.
EXCLUDED_REQUIREMENTS = frozenset({"boto3", "botocore", "s3transfer", "typer", "rich", "moto"})

# Bump when the bundle layout changes, so cached CDK assets are rebuilt.
BUNDLE_FORMAT = "1"

_SOURCE_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".DS_Store")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class BundleError(RuntimeError):
    """pip could not produce the bundle (no network, no wheel for the platform...)."""


def canonical_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    if not match:
        raise ValueError(f"cannot read a package name from {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def runtime_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """The project's dependencies minus the excluded ones, read from pyproject.toml so
    the bundle cannot drift from what the engine declares."""
    with pyproject.open("rb") as fh:
        dependencies: list[str] = tomllib.load(fh)["project"]["dependencies"]
    return [d for d in dependencies if canonical_name(d) not in EXCLUDED_REQUIREMENTS]


def pip_platforms(arch: Architecture) -> list[str]:
    """Every manylinux tag the Lambda runtime accepts.

    pip does not expand ``manylinux_2_X`` tags to older ones, so list them all: the
    python3.13 runtime is Amazon Linux 2023 with glibc 2.34, and some wheels (e.g.
    google-re2) ship only a manylinux_2_28 build.
    """
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[arch]
    return [f"manylinux_2_{minor}_{machine}" for minor in range(34, 16, -1)] + [
        f"manylinux2014_{machine}"
    ]


def pip_install_command(
    requirements: Sequence[str],
    target: Path,
    *,
    arch: Architecture,
    python_version: str = LAMBDA_PYTHON_VERSION,
) -> list[str]:
    command = [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-input",
        "--target", str(target),
        "--implementation", "cp",
        "--python-version", python_version,
        "--only-binary=:all:",
        "--no-compile",  # Lambda's filesystem is read-only; .pyc files would be stale
        "--upgrade",
    ]  # fmt: skip
    for platform in pip_platforms(arch):
        command += ["--platform", platform]
    return [*command, *requirements]


def _digest(parts: Iterable[str | bytes]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()


def _source_files(source_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in source_dir.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    )


def bundle_hash(
    *,
    arch: Architecture,
    requirements: Sequence[str] | None = None,
    source_dir: Path = SOURCE_DIR,
    python_version: str = LAMBDA_PYTHON_VERSION,
) -> str:
    """A content hash of everything that goes into the bundle. CDK uses it as the asset
    hash, so an unchanged bundle is neither rebuilt nor re-uploaded."""
    reqs = runtime_requirements() if requirements is None else list(requirements)
    parts: list[str | bytes] = [BUNDLE_FORMAT, arch, python_version, *reqs]
    for path in _source_files(source_dir):
        parts += [path.relative_to(source_dir).as_posix(), path.read_bytes()]
    return _digest(parts)


def install_dependencies(
    *,
    arch: Architecture,
    requirements: Sequence[str],
    cache_dir: Path = DEFAULT_CACHE_DIR,
    python_version: str = LAMBDA_PYTHON_VERSION,
) -> Path:
    """Install the requirements for the Lambda platform once and return the folder."""
    key = _digest([BUNDLE_FORMAT, arch, python_version, *requirements])[:16]
    ready = cache_dir / f"py{python_version}-{arch}-{key}"
    if ready.is_dir():
        return ready
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Build beside the final folder and rename, so an interrupted pip never leaves a
    # half-filled cache entry that later builds would trust.
    staging = Path(tempfile.mkdtemp(prefix=f".{ready.name}-", dir=cache_dir))
    # mkdtemp makes the folder 0700 and copytree copies that mode onto the bundle
    # root; Lambda's runtime user must be able to read it.
    staging.chmod(0o755)
    try:
        command = pip_install_command(
            requirements, staging, arch=arch, python_version=python_version
        )
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BundleError(
                f"pip could not install the Lambda dependencies for {arch} "
                f"(exit {result.returncode}).\n$ {' '.join(command)}\n{result.stderr.strip()}"
            )
        # Console scripts are useless in Lambda and carry host-specific shebangs.
        shutil.rmtree(staging / "bin", ignore_errors=True)
        try:
            staging.rename(ready)
        except OSError:
            if not ready.is_dir():  # another build won the race: use its copy
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ready


def build_bundle(
    out_dir: Path,
    *,
    arch: Architecture,
    requirements: Sequence[str] | None = None,
    source_dir: Path = SOURCE_DIR,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    python_version: str = LAMBDA_PYTHON_VERSION,
) -> Path:
    """Fill ``out_dir`` with the dependencies and the ``podium`` package.

    ``out_dir`` is created if needed and must be empty (CDK hands over a fresh one).
    """
    reqs = runtime_requirements() if requirements is None else list(requirements)
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise BundleError(
            f"{out_dir} is not empty; refusing to mix two bundles (build-lambda: --clean)"
        )
    deps = install_dependencies(
        arch=arch, requirements=reqs, cache_dir=cache_dir, python_version=python_version
    )
    shutil.copytree(deps, out_dir, dirs_exist_ok=True)
    shutil.copytree(source_dir, out_dir / source_dir.name, ignore=_SOURCE_IGNORE)
    return out_dir


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build-lambda",
        description="Build the Podium Lambda bundle (code + runtime dependencies).",
    )
    parser.add_argument("--arch", choices=["arm64", "x86_64"], default="arm64")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "lambda")
    parser.add_argument("--clean", action="store_true", help="delete --out first if it exists")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    if args.clean and out.exists():
        shutil.rmtree(out)
    try:
        build_bundle(out, arch=args.arch)
    except BundleError as exc:
        print(f"build-lambda: {exc}", file=sys.stderr)
        return 1
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    print(f"{out} ({args.arch}, python{LAMBDA_PYTHON_VERSION}, {size_mb:.1f} MiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
