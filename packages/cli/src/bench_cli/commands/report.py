"""`bench report`: final results per dataset as backbone x pooling tables (mean ± sd)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from bench_cli.console import StoreOption, console
from bench_store import ResultSummary, TokenStore, summarize_runs


def results_tables(summaries: list[ResultSummary]) -> list[Table]:
    """One table per dataset: rows backbones, columns poolings, best mean of each row in bold."""
    tables = []
    for dataset in sorted({s.dataset for s in summaries}):
        rows = [s for s in summaries if s.dataset == dataset]
        poolings = sorted({s.pooling for s in rows})
        metric = rows[0].metric
        table = Table(title=f"{dataset} — test {metric} (%), mean ± sd over seeds")
        table.add_column("backbone", style="bold")
        for pooling in poolings:
            table.add_column(pooling, justify="right")
        for backbone in sorted({s.backbone for s in rows}):
            cells = {s.pooling: s for s in rows if s.backbone == backbone}
            best = max(cells.values(), key=lambda s: s.mean).pooling
            values = []
            for pooling in poolings:
                cell = cells.get(pooling)
                if cell is None:
                    values.append("-")
                    continue
                text = f"{100 * cell.mean:.2f} ± {100 * cell.sd:.2f}"
                values.append(f"[bold green]{text}[/]" if pooling == best else text)
            table.add_row(backbone, *values)
        tables.append(table)
    return tables


def report_command(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON instead.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Show the final (seeded) results of every tuned (dataset, backbone, pooling)."""
    filters = {"dataset": dataset} if dataset else {}
    summaries = summarize_runs(TokenStore(store).runs(**filters))
    if as_json:
        typer.echo(json.dumps([asdict(s) for s in summaries], indent=2))
        return
    if not summaries:
        console.print("no final results yet: run `bench tune` (or `bench demo`) first")
        return
    for table in results_tables(summaries):
        console.print(table)
