"""`bench run`: a whole grid of searches (datasets x backbones x poolings) from one experiment file,
skipping every search whose final runs are already in the results table.

The experiment's name is the `experiment` every run is stored under, so re-running a grid (after
an interruption, or with more backbones added) only trains what is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field, PositiveInt, model_validator

from bench_core import Config, load_config, load_named_config
from bench_probes.config import list_poolings, load_pooling_config, load_search_config
from bench_probes.monitor import ProgressListener
from bench_probes.search import (
    EXPERIMENT_NAME,
    TuneOutcome,
    require_implemented,
    tune_pooling,
)
from bench_probes.shared import SharedTokens
from bench_store import TokenStore


class ExperimentConfig(Config):
    """A grid of searches. `poolings: all` means every config in configs/poolings at run time;
    `groups` names dataset groups that `bench report` averages over (the paper: general audio,
    bioacoustics). Dataset and backbone names are checked when the grid runs (a missing
    embedding set is reported, not fatal), so a grid may name sets still to be extracted."""

    name: str = Field(pattern=EXPERIMENT_NAME.pattern)
    datasets: list[str] = Field(min_length=1)
    backbones: list[str] = Field(min_length=1)
    poolings: list[str] | str = "all"
    search: str = "default"
    trials: PositiveInt | None = None
    epochs: PositiveInt | None = None
    final_seeds: PositiveInt | None = None
    seed: int = 0
    layer: int | None = None
    groups: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentConfig:
        if isinstance(self.poolings, str) and self.poolings != "all":
            raise ValueError("poolings must be a list of names or 'all'")
        for what in ("datasets", "backbones", "poolings"):
            names = getattr(self, what)
            if isinstance(names, list) and len(set(names)) != len(names):
                raise ValueError(f"{what} lists a name twice")
        for group, members in self.groups.items():
            if unknown := set(members) - set(self.datasets):
                raise ValueError(
                    f"group '{group}' names datasets not in the grid: {sorted(unknown)}"
                )
        return self

    def pooling_names(self) -> list[str]:
        return list_poolings() if self.poolings == "all" else list(self.poolings)


def load_experiment(path_or_name: str | Path) -> ExperimentConfig:
    """An experiment file by path, or by name from configs/experiments."""
    path = Path(path_or_name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_config(path, ExperimentConfig)
    return load_named_config("experiments", str(path_or_name), ExperimentConfig)


@dataclass(frozen=True)
class GridCell:
    dataset: str
    backbone: str
    pooling: str


@dataclass
class GridSummary:
    """What a grid run did: outcomes of the searches run now or found stored, and the
    (dataset, backbone) pairs that have no embedding set in the store."""

    outcomes: dict[GridCell, TuneOutcome] = field(default_factory=dict)
    missing: list[tuple[str, str]] = field(default_factory=list)

    @property
    def trained(self) -> int:
        return sum(not o.skipped for o in self.outcomes.values())

    @property
    def skipped(self) -> int:
        return sum(o.skipped for o in self.outcomes.values())


def run_grid(
    config: ExperimentConfig,
    store: TokenStore,
    *,
    storage_dir: Path | None = None,
    address: str | None = None,
    on_progress: ProgressListener | None = None,
    on_outcome: Callable[[GridCell, TuneOutcome], None] | None = None,
) -> GridSummary:
    """Run every search of the grid that is not stored yet, each pooling with its parameters for
    the dataset (proto's J = 10 on as20k); each embedding set is put into the object store once for
    all its poolings (and only if one of them still needs training)."""
    search = load_search_config(config.search).with_budget(
        config.trials, config.epochs, config.final_seeds
    )
    poolings = [load_pooling_config(name) for name in config.pooling_names()]
    for pooling in poolings:
        require_implemented(pooling)
    summary = GridSummary()
    for dataset in config.datasets:
        for backbone in config.backbones:
            sets = store.find_sets(dataset, backbone)
            if not sets:
                summary.missing.append((dataset, backbone))
                continue
            with SharedTokens(sets[0], config.layer) as tokens:
                for pooling in (p.for_dataset(dataset) for p in poolings):
                    outcome = tune_pooling(
                        store,
                        sets[0],
                        pooling,
                        search,
                        experiment=config.name,
                        seed=config.seed,
                        tokens=tokens,
                        storage_dir=storage_dir,
                        address=address,
                        on_progress=on_progress,
                    )
                    cell = GridCell(dataset, backbone, pooling.name)
                    summary.outcomes[cell] = outcome
                    if on_outcome is not None:
                        on_outcome(cell, outcome)
    return summary
