"""The Lambda asset: built from what pyproject declares, rebuilt when sources change, or a stub."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from waconnect_infra.application import lambda_code
from waconnect_infra.asset import (
    EXTRA,
    PLACEHOLDER_DIR,
    AssetError,
    is_current,
    read_inputs,
)

ROOT = Path(__file__).resolve().parents[2]


def copy_inputs(target: Path) -> Path:
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copytree(
        ROOT / "src" / "waconnect",
        target / "src" / "waconnect",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return target


def test_requirements_are_the_core_and_the_lambda_extra() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    inputs = read_inputs(ROOT)
    assert inputs.requirements == (
        *project["dependencies"],
        *project["optional-dependencies"][EXTRA],
    )
    assert any(r.startswith("aws-lambda-powertools") for r in inputs.requirements)
    assert not any(r.startswith(("moto", "aws-cdk-lib", "pytest")) for r in inputs.requirements)


def test_a_source_change_makes_the_built_asset_stale(tmp_path: Path) -> None:
    root = copy_inputs(tmp_path)
    asset = tmp_path / "asset"
    asset.mkdir()
    before = read_inputs(root)
    (asset / ".waconnect-asset.json").write_text(f'{{"fingerprint": "{before.fingerprint}"}}')
    assert is_current(asset, before)
    bridge = root / "src" / "waconnect" / "entrypoints" / "bridge.py"
    bridge.write_text(bridge.read_text() + "\n# changed\n")
    assert not is_current(asset, read_inputs(root))


def test_an_asset_without_a_stamp_is_not_current(tmp_path: Path) -> None:
    assert not is_current(tmp_path, read_inputs(ROOT))
    (tmp_path / ".waconnect-asset.json").write_text("not json")
    assert not is_current(tmp_path, read_inputs(ROOT))


def test_a_project_without_the_lambda_extra_is_refused(tmp_path: Path) -> None:
    root = copy_inputs(tmp_path)
    text = (root / "pyproject.toml").read_text().replace("\nlambda = [", "\nnot_lambda = [")
    (root / "pyproject.toml").write_text(text)
    with pytest.raises(AssetError, match=r"no \[lambda\] extra"):
        read_inputs(root)


def test_the_placeholder_is_tiny_and_holds_no_code() -> None:
    files = [p for p in PLACEHOLDER_DIR.rglob("*") if p.is_file()]
    assert [p.name for p in files] == ["README.txt"]
    assert files[0].stat().st_size < 1024


def test_a_missing_asset_directory_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"build_asset\.py --out"):
        lambda_code(str(tmp_path / "missing"))
