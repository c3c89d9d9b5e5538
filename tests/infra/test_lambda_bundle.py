"""The Lambda bundle: its requirements, pip's cross-platform flags, and a real build
for the host architecture that a separate python3.13 interpreter imports.

The real build needs PyPI (CI has it) and runs once per session; pip's cache and
build/lambda-deps make repeated runs fast. Outside CI it is skipped when pip fails.
"""

from __future__ import annotations

import glob
import os
import platform
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from infra_support import cdk_context

from podium_cdk import bundling
from podium_cdk.code import LocalPipBundling, engine_code

RUNTIME_PACKAGES = {"pydantic", "lark", "pyyaml", "aws-lambda-powertools", "google-re2", "tzdata"}
# Import names of the bundled dependencies and what must stay out of the bundle.
IMPORTS = ("pydantic", "pydantic_core", "lark", "yaml", "re2", "aws_lambda_powertools")
NOT_BUNDLED = ("boto3", "botocore", "s3transfer", "typer", "rich", "moto")
HANDLERS = ("api", "advance", "work", "sweep", "events")
# Lambda's python runtime provides these; the import test lends the venv's copies.
LAMBDA_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3")


def host_arch() -> bundling.Architecture:
    machine = platform.machine().lower()
    if machine in ("aarch64", "arm64"):
        return "arm64"
    if machine in ("x86_64", "amd64"):
        return "x86_64"
    pytest.skip(f"no Lambda architecture matches this host ({machine})")


def find_python313() -> str | None:
    """A working python3.13: $PODIUM_PYTHON313, PATH, then pyenv's versions (pyenv's
    shim refuses to run a version that is not selected)."""
    candidates = [os.environ.get("PODIUM_PYTHON313"), shutil.which("python3.13")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 13))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return candidate
    return None


# --- requirements and pip flags (no network) -------------------------------------------


def test_runtime_requirements_follow_pyproject() -> None:
    names = {bundling.canonical_name(r) for r in bundling.runtime_requirements()}
    assert names == RUNTIME_PACKAGES
    assert not names & set(NOT_BUNDLED)


def test_pip_command_targets_the_lambda_platform(tmp_path: Path) -> None:
    command = bundling.pip_install_command(["pydantic>=2"], tmp_path, arch="arm64")
    joined = " ".join(command)
    for flag in (
        "--only-binary=:all:",
        "--python-version 3.13",
        "--implementation cp",
        "--no-compile",
        f"--target {tmp_path}",
        "--platform manylinux2014_aarch64",
        "--platform manylinux_2_28_aarch64",
    ):
        assert flag in joined
    assert "x86_64" not in joined
    assert command[-1] == "pydantic>=2"


def test_bundle_hash_tracks_inputs(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    reqs = ["lark>=1.2"]
    base = bundling.bundle_hash(arch="arm64", requirements=reqs, source_dir=tmp_path)
    assert base == bundling.bundle_hash(arch="arm64", requirements=reqs, source_dir=tmp_path)
    assert base != bundling.bundle_hash(arch="x86_64", requirements=reqs, source_dir=tmp_path)
    assert base != bundling.bundle_hash(
        arch="arm64", requirements=["lark>=1.3"], source_dir=tmp_path
    )
    (tmp_path / "a.py").write_text("x = 2\n")
    assert base != bundling.bundle_hash(arch="arm64", requirements=reqs, source_dir=tmp_path)


def test_build_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "stale.txt").write_text("old")
    with pytest.raises(bundling.BundleError, match="not empty"):
        bundling.build_bundle(tmp_path, arch="arm64", requirements=[])


# --- one real build per session (network) ------------------------------------------------


@pytest.fixture(scope="session")
def built_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "lambda"
    try:
        bundling.build_bundle(out, arch=host_arch())
    except bundling.BundleError as exc:
        # pip cannot tell "offline" from "no such wheel" reliably, so: CI (which has
        # PyPI) fails on any error, a developer's machine skips with pip's words.
        if os.environ.get("CI"):
            raise
        tail = "\n".join(str(exc).splitlines()[-3:])
        pytest.skip(f"cannot build the Lambda bundle here (PyPI unreachable?): {tail}")
    return out


def test_bundle_holds_podium_and_its_dependencies_only(built_bundle: Path) -> None:
    assert (built_bundle / "podium" / "__init__.py").is_file()
    assert not list(built_bundle.rglob("__pycache__"))
    assert not (built_bundle / "bin").exists()
    for name in IMPORTS:
        assert (built_bundle / name).is_dir() or (built_bundle / f"{name}.py").is_file(), name
    for name in NOT_BUNDLED:
        assert not (built_bundle / name).exists(), f"{name} must not be bundled"
    for path in built_bundle.rglob("*"):
        assert path.stat().st_mode & 0o004, f"{path} is not world-readable"


def test_bundle_holds_the_console_files_the_api_serves(built_bundle: Path) -> None:
    """GET /console/app and its assets are read from the package inside the bundle."""
    static = built_bundle / "podium" / "console" / "static"
    for name in ("index.html", "app.js", "app.css", "vendor/dagre.min.js",
                 "vendor/aws4fetch.umd.js"):  # fmt: skip
        assert (static / name).is_file(), name


def test_bundle_imports_under_python313(built_bundle: Path, tmp_path: Path) -> None:
    python = find_python313()
    if python is None:
        pytest.skip("no python3.13 interpreter here (set PODIUM_PYTHON313 to one)")
    # Stand in for the boto3 that Lambda's runtime provides (pure Python packages).
    provided = tmp_path / "lambda-runtime"
    provided.mkdir()
    import importlib.util

    for name in LAMBDA_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, provided / name)
        else:
            shutil.copy(origin, provided / origin.name)
    present = [h for h in HANDLERS if (bundling.SOURCE_DIR / "handlers" / f"{h}.py").is_file()]
    modules = [*IMPORTS, "podium", *(f"podium.handlers.{h}" for h in present)]
    script = (
        "import importlib, sys\n"
        f"sys.path[:0] = [{str(built_bundle)!r}, {str(provided)!r}]\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    assert module.__file__.startswith(sys.path[0]), (name, module.__file__)\n"
        "import re2; assert re2.compile('a+b').fullmatch('aab')\n"
        "print('ok')\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "podium",
        "POWERTOOLS_METRICS_NAMESPACE": "Podium",
    }
    # -I: ignore the environment's site-packages and PYTHON* variables, like Lambda.
    result = subprocess.run(
        [python, "-I", "-B", "-c", script], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    if len(present) < len(HANDLERS):
        missing = sorted(set(HANDLERS) - set(present))
        warnings.warn(f"handlers not written yet, so not imported: {missing}", stacklevel=1)


def test_cdk_local_bundling_uses_the_same_build(built_bundle: Path, tmp_path: Path) -> None:
    """Through CDK's ILocalBundling hook (no Docker); deps come from the cache."""
    context = cdk_context()
    context.pop("podium:skipBundling")
    app = App(context=context, outdir=str(tmp_path / "cdk.out"))
    stack = Stack(app, "Bundled")
    lambda_.Function(
        stack,
        "Fn",
        code=engine_code(stack, arch=host_arch()),
        handler="podium.handlers.api.handler",
        runtime=lambda_.Runtime.PYTHON_3_13,
    )
    app.synth()
    (asset,) = (tmp_path / "cdk.out").glob("asset.*")
    assert sorted(p.name for p in asset.iterdir()) == sorted(p.name for p in built_bundle.iterdir())
    assert isinstance(LocalPipBundling(host_arch()), LocalPipBundling)
