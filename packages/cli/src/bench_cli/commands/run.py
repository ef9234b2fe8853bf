"""`bench run`: every search of an experiment grid (datasets x backbones x poolings)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bench_cli.commands.tune import print_outcome
from bench_cli.console import AddressOption, StoreOption, console
from bench_cli.live import SearchBoard
from bench_core import BenchError
from bench_probes import TuneOutcome
from bench_probes.grid import GridCell, load_experiment, run_grid
from bench_store import TokenStore


def run_command(
    grid: Annotated[
        str,
        typer.Argument(help="Experiment file (configs/experiments/<grid>.yaml) or its name."),
    ],
    store: StoreOption = None,
    address: AddressOption = None,
) -> None:
    """Tune every (dataset, backbone, pooling) of the grid that has no final runs in the results
    table yet, stored under the grid's name; rerun after an interruption to continue.

    (dataset, backbone) pairs without an embedding set are listed at the end with the extract
    command that makes them; the command then exits with status 2."""
    config = load_experiment(grid)
    token_store = TokenStore(store)

    def on_outcome(cell: GridCell, outcome: TuneOutcome) -> None:
        console.print(f"{cell.dataset} / {cell.backbone} / ", end="")
        print_outcome(outcome)

    with SearchBoard() as board:
        summary = run_grid(
            config, token_store, address=address, on_progress=board, on_outcome=on_outcome
        )
    console.print(
        f"[bold]{config.name}[/]: {summary.trained} searches run, {summary.skipped} already stored"
    )
    if summary.missing:
        table = Table("dataset", "backbone", "make it with", title="no embeddings yet")
        for dataset, backbone in summary.missing:
            table.add_row(
                dataset, backbone, f"bench extract --dataset {dataset} --backbone {backbone}"
            )
        console.print(table)
        raise BenchError(
            f"{len(summary.missing)} (dataset, backbone) pairs of '{config.name}' have no "
            "embeddings in the store (listed above)"
        )
