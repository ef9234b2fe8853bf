"""Typed configs of poolings (configs/poolings) and search spaces (configs/search)."""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, PositiveInt, model_validator

from bench_core import Config, list_configs, load_named_config


class PoolingConfig(Config):
    """configs/poolings/<name>.yaml: a head with its parameters, and the search space to tune it.
    `dataset_params` overrides parameters per dataset (e.g. proto's J = 10 on as20k)."""

    name: str
    head: str
    description: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    dataset_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    search: str = "default"

    def for_dataset(self, dataset: str) -> PoolingConfig:
        """This config with `params` resolved for `dataset`."""
        override = self.dataset_params.get(dataset)
        return self.model_copy(update={"params": {**self.params, **override}}) if override else self


class Range(Config):
    low: float = Field(gt=0)
    high: float = Field(gt=0)
    log: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low >= self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class SearchConfig(Config):
    """A search over learning rate and weight decay, as the paper runs per (backbone, dataset, probe):
    quasi-random (Sobol) start, then TPE; successive-halving (ASHA) stops weak trials early."""

    name: str
    lr: Range
    weight_decay: Range
    trials: PositiveInt = 50
    startup_trials: PositiveInt = 25
    epochs: PositiveInt = 30
    batch_size: PositiveInt = 128
    grace_epochs: PositiveInt = 5
    reduction_factor: float = Field(default=3.0, gt=1)
    final_seeds: PositiveInt = 3

    @model_validator(mode="after")
    def _consistent(self) -> SearchConfig:
        if self.startup_trials > self.trials:
            raise ValueError(
                f"startup_trials ({self.startup_trials}) exceeds trials ({self.trials})"
            )
        if self.grace_epochs > self.epochs:
            raise ValueError(f"grace_epochs ({self.grace_epochs}) exceeds epochs ({self.epochs})")
        return self

    def with_budget(
        self,
        trials: int | None = None,
        epochs: int | None = None,
        final_seeds: int | None = None,
    ) -> SearchConfig:
        """A smaller (or larger) search in the same proportions: the Sobol share of the trials and
        ASHA's grace share of the epochs scale with the budget, so a 6-trial search still ends with
        TPE trials (the paper: 25 of 50 quasi-random) and a 12-epoch one still prunes early."""
        update: dict[str, int] = {}
        if trials is not None:
            share = self.startup_trials / self.trials
            update |= {"trials": trials, "startup_trials": max(1, math.ceil(trials * share))}
        if epochs is not None:
            share = self.grace_epochs / self.epochs
            update |= {"epochs": epochs, "grace_epochs": max(1, round(epochs * share))}
        if final_seeds is not None:
            update["final_seeds"] = final_seeds
        return SearchConfig.model_validate({**self.model_dump(), **update})


def load_pooling_config(name: str, dataset: str | None = None) -> PoolingConfig:
    """The pooling config `name`, with its parameters resolved for `dataset` when given."""
    config = load_named_config("poolings", name, PoolingConfig)
    return config if dataset is None else config.for_dataset(dataset)


def load_search_config(name: str) -> SearchConfig:
    return load_named_config("search", name, SearchConfig)


def list_poolings() -> list[str]:
    return list_configs("poolings")
