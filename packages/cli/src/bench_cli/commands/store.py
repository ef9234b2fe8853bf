"""`bench store`: maintenance of the token store (explicit steps, one writer at a time)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bench_cli.console import StorageOptionsOption, StoreOption, console, open_store
from bench_store import optimize_set
from bench_store.maintenance import INDEX_MIN_ROWS

app = typer.Typer(help="Maintain the store: compaction and indexes.", no_args_is_help=True)


@app.command()
def optimize(
    embedding_sets: Annotated[
        list[str] | None, typer.Argument(help="Sets to optimize (default: all).")
    ] = None,
    index_min_rows: Annotated[
        int, typer.Option(help="Build the cls vector index on sets with at least this many clips.")
    ] = INDEX_MIN_ROWS,
    store: StoreOption = None,
    storage_option: StorageOptionsOption = None,
) -> None:
    """Compact embedding sets into large files, delete old versions and the files interrupted
    runs left, and index cls vectors of large sets. Run it when no extraction writes to the
    sets (it deletes unreferenced files, which a running writer may be about to commit)."""
    token_store = open_store(store, storage_option)
    names = embedding_sets or [emb.name for emb in token_store.embedding_sets()]
    table = Table(
        "embedding set", "clips", "fragments", "MB", "MB freed", "index", title="optimize"
    )
    for name in names:
        report = optimize_set(token_store.open_set(name), index_min_rows=index_min_rows)
        table.add_row(
            name,
            str(report.rows),
            f"{report.fragments_before} -> {report.fragments_after}",
            f"{report.bytes_before / 1e6:.1f} -> {report.bytes_after / 1e6:.1f}",
            f"{report.bytes_removed / 1e6:.1f}",
            "ivf-pq" if report.indexed else "-",
        )
    console.print(table)
