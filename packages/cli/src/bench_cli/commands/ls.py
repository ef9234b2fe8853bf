"""`bench ls`: what bench knows about: backbones, datasets, poolings, stored sets and runs."""

from __future__ import annotations

import os
import time

import typer
from rich.table import Table

from bench_audio import get_reader, list_readers, load_dataset_config
from bench_cli.commands import query
from bench_cli.console import StoreOption, console
from bench_core import BenchError, list_configs
from bench_encoders import load_backbone_config
from bench_probes import HEADS, load_pooling_config
from bench_store import TokenStore

app = typer.Typer(
    help="List backbones, datasets, poolings, stored embedding sets or runs.", no_args_is_help=True
)
app.command("sets")(query.sets)


@app.command()
def backbones() -> None:
    """Registered backbones and where each expects its checkpoint."""
    table = Table("backbone", "arch", "checkpoint", "description", title="backbones")
    for name in list_configs("backbones"):
        config = load_backbone_config(name)
        env = config.checkpoint_env or ""
        where = f"${env} set" if env and os.environ.get(env) else f"${env} (unset)" if env else "-"
        table.add_row(name, config.arch, where, config.description)
    table.add_row(
        "hf:<dir or id>", "hf", "the folder", "any transformers audio encoder (AST, wav2vec2, ...)"
    )
    console.print(table)


@app.command()
def datasets() -> None:
    """Datasets, whether their root is configured and found, clip counts and task kind."""
    table = Table("dataset", "reader", "root", "clips", "problems", "kind", title="datasets")
    for name in list_configs("datasets"):
        config = load_dataset_config(name)
        reader = get_reader(config.reader)
        kind = str(reader.kind or config.options.get("kind", "-"))
        if not reader.needs_root:
            table.add_row(name, config.reader, "built in", "-", "-", kind)
            continue
        try:
            root = config.resolve_root()
        except BenchError as error:
            table.add_row(name, config.reader, f"[yellow]{_short(error)}", "-", "-", kind)
            continue
        try:
            data = reader.read(config, root)
        except BenchError as error:
            table.add_row(name, config.reader, f"[red]{root}: {_short(error)}", "-", "-", kind)
            continue
        problems = str(len(data.problems)) if data.problems else "0"
        table.add_row(
            name, config.reader, str(root), str(len(data.clips)), problems, str(data.info.kind)
        )
    console.print(table)
    console.print(f"readers: {', '.join(list_readers())}")


@app.command()
def poolings() -> None:
    """Pooling heads and their configs."""
    table = Table("pooling", "head", "params", "search", "description", title="poolings")
    for name in list_configs("poolings"):
        config = load_pooling_config(name)
        implemented = config.head in HEADS
        table.add_row(
            name if implemented else f"[dim]{name}",
            config.head,
            ", ".join(f"{k}={v}" for k, v in config.params.items()),
            config.search,
            config.description,
        )
    console.print(table)


@app.command()
def runs(
    store: StoreOption = None,
    dataset: str | None = typer.Option(None, help="Only runs on this dataset."),
    kind: str | None = typer.Option(None, help="trial, final or train."),
    limit: int = typer.Option(50, help="Newest N runs."),
) -> None:
    """Probe training runs stored in the results table, newest first."""
    filters = {k: v for k, v in {"dataset": dataset, "kind": kind}.items() if v}
    records = sorted(TokenStore(store).runs(**filters), key=lambda r: r.created_at, reverse=True)[
        :limit
    ]
    table = Table(
        "when",
        "kind",
        "dataset",
        "backbone",
        "pooling",
        "lr",
        "wd",
        "seed",
        "valid",
        "test",
        title="runs",
    )
    for r in records:
        table.add_row(
            time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)),
            r.kind,
            r.dataset,
            r.backbone,
            r.pooling,
            f"{r.hparams.get('lr', float('nan')):.2e}",
            f"{r.hparams.get('weight_decay', float('nan')):.1e}",
            str(r.seed),
            f"{100 * r.valid_score:.2f}",
            "-" if r.test_score is None else f"{100 * r.test_score:.2f}",
        )
    console.print(table)


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) < 90 else text[:87] + "..."
