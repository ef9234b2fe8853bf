"""`bench query`: look inside the store (the same functions as `bench_store.query`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bench_cli.console import StorageOptionsOption, StoreOption, console, open_store
from bench_store import EmbeddingSet
from bench_store.query import (
    ClipQuery,
    ExportFormat,
    describe_sets,
    export_clips,
    neighbours,
    select_clips,
)

app = typer.Typer(
    help="Look inside the store: embedding sets, clips, neighbours, exports, failures.",
    no_args_is_help=True,
)

SetArgument = Annotated[str, typer.Argument(help="Embedding set name (bench query sets).")]
SplitOption = Annotated[str | None, typer.Option(help="Only this split.")]
LabelOption = Annotated[
    list[str] | None, typer.Option("--label", help="Only clips with this class (repeatable: any).")
]
IdOption = Annotated[list[str] | None, typer.Option("--id", help="Only this clip (repeatable).")]


def _query(split: str | None, label: list[str] | None, clip_id: list[str] | None) -> ClipQuery:
    return ClipQuery(split=split, labels=tuple(label or ()), clip_ids=tuple(clip_id or ()))


def _label_names(emb: EmbeddingSet, indices: list[int]) -> str:
    return ", ".join(emb.info.class_names[i] for i in indices)


@app.command()
def sets(
    store: StoreOption = None,
    storage_option: StorageOptionsOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON, with full identities.")
    ] = False,
) -> None:
    """Embedding sets in the store with their identity and size."""
    token_store = open_store(store, storage_option)
    overviews = describe_sets(token_store)
    if as_json:
        identities = {emb.name: emb.identity for emb in token_store.embedding_sets()}
        rows = [{**asdict(o), "identity": identities[o.name]} for o in overviews]
        console.print_json(json.dumps(rows))
        return
    table = Table(
        "embedding set",
        "dataset",
        "backbone",
        "layers",
        "dtype",
        "clips",
        "MB",
        "weights",
        "identity",
        "index",
        title=f"store {token_store.uri}",
    )
    for o in overviews:
        table.add_row(
            o.name,
            o.dataset,
            o.backbone,
            ",".join(map(str, o.layers)),
            o.dtype,
            str(o.clips),
            f"{o.bytes / 1e6:.1f}",
            o.weights,
            o.identity_hash[:12],
            "ivf-pq" if o.indexed else "-",
        )
    console.print(table)


@app.command()
def clips(
    embedding_set: SetArgument,
    split: SplitOption = None,
    label: LabelOption = None,
    clip_id: IdOption = None,
    limit: Annotated[int, typer.Option(help="Show at most N clips.")] = 20,
    store: StoreOption = None,
    storage_option: StorageOptionsOption = None,
) -> None:
    """Clips of an embedding set with their split, labels and token grid."""
    emb = open_store(store, storage_option).open_set(embedding_set)
    rows = select_clips(emb, _query(split, label, clip_id), limit=limit).to_pylist()
    table = Table("clip", "split", "labels", "grid (T x F)", "seconds", title=embedding_set)
    for row in rows:
        table.add_row(
            row["clip_id"],
            row["split"],
            _label_names(emb, row["labels"]),
            f"{row['grid_t']} x {row['grid_f']}",
            f"{row['duration']:.2f}",
        )
    console.print(table)


@app.command("neighbours")
def neighbours_command(
    embedding_set: SetArgument,
    clip_id: Annotated[str, typer.Argument(help="The clip whose neighbours to find.")],
    k: Annotated[int, typer.Option("-k", help="How many neighbours.")] = 10,
    store: StoreOption = None,
    storage_option: StorageOptionsOption = None,
) -> None:
    """Nearest clips by cosine distance of their cls (or mean) vectors."""
    emb = open_store(store, storage_option).open_set(embedding_set)
    table = Table("clip", "split", "labels", "cosine distance", title=f"neighbours of {clip_id}")
    for row in neighbours(emb, clip_id, k).to_pylist():
        table.add_row(
            row["clip_id"],
            row["split"],
            _label_names(emb, row["labels"]),
            f"{row['_distance']:.4f}",
        )
    console.print(table)


@app.command("export")
def export_command(
    embedding_set: SetArgument,
    output: Annotated[Path, typer.Argument(help="File to write.")],
    file_format: Annotated[
        ExportFormat, typer.Option("--format", help="parquet, or arrow (IPC file).")
    ] = ExportFormat.PARQUET,
    split: SplitOption = None,
    label: LabelOption = None,
    clip_id: IdOption = None,
    tokens: Annotated[
        bool, typer.Option("--tokens/--no-tokens", help="Include token and cls arrays.")
    ] = True,
    store: StoreOption = None,
    storage_option: StorageOptionsOption = None,
) -> None:
    """Write a selection of clips to Parquet or Arrow; the file keeps the set's identity."""
    emb = open_store(store, storage_option).open_set(embedding_set)
    rows = export_clips(
        emb, output, _query(split, label, clip_id), file_format=file_format, with_tokens=tokens
    )
    console.print(f"{rows} clips of {embedding_set} written to {output}")


@app.command()
def failures(
    embedding_set: Annotated[str | None, typer.Argument(help="Only failures of this set.")] = None,
    store: StoreOption = None,
    storage_option: StorageOptionsOption = None,
) -> None:
    """Clips whose latest extraction attempt failed, with stage and reason."""
    table = Table("embedding set", "clip", "stage", "reason", title="failures")
    for row in open_store(store, storage_option).failures(embedding_set):
        table.add_row(row["embedding_set"], row["clip_id"], row["stage"], row["reason"])
    console.print(table)
