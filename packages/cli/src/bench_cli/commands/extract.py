"""`bench extract`: token maps of a dataset through a frozen backbone into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bench_cli.console import (
    AddressOption,
    CheckpointOption,
    PresetOption,
    ProgressTracker,
    RandomWeightsOption,
    StorageOptionsOption,
    StoreOption,
    console,
    err_console,
    open_store,
)
from bench_extract import ExtractEstimate, ExtractOptions, ExtractSummary, estimate, extract
from bench_store import TokenDType


def extract_command(
    dataset: Annotated[str, typer.Option(help="Dataset config name (bench ls datasets).")],
    backbone: Annotated[str, typer.Option(help="Backbone name (bench ls backbones).")],
    checkpoint: CheckpointOption = None,
    random_weights: RandomWeightsOption = False,
    preset: PresetOption = "base",
    seed: Annotated[int, typer.Option(help="Seed of random weights.")] = 0,
    layers: Annotated[
        list[int] | None,
        typer.Option("--layer", help="Encoder layer(s) to store (repeatable; -1 = last)."),
    ] = None,
    dtype: Annotated[TokenDType, typer.Option(help="Storage dtype of tokens.")] = TokenDType.FP16,
    data_root: Annotated[
        Path | None, typer.Option(help="Dataset root (overrides the env variable).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Clips per encoder batch.")] = 16,
    actors: Annotated[int, typer.Option(help="Encoder actors (one per GPU on GPU machines).")] = 1,
    gpus_per_actor: Annotated[float, typer.Option(help="GPUs per encoder actor (0 = CPU).")] = 0.0,
    cpus_per_actor: Annotated[
        float, typer.Option(help="CPUs (and torch threads) per encoder actor.")
    ] = 1.0,
    write_every: Annotated[int, typer.Option(help="Clips per written fragment.")] = 64,
    limit: Annotated[int | None, typer.Option(help="Extract at most N missing clips.")] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Measure a few clips and print sizes and time; write nothing."
        ),
    ] = False,
    store: StoreOption = None,
    storage_option: StorageOptionsOption = None,
    address: AddressOption = None,
) -> None:
    """Extract token maps into the store; clips already stored with the same identity are skipped,
    so an interrupted run resumes by running the same command again."""
    token_store = open_store(store, storage_option)
    options = ExtractOptions(
        batch_size=batch_size,
        num_actors=actors,
        num_gpus_per_actor=gpus_per_actor,
        cpus_per_actor=cpus_per_actor,
        write_every=write_every,
        limit=limit,
    )
    common = dict(
        store=token_store,
        checkpoint=checkpoint,
        random_weights=random_weights,
        preset=preset,
        seed=seed,
        layers=layers,
        dtype=dtype,
        data_root=data_root,
        options=options,
    )
    if dry_run:
        print_estimate(estimate(dataset, backbone, **common))
        return
    try:
        with ProgressTracker(f"{backbone} on {dataset}", "clips") as on_progress:
            summary = extract(dataset, backbone, address=address, progress=on_progress, **common)
    except KeyboardInterrupt:
        err_console.print(
            "[yellow]interrupted:[/] committed clips are kept; run the same command to continue"
        )
        raise typer.Exit(130) from None
    print_summary(summary)


def print_summary(summary: ExtractSummary) -> None:
    console.print(
        f"[bold]{summary.embedding_set}[/]: {summary.written} clips written "
        f"({summary.clips_per_second:.1f} clips/s), {summary.already_stored} already stored, "
        f"{len(summary.failures) + summary.dataset_problems} failed, {summary.total_clips} in the dataset"
    )
    if len(summary.nodes) > 1:
        console.print(f"  encoded on {len(summary.nodes)} Ray nodes")
    for failure in summary.failures[:10]:
        console.print(
            f"  [red]failed[/] {failure['clip_id']} ({failure['stage']}): {failure['reason']}"
        )
    if len(summary.failures) > 10:
        console.print(f"  ... and {len(summary.failures) - 10} more (bench query failures)")


def print_estimate(result: ExtractEstimate) -> None:
    table = Table("", "", title=f"dry run: {result.embedding_set}", show_header=False)
    table.add_row("clips in the dataset", str(result.total_clips))
    table.add_row("already stored", str(result.already_stored))
    table.add_row("to extract", str(result.to_extract))
    table.add_row("bytes per clip", f"{result.bytes_per_clip / 1e3:.1f} kB")
    table.add_row("total size", f"{result.total_bytes / 1e9:.3f} GB")
    table.add_row(
        "measured on",
        f"{result.sample_clips} clips ({result.sample_failures} failed): "
        f"decode {1e3 * result.decode_seconds_per_clip:.1f} ms/clip, "
        f"encode {1e3 * result.encode_seconds_per_clip:.1f} ms/clip",
    )
    table.add_row("estimated time", f"{_duration(result.estimated_seconds)} (+ start-up)")
    console.print(table)


def _duration(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"
