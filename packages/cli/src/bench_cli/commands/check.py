"""`bench check-backbone`: run an encoder on random audio and check what the store relies on."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bench_cli.console import CheckpointOption, PresetOption, RandomWeightsOption, console
from bench_encoders import create_encoder
from bench_encoders.check import CheckReport, check_encoder


def check_backbone_command(
    name: Annotated[
        str, typer.Argument(help="Backbone name (bench ls backbones) or hf:<dir or id>.")
    ],
    checkpoint: CheckpointOption = None,
    random_weights: RandomWeightsOption = False,
    preset: PresetOption = "base",
    device: Annotated[
        str | None, typer.Option(help="cpu, cuda, cuda:1, ... (default: CUDA when present).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Clips per batch in the throughput run.")] = 4,
    repeats: Annotated[int, typer.Option(help="Timed throughput runs (the best counts).")] = 3,
    tolerance: Annotated[
        float | None,
        typer.Option(help="Relative tolerance of padding/layer checks (default by precision)."),
    ] = None,
) -> None:
    """Random audio shorter than a window, of exactly one window and of several windows: checks
    shapes and valid-token counts, dtype, determinism, padding invariance and layer selection,
    and reports throughput (clips/s). Exits with status 1 if a check fails."""
    encoder, _ = create_encoder(
        name, checkpoint=checkpoint, random_weights=random_weights, preset=preset
    )
    encoder.prepare(device)
    report = check_encoder(encoder, tolerance=tolerance, batch_size=batch_size, repeats=repeats)
    print_report(report)
    if not report.passed:
        raise typer.Exit(1)


def print_report(report: CheckReport) -> None:
    info = report.info
    cls = "cls token" if info.has_cls else "mean of tokens as cls"
    console.print(
        f"[bold]{info.name}[/] (arch {info.arch}, preset {info.preset}): {info.sample_rate} Hz, "
        f"{info.num_layers} layers, D = {info.embed_dim}, F = {info.freq_tokens}, "
        f"window {report.window_seconds:.2f} s, {cls}; {report.device}, {report.precision}"
    )
    table = Table("check", "result", "detail", title=f"check-backbone {info.name}")
    for check in report.checks:
        result = "[green]pass" if check.passed else "[bold red]FAIL"
        table.add_row(check.name, result, check.detail)
    table.add_row(
        "throughput",
        f"{report.clips_per_second:.2f} clips/s",
        f"batches of {report.batch_size} one-window clips, front-end included (not a check)",
    )
    console.print(table)
