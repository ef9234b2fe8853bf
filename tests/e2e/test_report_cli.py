"""`bench report` on a results table written by hand: tables, Markdown, JSON and PNG figures."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from bench_cli.app import app
from bench_cli.plots import FIGURE_PIXELS
from bench_store import RunRecord, TokenStore

runner = CliRunner(env={"COLUMNS": "240"})

# test mAP per (dataset, backbone, pooling), each over two seeds (+- 0.01)
MEANS = {
    ("as20k", "eat", "linear"): 0.17,
    ("as20k", "eat", "protobin"): 0.32,
    ("as20k", "beats", "linear"): 0.25,
    ("as20k", "beats", "protobin"): 0.31,
    ("hsn", "eat", "linear"): 0.30,
    ("hsn", "eat", "protobin"): 0.45,
    ("hsn", "beats", "linear"): 0.20,
    ("hsn", "beats", "protobin"): 0.41,
}


def final_run(dataset: str, backbone: str, pooling: str, score: float, seed: int) -> RunRecord:
    return RunRecord(
        experiment="paper",
        kind="final",
        dataset=dataset,
        backbone=backbone,
        pooling=pooling,
        embedding_set=f"emb__{dataset}__{backbone}",
        identity_hash="h",
        hparams={"lr": 1e-2, "weight_decay": 1e-4},
        seed=seed,
        metric="map",
        valid_score=score,
        test_score=score,
        metrics={},
        epochs=30,
        train_seconds=1.0,
    )


def results_store(tmp_path: Path) -> str:
    store = TokenStore(str(tmp_path / "db"))
    store.add_runs(
        final_run(*key, mean + delta, seed)
        for key, mean in MEANS.items()
        for seed, delta in ((0, -0.01), (1, 0.01))
    )
    return store.uri


def test_report_tables_markdown_and_json(tmp_path: Path) -> None:
    store = results_store(tmp_path)
    shown = runner.invoke(app, ["report", "--store", store])
    assert shown.exit_code == 0, shown.output
    for title in (
        "as20k — test mAP",
        "general audio — mean test mAP",
        "bioacoustics",
        "wins",
        "ranks",
    ):
        assert title in shown.output
    assert "32.00 ± 1.41" in shown.output  # mean ± sd of 0.31 and 0.33

    markdown = runner.invoke(app, ["report", "--store", store, "--markdown"])
    assert markdown.exit_code == 0, markdown.output
    assert "| backbone | linear | protobin |" in markdown.output
    assert "| eat | 17.00 ± 1.41 | **32.00 ± 1.41** |" in markdown.output
    assert "| eat | 17.00 (1/5) | **32.00 (1/5)** |" in markdown.output  # general audio
    # ranks of the backbones under linear -> protobin: beats drops on as20k, hsn unchanged
    assert "| beats | **1 → 2 (-1)** | 2 → 2 (+0) |" in markdown.output

    report = json.loads(runner.invoke(app, ["report", "--store", store, "--json"]).stdout)
    assert len(report["results"]) == len(MEANS)
    assert report["win_matrix"] == {"poolings": ["linear", "protobin"], "wins": [[0, 0], [4, 0]]}
    general = [m for m in report["group_means"] if m["group"] == "general audio"]
    assert {(m["backbone"], m["pooling"]) for m in general} == {
        (b, p) for d, b, p in MEANS if d == "as20k"
    }
    assert all(m["datasets"] == 1 and m["group_size"] == 5 for m in general)
    ranks = {(c["dataset"], c["backbone"]): c["change"] for c in report["rank_changes"]}
    assert ranks == {
        ("as20k", "eat"): 1,
        ("as20k", "beats"): -1,
        ("hsn", "eat"): 0,
        ("hsn", "beats"): 0,
    }


def test_report_writes_png_figures(tmp_path: Path) -> None:
    store = results_store(tmp_path)
    result = runner.invoke(app, ["report", "--store", store, "--plot", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["as20k_bars.png", "as20k_heatmap.png", "hsn_bars.png", "hsn_heatmap.png"]
    for name in names:
        assert f"{name}" in result.output
        with Image.open(tmp_path / "plots" / name) as image:
            image.verify()  # a complete, valid PNG
        with Image.open(tmp_path / "plots" / name) as image:
            assert image.format == "PNG" and image.size == FIGURE_PIXELS
            colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
            assert colours is None or len(colours) > 50  # drawn, not blank
