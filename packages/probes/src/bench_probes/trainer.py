"""Training probes on frozen tokens: AdamW + cosine schedule, best-validation model selection.

Reading token maps is what training a probe costs, so any number of heads (several poolings,
several hyperparameter settings, several seeds) train together on one pass over the data, as
V-JEPA 2's frozen evaluation does: every batch is read, assembled and moved to the device once
and then stepped through each head. `train_probe` is the case of one head.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bench_probes.data import Batch, ProbeData, Split
from bench_probes.heads import PoolingHead, build_head
from bench_probes.losses import loss_for, probabilities
from bench_probes.metrics import evaluate
from bench_probes.prefetch import prefetch

READ_AHEAD = 3
"""Batches prepared ahead of the training step."""


@dataclass(frozen=True)
class TrainSettings:
    lr: float
    weight_decay: float
    epochs: int = 30
    batch_size: int = 128
    seed: int = 0

    def hparams(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
        }


@dataclass(frozen=True)
class ProbeSpec:
    """One head to train: pooling head name, its parameters, and its optimisation settings."""

    head: str
    params: Mapping[str, Any]
    settings: TrainSettings


@dataclass
class TrainResult:
    head: PoolingHead
    valid: dict[str, float]
    test: dict[str, float] | None
    best_epoch: int
    epochs_run: int
    seconds: float
    """Wall time of the training loop (shared by all heads trained on the same pass)."""
    valid_history: list[float] = field(default_factory=list)


EpochCallback = Callable[[int, dict[str, float]], bool | None]
"""Called after every epoch with (epoch, validation metrics); the search reports through it.
Returning False stops training this head (early stopping); its best epoch so far is kept."""
ProbesEpochCallback = Callable[[int, int, dict[str, float]], bool | None]
"""`EpochCallback` for `train_probes`, with the head's index in the spec list first."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _param_groups(head: PoolingHead, weight_decay: float) -> list[dict[str, Any]]:
    """No decay on biases, norms (1-D parameters) and what the head excludes (e.g. prototypes)."""
    excluded = head.no_weight_decay()
    decay, no_decay = [], []
    for name, param in head.named_parameters():
        (no_decay if param.ndim <= 1 or name in excluded else decay).append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def _autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on GPU (tensor cores, half the activation memory); fp32 on CPU."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def _read(
    split: Split,
    batch_size: int,
    device: torch.device,
    shuffle_seed: int | None,
    with_tokens: bool,
) -> Iterator[Batch]:
    """Batches of `split` on `device`, assembled in a read-ahead thread: on CPU up to the float32
    conversion, for a GPU up to pinned host memory (the copy then overlaps with compute)."""
    batches = split.batches(batch_size, shuffle_seed, with_tokens)
    if device.type == "cuda":
        pinned = prefetch((b.pin_memory() for b in batches), READ_AHEAD)
        return (b.to(device) for b in pinned)
    return prefetch((b.to(device) for b in batches), READ_AHEAD)


@torch.inference_mode()
def predict(
    heads: Sequence[PoolingHead],
    split: Split,
    task_kind: str,
    batch_size: int,
    device: torch.device,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Class probabilities of every head on `split` (one pass), and the split's targets."""
    for head in heads:
        head.eval()
    outputs: list[list[np.ndarray]] = [[] for _ in heads]
    targets = []
    with_tokens = any(head.reads_tokens for head in heads)
    for batch in _read(split, batch_size, device, None, with_tokens):
        targets.append(batch.targets.cpu().numpy())
        for head, out in zip(heads, outputs, strict=True):
            with _autocast(device):
                logits = head(batch.tokens, batch.mask, batch.cls)
            out.append(probabilities(logits.float(), task_kind).cpu().numpy())
    return [np.concatenate(out) for out in outputs], np.concatenate(targets)


class _Run:
    """One head's training state: optimiser, schedule, and the best-validation snapshot."""

    def __init__(
        self, index: int, spec: ProbeSpec, data: ProbeData, device: torch.device, total_steps: int
    ) -> None:
        self.index = index
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(spec.settings.seed)
            self.head = build_head(
                spec.head, data.embed_dim, data.num_classes, data.freq_tokens, **spec.params
            ).to(device)
        settings = spec.settings
        self.optimizer = torch.optim.AdamW(
            _param_groups(self.head, settings.weight_decay), lr=settings.lr
        )
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=total_steps
        )
        self.criterion = loss_for(data.task_kind)
        self.active = True
        self.epochs_run = 0
        self.best_score, self.best_epoch = -math.inf, -1
        self.best_valid: dict[str, float] = {}
        self.best_state: dict[str, Tensor] | None = None
        self.history: list[float] = []

    def step(self, batch: Batch, device: torch.device) -> None:
        with _autocast(device):
            logits = self.head(batch.tokens, batch.mask, batch.cls)
        loss = self.criterion(logits.float(), batch.targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()

    def record(self, epoch: int, valid: dict[str, float]) -> None:
        """Keep the weights of the best validation epoch (NaN, from a diverged head, never is)."""
        self.epochs_run = epoch + 1
        self.history.append(valid["score"])
        score = valid["score"] if math.isfinite(valid["score"]) else -math.inf
        if self.best_state is None or score > self.best_score:
            self.best_score, self.best_epoch, self.best_valid = score, epoch, valid
            self.best_state = copy.deepcopy(self.head.state_dict())


def train_probes(
    data: ProbeData,
    specs: Sequence[ProbeSpec],
    *,
    device: torch.device | None = None,
    on_epoch: ProbesEpochCallback | None = None,
) -> list[TrainResult]:
    """Train every spec's head on one shared pass over the data per epoch.

    The heads share the batch order (seeded by the first spec's seed) and therefore `epochs` and
    `batch_size`; each head's initialisation follows its own seed, so a head trains exactly as it
    would alone with that order. A head whose callback returns False stops; the pass ends when
    every head has stopped or the epochs are done. Results come back in the order of `specs`.
    """
    if not specs:
        return []
    first = specs[0].settings
    shared = {(s.settings.epochs, s.settings.batch_size) for s in specs}
    if len(shared) > 1:
        raise ValueError("heads trained on one pass must share epochs and batch_size")
    device = device or default_device()
    total_steps = first.epochs * max(1, math.ceil(len(data.train) / first.batch_size))
    runs = [_Run(i, spec, data, device, total_steps) for i, spec in enumerate(specs)]
    eval_batch = first.batch_size * 2
    started = time.perf_counter()
    for epoch in range(first.epochs):
        active = [run for run in runs if run.active]
        if not active:
            break
        for run in active:
            run.head.train()
        with_tokens = any(run.head.reads_tokens for run in active)
        order_seed = int(np.random.SeedSequence([first.seed, epoch]).generate_state(1)[0])
        for batch in _read(data.train, first.batch_size, device, order_seed, with_tokens):
            for run in active:
                run.step(batch, device)
        scores, targets = predict(
            [run.head for run in active], data.valid, data.task_kind, eval_batch, device
        )
        for run, run_scores in zip(active, scores, strict=True):
            valid = evaluate(data.task_kind, targets, run_scores)
            run.record(epoch, valid)
            if on_epoch is not None and on_epoch(run.index, epoch, valid) is False:
                run.active = False
    seconds = time.perf_counter() - started
    for run in runs:
        if run.best_state is not None:
            run.head.load_state_dict(run.best_state)
    tests: list[dict[str, float] | None] = [None] * len(runs)
    if data.test is not None:
        scores, targets = predict(
            [run.head for run in runs], data.test, data.task_kind, eval_batch, device
        )
        tests = [evaluate(data.task_kind, targets, s) for s in scores]
    return [
        TrainResult(
            run.head,
            run.best_valid,
            test,
            run.best_epoch,
            run.epochs_run,
            seconds,
            run.history,
        )
        for run, test in zip(runs, tests, strict=True)
    ]


def train_probe(
    data: ProbeData,
    head_name: str,
    head_params: Mapping[str, Any],
    settings: TrainSettings,
    *,
    device: torch.device | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train one head: `train_probes` with a single spec."""
    callback: ProbesEpochCallback | None = None
    if on_epoch is not None:
        epoch_callback = on_epoch

        def callback(index: int, epoch: int, valid: dict[str, float]) -> bool | None:
            return epoch_callback(epoch, valid)

    spec = ProbeSpec(head_name, head_params, settings)
    return train_probes(data, [spec], device=device, on_epoch=callback)[0]
