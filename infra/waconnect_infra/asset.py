"""The Lambda functions' code asset, built without Docker: pip's cross-platform install for arm64.

``python infra/build_asset.py`` installs the project's runtime dependencies (the core plus the
``lambda`` extra, as ``pyproject.toml`` declares them) from manylinux wheels for the functions'
architecture and Python version, then copies the ``waconnect`` package beside them. Only wheels are
accepted (``--only-binary=:all:``): nothing is compiled here, so the machine that builds needs no
compiler and can be any architecture. A stamp records what the asset was built from; the CDK app
rebuilds when the sources or dependencies changed.

The placeholder asset is a small directory that cannot run: synthesizing with
``-c asset=placeholder`` makes templates for tests and reviews in seconds, never for deploying.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

PYTHON_VERSION = "3.14"
PLATFORM = "manylinux_2_28_aarch64"
EXTRA = "lambda"
STAMP = ".waconnect-asset.json"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ASSET_DIR = REPO_ROOT / "infra" / "build" / "lambda"
PLACEHOLDER_DIR = Path(__file__).resolve().parent / "placeholder"
# Never shipped: byte code is recompiled for the runtime anyway, and the tests are not needed.
_SKIPPED = ("__pycache__", "*.pyc")


class AssetError(RuntimeError):
    """The asset could not be built; the message says what pip or the sources reported."""


@dataclass(frozen=True, slots=True)
class AssetInputs:
    """What the asset is built from: the declared requirements and the package's sources."""

    requirements: tuple[str, ...]
    fingerprint: str


def read_inputs(root: Path = REPO_ROOT) -> AssetInputs:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    if EXTRA not in extras:
        raise AssetError(f"pyproject.toml declares no [{EXTRA}] extra")
    requirements = (*project["dependencies"], *extras[EXTRA])
    digest = hashlib.sha256()
    digest.update(json.dumps([PYTHON_VERSION, PLATFORM, requirements]).encode())
    package = root / "src" / "waconnect"
    for path in sorted(package.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return AssetInputs(requirements=tuple(requirements), fingerprint=digest.hexdigest())


def is_current(asset_dir: Path, inputs: AssetInputs) -> bool:
    stamp = asset_dir / STAMP
    if not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text()).get("fingerprint")
    except (OSError, ValueError):
        return False
    return bool(recorded == inputs.fingerprint)


def build(asset_dir: Path = DEFAULT_ASSET_DIR, root: Path = REPO_ROOT) -> Path:
    """Build the asset into ``asset_dir`` (replacing it) and return the directory."""
    inputs = read_inputs(root)
    staging = asset_dir.with_name(asset_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--platform", PLATFORM, "--implementation", "cp",
        "--python-version", PYTHON_VERSION, "--only-binary=:all:",
        "--target", str(staging), *inputs.requirements,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise AssetError(f"pip could not install the Lambda dependencies:\n{result.stderr}")
    shutil.copytree(
        root / "src" / "waconnect",
        staging / "waconnect",
        ignore=shutil.ignore_patterns(*_SKIPPED),
    )
    for cache in list(staging.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    (staging / STAMP).write_text(json.dumps({"fingerprint": inputs.fingerprint}) + "\n")
    shutil.rmtree(asset_dir, ignore_errors=True)
    staging.rename(asset_dir)
    return asset_dir


def ensure_built(asset_dir: Path = DEFAULT_ASSET_DIR, root: Path = REPO_ROOT) -> Path:
    """The asset directory, built first when missing or older than the sources."""
    if not is_current(asset_dir, read_inputs(root)):
        build(asset_dir, root)
    return asset_dir


def size_bytes(asset_dir: Path) -> int:
    return sum(path.stat().st_size for path in asset_dir.rglob("*") if path.is_file())
