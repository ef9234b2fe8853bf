"""`bench report`: the final (seeded) results as the paper reads them: backbone x pooling tables per
dataset, averages over dataset groups, the pooling-vs-pooling win matrix and the backbone rank
changes from linear probing to protobin; as rich tables, Markdown, JSON and PNG figures."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from bench_cli.console import StoreOption, console, err_console
from bench_cli.plots import write_plots
from bench_cli.report_sections import (
    RANK_AFTER,
    RANK_BEFORE,
    report_sections,
    to_markdown,
    to_rich,
)
from bench_probes.grid import load_experiment
from bench_store import (
    ResultSummary,
    TokenStore,
    group_means,
    rank_changes,
    summarize_runs,
    win_matrix,
)


def report_json(summaries: list[ResultSummary], groups: dict[str, list[str]]) -> dict[str, Any]:
    """Everything the tables show, as plain data."""
    return {
        "results": [asdict(s) for s in summaries],
        "group_means": [asdict(m) for m in group_means(summaries, groups)],
        "win_matrix": asdict(win_matrix(summaries)),
        "rank_changes": [
            {**asdict(c), "change": c.change, "from": RANK_BEFORE, "to": RANK_AFTER}
            for c in rank_changes(summaries, RANK_BEFORE, RANK_AFTER)
        ],
    }


def report_command(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    experiment: Annotated[
        str | None, typer.Option(help="Only runs stored under this experiment name.")
    ] = None,
    groups: Annotated[
        str,
        typer.Option(
            help="Experiment config (name or path) whose dataset groups are averaged over."
        ),
    ] = "paper",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON instead.")
    ] = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print Markdown tables instead.")
    ] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Also write PNG figures (heatmaps, bars) into this folder.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Show the final (seeded) results of every tuned (dataset, backbone, pooling)."""
    filters = {
        k: v for k, v in {"dataset": dataset, "experiment": experiment}.items() if v is not None
    }
    summaries = summarize_runs(TokenStore(store).runs(**filters))
    dataset_groups = load_experiment(groups).groups
    if plot is not None:
        # with --json or --markdown stdout is a document: the file list goes to stderr
        out = err_console if as_json or markdown else console
        for path in write_plots(summaries, plot):
            out.print(f"wrote {path}")
    if as_json:
        typer.echo(json.dumps(report_json(summaries, dataset_groups), indent=2))
        return
    if not summaries:
        console.print("no final results yet: run `bench tune` (or `bench demo`) first")
        return
    sections = report_sections(summaries, dataset_groups)
    if markdown:
        typer.echo("\n".join(to_markdown(s) for s in sections))
        return
    for section in sections:
        console.print(to_rich(section))
