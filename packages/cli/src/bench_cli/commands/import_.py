"""`bench import`: token maps computed elsewhere -> an embedding set, ready for `bench tune`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench_cli.console import StoreOption, console
from bench_extract import TokenLayout, import_tokens
from bench_store import TokenDType, TokenStore


def import_command(
    source: Annotated[
        Path,
        typer.Argument(
            help="A folder of <clip_id>.npy/.npz files, an .h5/.hdf5 file with one dataset per "
            "clip, or a .parquet file with a clip-id column and a nested list column."
        ),
    ],
    backbone: Annotated[
        str, typer.Option(help="Name of the model that made the tokens (bench tune --backbone).")
    ],
    layout: Annotated[
        TokenLayout,
        typer.Option(
            help="Axes of each clip's array: TD (time x dim), TFD (time x freq x dim) or LTFD "
            "(layers x time x freq x dim)."
        ),
    ],
    dataset: Annotated[
        str | None, typer.Option(help="Dataset config whose reader gives labels and splits.")
    ] = None,
    data_root: Annotated[Path | None, typer.Option(help="Root of that dataset.")] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(help="Or a .jsonl/.csv label manifest: clip_id, split, labels[, fold]."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Dataset name of a manifest (default: its file name).")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="The array in .npz files (default: tokens), the HDF5 group (default: the root), "
            "or the Parquet list column (default: tokens)."
        ),
    ] = None,
    id_column: Annotated[str, typer.Option(help="Parquet column of clip ids.")] = "clip_id",
    dtype: Annotated[TokenDType, typer.Option(help="Storage dtype of tokens.")] = TokenDType.FP16,
    store: StoreOption = None,
) -> None:
    """Register token maps computed elsewhere as an embedding set. Every clip's shape is checked
    against --layout before anything is written; importing the same source again adds nothing."""
    summary = import_tokens(
        source,
        backbone,
        layout,
        dataset=dataset,
        data_root=data_root,
        manifest=manifest,
        name=name,
        key=key,
        id_column=id_column,
        store=TokenStore(store),
        dtype=dtype,
    )
    console.print(
        f"[bold]{summary.embedding_set}[/]: {summary.written} clips imported, "
        f"{summary.already_stored} already stored, {len(summary.failures)} failed "
        f"(of {summary.source_clips} in the source), "
        f"{len(summary.missing)} clips of the dataset have no token map "
        f"({summary.seconds:.1f} s)"
    )
    for failure in summary.failures[:10]:
        console.print(f"  [red]failed[/] {failure['clip_id']}: {failure['reason']}")
    if summary.missing:
        shown = ", ".join(summary.missing[:10])
        more = f" ... and {len(summary.missing) - 10} more" if len(summary.missing) > 10 else ""
        console.print(f"  [yellow]missing[/] {shown}{more} (bench query failures)")
