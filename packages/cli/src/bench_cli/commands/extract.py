"""`bench extract`: token maps of a dataset through a frozen backbone into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench_cli.console import AddressOption, ProgressTracker, StoreOption, console
from bench_extract import ExtractOptions, ExtractSummary, extract
from bench_store import TokenDType, TokenStore


def extract_command(
    dataset: Annotated[str, typer.Option(help="Dataset config name (bench ls datasets).")],
    backbone: Annotated[str, typer.Option(help="Backbone name (bench ls backbones).")],
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Official checkpoint file; default: the backbone's env variable."),
    ] = None,
    random_weights: Annotated[
        bool,
        typer.Option("--random-weights", help="Use seeded random weights (tests, smoke runs)."),
    ] = False,
    preset: Annotated[
        str, typer.Option(help="Architecture size preset (base, or tiny for tests).")
    ] = "base",
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
    limit: Annotated[int | None, typer.Option(help="Extract at most N missing clips.")] = None,
    store: StoreOption = None,
    address: AddressOption = None,
) -> None:
    """Extract token maps into the store; clips already stored with the same identity are skipped,
    so an interrupted run resumes by running the same command again."""
    token_store = TokenStore(store)
    with ProgressTracker(f"{backbone} on {dataset}", "clips") as on_progress:
        summary = extract(
            dataset,
            backbone,
            store=token_store,
            checkpoint=checkpoint,
            random_weights=random_weights,
            preset=preset,
            seed=seed,
            layers=layers,
            dtype=dtype,
            data_root=data_root,
            options=ExtractOptions(
                batch_size=batch_size,
                num_actors=actors,
                num_gpus_per_actor=gpus_per_actor,
                limit=limit,
            ),
            address=address,
            progress=on_progress,
        )
    print_summary(summary)


def print_summary(summary: ExtractSummary) -> None:
    console.print(
        f"[bold]{summary.embedding_set}[/]: {summary.written} clips written "
        f"({summary.clips_per_second:.1f} clips/s), {summary.already_stored} already stored, "
        f"{len(summary.failures) + summary.dataset_problems} failed, {summary.total_clips} in the dataset"
    )
    for failure in summary.failures[:10]:
        console.print(
            f"  [red]failed[/] {failure['clip_id']} ({failure['stage']}): {failure['reason']}"
        )
    if len(summary.failures) > 10:
        console.print(f"  ... and {len(summary.failures) - 10} more (bench query failures)")
