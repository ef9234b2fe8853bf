"""`bench query`: look inside the store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bench_cli.commands.ls import sets as list_sets
from bench_cli.console import StoreOption, console
from bench_store import TokenStore

app = typer.Typer(
    help="Look inside the store: embedding sets, clips, failures.", no_args_is_help=True
)
app.command("sets")(list_sets)


@app.command()
def clips(
    embedding_set: Annotated[str, typer.Argument(help="Embedding set name (bench query sets).")],
    split: Annotated[str | None, typer.Option(help="Only this split.")] = None,
    label: Annotated[str | None, typer.Option(help="Only clips with this class name.")] = None,
    limit: Annotated[int, typer.Option(help="Show at most N clips.")] = 20,
    store: StoreOption = None,
) -> None:
    """Clips of an embedding set with their split, labels and token grid."""
    emb = TokenStore(store).open_set(embedding_set)
    names = emb.info.class_names
    filters = []
    if split:
        filters.append(f"split = '{split}'")
    if label:
        if label not in names:
            raise typer.BadParameter(f"unknown class '{label}'; classes: {', '.join(names)}")
        filters.append(f"array_has(labels, {names.index(label)})")
    scanner = emb.table.to_lance().to_table(
        columns=["clip_id", "split", "labels", "grid_t", "grid_f", "duration"],
        filter=" AND ".join(filters) or None,
        limit=limit,
    )
    table = Table("clip", "split", "labels", "grid (T x F)", "seconds", title=embedding_set)
    for row in scanner.to_pylist():
        table.add_row(
            row["clip_id"],
            row["split"],
            ", ".join(names[i] for i in row["labels"]),
            f"{row['grid_t']} x {row['grid_f']}",
            f"{row['duration']:.2f}",
        )
    console.print(table)


@app.command()
def failures(
    embedding_set: Annotated[str | None, typer.Argument(help="Only failures of this set.")] = None,
    store: StoreOption = None,
) -> None:
    """Clips that failed during extraction, with stage and reason."""
    table = Table("embedding set", "clip", "stage", "reason", title="failures")
    for row in TokenStore(store).failures(embedding_set):
        table.add_row(row["embedding_set"], row["clip_id"], row["stage"], row["reason"])
    console.print(table)
