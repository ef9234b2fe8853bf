"""`bench ls datasets`: every shipped dataset, its root, clip count, problems and task kind."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench_cli.app import app
from bench_core import list_configs
from tests.audio.layouts import make_birdset, make_fsd50k

PAPER_DATASETS = {
    "as20k",
    "fsd50k",
    "desed",
    "spass",
    "urban",
    "hsn",
    "pow",
    "per",
    "nes",
    "sne",
    "uhh",
    "nbp",
    "esc50",
    "sc2",
}


def test_ls_datasets_shows_roots_counts_and_kinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert PAPER_DATASETS | {"as2m", "manifest", "synthetic"} <= set(list_configs("datasets"))
    for name in (
        "BENCH_ESC50_ROOT",
        "BENCH_AUDIOSET_ROOT",
        "BENCH_SC2_ROOT",
        "BENCH_URBANSED_ROOT",
        "BENCH_DESED_ROOT",
        "BENCH_SPASS_ROOT",
        "BENCH_MANIFEST_ROOT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BENCH_FSD50K_ROOT", str(make_fsd50k(tmp_path / "FSD50K", bad=True)))
    monkeypatch.setenv("BENCH_BIRDSET_ROOT", str(make_birdset(tmp_path / "birdset")))
    result = CliRunner(env={"COLUMNS": "400"}).invoke(app, ["ls", "datasets"])
    assert result.exit_code == 0, result.output
    rows = {
        line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:]]
        for line in result.output.splitlines()
        if line.count("│") > 5
    }
    fsd = rows["fsd50k"]
    assert fsd[1] == str(tmp_path / "FSD50K") and fsd[2:5] == [
        "6",
        "2",
        "multilabel",
    ]  # corrupt 103 fails at decode
    assert rows["hsn"][2:5] == ["21", "0", "multilabel"]  # 16 event windows + 5 test segments
    assert "no PER/ folder" in rows["per"][1] and rows["per"][4] == "multilabel"
    assert "BENCH_ESC50_ROOT" in rows["esc50"][1] and rows["esc50"][4] == "multiclass"
    assert rows["synthetic"][1] == "built in" and rows["desed"][4] == "multilabel"
