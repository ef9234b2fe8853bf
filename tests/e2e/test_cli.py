"""The whole loop through the `bench` command line."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from bench_cli.app import app
from bench_cli.plots import FIGURE_PIXELS
from bench_encoders import birdnet_available

runner = CliRunner(env={"COLUMNS": "240"})


def bench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The installed entry point in a fresh process, as a user runs it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "bench"), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_missing_dataset_and_checkpoint_fail_with_a_clear_message(tmp_path: Path) -> None:
    env = {"BENCH_ESC50_ROOT": "", "BENCH_EAT_CHECKPOINT": "", "BENCH_STORE": str(tmp_path / "s")}
    result = bench("extract", "--backbone", "eat", "--dataset", "esc50", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "BENCH_ESC50_ROOT" in result.stderr and "--data-root" in result.stderr

    (tmp_path / "esc").mkdir()
    result = bench(
        "extract",
        "--backbone",
        "eat",
        "--dataset",
        "esc50",
        "--data-root",
        str(tmp_path / "esc"),
        env=env,
    )
    assert result.returncode == 2 and "meta/esc50.csv" in result.stderr

    from tests.audio.layouts import make_esc50

    root = make_esc50(tmp_path / "ESC-50")
    result = bench(
        "extract", "--backbone", "eat", "--dataset", "esc50", "--data-root", str(root), env=env
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "BENCH_EAT_CHECKPOINT" in result.stderr and "--random-weights" in result.stderr


def test_help_of_every_command() -> None:
    for command in (
        [],
        ["extract"],
        ["tune"],
        ["train"],
        ["report"],
        ["run"],
        ["query"],
        ["demo"],
        ["ls"],
    ):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, result.output
    assert "--random-weights" in runner.invoke(app, ["extract", "--help"]).output


@pytest.mark.slow
@pytest.mark.usefixtures("ray_session")
def test_demo_end_to_end_then_report_and_ls(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = runner.invoke(
        app,
        [
            "demo",
            "--workdir",
            str(workdir),
            "--clips",
            "60",
            "--trials",
            "2",
            "--epochs",
            "3",
            "--seeds",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "linear" in result.output and "protobin" in result.output
    figures = sorted((workdir / "plots").iterdir())
    assert [f.name for f in figures] == ["synthetic_bars.png", "synthetic_heatmap.png"]
    for figure in figures:
        assert f"figure: {figure}" in result.output.replace("\n", "")
        with Image.open(figure) as image:
            image.verify()
        with Image.open(figure) as image:
            assert image.format == "PNG" and image.size == FIGURE_PIXELS

    store = str(workdir / "store")
    report = runner.invoke(app, ["report", "--json", "--store", store])
    assert report.exit_code == 0, report.output
    rows = json.loads(report.output)["results"]
    assert {r["pooling"] for r in rows} == {"linear", "protobin"}
    for row in rows:
        assert row["dataset"] == "synthetic" and row["metric"] == "map" and row["n"] == 2
        assert 0 < row["mean"] <= 1 and math.isfinite(row["sd"])
    from bench_store import TokenStore

    runs = TokenStore(store).runs()
    assert {r.kind for r in runs} == {"trial", "final"}
    finals = [r for r in runs if r.kind == "final"]
    # numbers come from training: the seeds give different models, hence (almost surely) different scores
    assert len({round(r.test_score, 12) for r in finals}) > 1
    assert all(r.hparams["lr"] > 0 and r.train_seconds > 0 for r in runs)

    for listing in (
        ["ls", "sets"],
        ["ls", "runs"],
        ["ls", "backbones"],
        ["ls", "datasets"],
        ["ls", "poolings"],
    ):
        out = runner.invoke(
            app, [*listing, "--store", store] if listing[1] in {"sets", "runs"} else listing
        )
        assert out.exit_code == 0, out.output
    sets = runner.invoke(app, ["query", "sets", "--store", store]).output
    backbone = "birdnet" if birdnet_available() else "eat"  # the demo's real model where installed
    assert f"emb__synthetic__{backbone}" in sets
    name = TokenStore(store).embedding_sets()[0].name
    clips = runner.invoke(
        app, ["query", "clips", name, "--split", "test", "--label", "chirp_up", "--store", store]
    )
    assert clips.exit_code == 0 and "chirp_up" in clips.output

    again = runner.invoke(
        app,
        [
            "extract",
            "--dataset",
            "synthetic",
            "--backbone",
            "eat",
            "--random-weights",
            "--preset",
            "tiny",
            "--store",
            store,
            "--data-root",
            str(workdir / "data"),
        ],
    )
    assert again.exit_code == 0, again.output
