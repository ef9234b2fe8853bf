"""One console, one progress style and shared option types for every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from bench_store import TokenStore

console = Console()
err_console = Console(stderr=True)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="BENCH_STORE",
        help="Store URI: a directory or an object-store URI (s3://...). Default: ~/.cache/bench/store.",
    ),
]
StorageOptionsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--storage-option",
        help="KEY=VALUE passed to the store's object-store client (repeatable), e.g. "
        "aws_region=eu-west-1, aws_endpoint=http://minio:9000, allow_http=true.",
    ),
]
CheckpointOption = Annotated[
    Path | None,
    typer.Option(help="Official checkpoint file; default: the backbone's env variable."),
]
RandomWeightsOption = Annotated[
    bool,
    typer.Option(
        "--random-weights",
        help="Use seeded random weights instead of a checkpoint (tests, smoke runs).",
    ),
]
PresetOption = Annotated[
    str,
    typer.Option(
        help="Architecture size preset: base (the official size), tiny (tests); EAT/SSLAM: large."
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(
        "--address",
        envvar="RAY_ADDRESS",
        help="Ray cluster to run on (e.g. ray://head:10001). Default: a local Ray runtime.",
    ),
]


def open_store(uri: str | None, storage_options: list[str] | None) -> TokenStore:
    """The store of `--store` with the `--storage-option KEY=VALUE` pairs."""
    options = {}
    for item in storage_options or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(
                f"expected KEY=VALUE, got {item!r}", param_hint="--storage-option"
            )
        options[key.strip()] = value
    return TokenStore(uri, options or None)


class ProgressTracker:
    """A rich progress bar with throughput and ETA, fed by `(done, total)` callbacks.

    The bar appears on the first update, so a command that fails while validating its inputs shows
    only its error message.
    """

    def __init__(self, description: str, unit: str) -> None:
        self.unit = unit
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(f"{{task.fields[rate]}} {unit}/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._task = self._progress.add_task(description, total=None, rate="-")
        self._started = False

    def __call__(self, done: int, total: int) -> None:
        if not self._started:
            self._progress.start()
            self._started = True
        elapsed = self._progress.tasks[self._task].elapsed or 0.0
        rate = f"{done / elapsed:.2f}" if elapsed > 0 else "-"
        self._progress.update(self._task, completed=done, total=total, rate=rate)

    def __enter__(self) -> ProgressTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._progress.stop()
