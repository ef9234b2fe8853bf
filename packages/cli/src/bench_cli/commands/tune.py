"""`bench tune` and `bench train`: probe training on stored token maps."""

from __future__ import annotations

from typing import Annotated

import typer

from bench_cli.console import AddressOption, StoreOption, console
from bench_cli.live import SearchBoard
from bench_probes import (
    ProbeData,
    SharedTokens,
    TrainSettings,
    list_poolings,
    load_pooling_config,
    load_search_config,
    train_probe,
    tune_pooling,
)
from bench_probes.search import TuneOutcome, make_run_record, require_implemented
from bench_store import TokenStore


def tune_command(
    pooling: Annotated[str, typer.Option(help="Pooling name, or 'all' (bench ls poolings).")],
    dataset: Annotated[str, typer.Option(help="Dataset of the embedding set.")],
    backbone: Annotated[str, typer.Option(help="Backbone of the embedding set.")],
    trials: Annotated[
        int | None, typer.Option(help="Search trials (default: the search config's).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs per trial.")] = None,
    seeds: Annotated[int | None, typer.Option(help="Seeds of the final re-runs.")] = None,
    experiment: Annotated[
        str, typer.Option(help="Experiment name the runs are stored under.")
    ] = "default",
    layer: Annotated[
        int | None, typer.Option(help="Stored encoder layer to probe (default: last).")
    ] = None,
    store: StoreOption = None,
    address: AddressOption = None,
) -> None:
    """Search learning rate and weight decay (Sobol, then TPE, with ASHA early stopping), re-train
    the best configuration over several seeds, and store every run.

    Rerunning the same command resumes an interrupted search and skips poolings whose final runs
    are already stored (under the same experiment name)."""
    token_store = TokenStore(store)
    embedding_set = token_store.latest_set(dataset, backbone)
    names = list_poolings() if pooling == "all" else [pooling]
    configs = [load_pooling_config(name, dataset) for name in names]
    for config in configs:
        require_implemented(config)
    with SharedTokens(embedding_set, layer) as tokens, SearchBoard() as board:
        for config in configs:
            search = load_search_config(config.search).with_budget(trials, epochs, seeds)
            outcome = tune_pooling(
                token_store,
                embedding_set,
                config,
                search,
                experiment=experiment,
                tokens=tokens,
                address=address,
                on_progress=board,
            )
            print_outcome(outcome)


def print_outcome(outcome: TuneOutcome) -> None:
    hp = outcome.best_hparams
    how = (
        "[dim]already in the results table, skipped[/]; "
        if outcome.skipped
        else "[yellow]resumed[/]; "
        if outcome.resumed
        else ""
    )
    console.print(
        f"[bold]{outcome.pooling}[/]: {how}best lr {hp['lr']:.2e}, wd {hp['weight_decay']:.1e}; "
        f"test {100 * outcome.test_mean:.2f} ± {100 * outcome.test_sd:.2f} "
        f"over {len(outcome.finals)} seeds ({len(outcome.trials)} trials)"
    )


def train_command(
    pooling: Annotated[str, typer.Option(help="Pooling name (bench ls poolings).")],
    dataset: Annotated[str, typer.Option(help="Dataset of the embedding set.")],
    backbone: Annotated[str, typer.Option(help="Backbone of the embedding set.")],
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-3,
    wd: Annotated[float, typer.Option(help="Weight decay.")] = 1e-4,
    epochs: Annotated[int, typer.Option(help="Epochs.")] = 30,
    batch_size: Annotated[int, typer.Option(help="Batch size.")] = 128,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    layer: Annotated[
        int | None, typer.Option(help="Stored encoder layer to probe (default: last).")
    ] = None,
    experiment: Annotated[
        str, typer.Option(help="Experiment name the run is stored under.")
    ] = "default",
    memory_budget: Annotated[
        float | None,
        typer.Option(
            help="GiB of RAM the token arrays may use; splits that do not fit are streamed from "
            "the store with read-ahead (default: half the available RAM; 0: stream everything)."
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Train one probe configuration and store the run."""
    token_store = TokenStore(store)
    embedding_set = token_store.latest_set(dataset, backbone)
    config = load_pooling_config(pooling, dataset)
    settings = TrainSettings(
        lr=lr, weight_decay=wd, epochs=epochs, batch_size=batch_size, seed=seed
    )
    budget = None if memory_budget is None else int(memory_budget * 2**30)
    data = ProbeData.from_set(embedding_set, layer, memory_budget=budget)
    if data.streamed:
        console.print(f"streaming from the store: {', '.join(data.streamed)}")
    result = train_probe(data, config.head, config.params, settings)
    record = make_run_record(
        "train",
        experiment,
        embedding_set,
        config,
        settings,
        result.valid,
        result.test,
        result.epochs_run,
        result.seconds,
    )
    token_store.add_runs([record])
    test = "-" if result.test is None else f"{100 * result.test['score']:.2f}"
    console.print(
        f"[bold]{pooling}[/] on {embedding_set.name}: valid {100 * result.valid['score']:.2f} "
        f"(best epoch {result.best_epoch + 1}), test {test}, {result.seconds:.1f} s"
    )
