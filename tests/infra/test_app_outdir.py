"""``python app.py`` writes its templates where docs/deploy.md says: CDK_OUTDIR, else cdk.out."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App

import app as direct_app


def _synth_without_stacks(monkeypatch: pytest.MonkeyPatch) -> list[App]:
    built: list[App] = []
    monkeypatch.setattr(direct_app, "build_app", built.append)
    assert direct_app.main([]) == 0
    return built


def test_a_direct_run_writes_to_cdk_out_beside_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CDK_OUTDIR", raising=False)
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setattr(direct_app, "DEFAULT_OUTDIR", tmp_path / "cdk.out")
    (app,) = _synth_without_stacks(monkeypatch)
    assert Path(app.outdir) == tmp_path / "cdk.out"
    assert (tmp_path / "cdk.out" / "manifest.json").is_file()


def test_cdk_outdir_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    monkeypatch.setattr(direct_app, "DEFAULT_OUTDIR", tmp_path / "cdk.out")
    (app,) = _synth_without_stacks(monkeypatch)
    assert Path(app.outdir) == tmp_path / "elsewhere"
    assert (tmp_path / "elsewhere" / "manifest.json").is_file()
    assert not (tmp_path / "cdk.out").exists()


def test_the_default_is_the_cli_s_directory_beside_app_py() -> None:
    assert Path(direct_app.__file__).with_name("cdk.out") == direct_app.DEFAULT_OUTDIR
