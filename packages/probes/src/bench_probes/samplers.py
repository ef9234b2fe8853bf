"""The paper's search order: quasi-random (scrambled Sobol) points first, then TPE."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

from optuna import Study
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler, QMCSampler, TPESampler
from optuna.trial import FrozenTrial, TrialState


class SobolThenTPESampler(BaseSampler):
    """Trials numbered below `startup_trials` come from a scrambled Sobol sequence (even coverage of
    the log-space box), later ones from TPE fitted on everything finished so far."""

    def __init__(self, startup_trials: int, seed: int = 0) -> None:
        self.startup_trials = startup_trials
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # QMCSampler is marked experimental; its API is all we use
            self._sobol = QMCSampler(
                qmc_type="sobol", scramble=True, seed=seed, warn_independent_sampling=False
            )
        self._tpe = TPESampler(n_startup_trials=1, seed=seed)

    def _pick(self, trial: FrozenTrial) -> BaseSampler:
        return self._sobol if trial.number < self.startup_trials else self._tpe

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return self._pick(trial).infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        return self._pick(trial).sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        return self._pick(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._pick(trial).before_trial(study, trial)

    def after_trial(
        self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._pick(trial).after_trial(study, trial, state, values)
