"""Training one probe on frozen tokens: AdamW + cosine schedule, best-validation model selection."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from bench_probes.data import ProbeData, SplitArrays
from bench_probes.heads import PoolingHead, build_head
from bench_probes.losses import loss_for, probabilities
from bench_probes.metrics import evaluate


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


@dataclass
class TrainResult:
    head: PoolingHead
    valid: dict[str, float]
    test: dict[str, float] | None
    best_epoch: int
    epochs_run: int
    seconds: float
    valid_history: list[float] = field(default_factory=list)


EpochCallback = Callable[[int, dict[str, float]], None]
"""Called after every epoch with (epoch, validation metrics); the search reports through it."""


def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _batch(
    split: SplitArrays, rows: np.ndarray, device: torch.device
) -> tuple[Tensor, Tensor, Tensor]:
    tokens = torch.from_numpy(split.tokens[rows]).to(device, non_blocking=True).float()
    mask = torch.from_numpy(split.mask[rows]).to(device)
    cls = torch.from_numpy(split.cls[rows]).to(device).float()
    return tokens, mask, cls


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


@torch.inference_mode()
def predict(
    head: PoolingHead, split: SplitArrays, task_kind: str, batch_size: int, device: torch.device
) -> np.ndarray:
    head.eval()
    outputs = []
    for start in range(0, len(split), batch_size):
        rows = np.arange(start, min(start + batch_size, len(split)))
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = head(*_batch(split, rows, device))
        outputs.append(probabilities(logits.float(), task_kind).cpu().numpy())
    return np.concatenate(outputs)


def train_probe(
    data: ProbeData,
    head_name: str,
    head_params: dict[str, Any],
    settings: TrainSettings,
    *,
    device: torch.device | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    device = device or default_device()
    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    head = build_head(
        head_name, data.embed_dim, data.num_classes, data.freq_tokens, **head_params
    ).to(device)
    optimizer = torch.optim.AdamW(_param_groups(head, settings.weight_decay), lr=settings.lr)
    steps_per_epoch = max(1, int(np.ceil(len(data.train) / settings.batch_size)))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=settings.epochs * steps_per_epoch
    )
    criterion = loss_for(data.task_kind)
    targets = torch.tensor(data.train.targets)
    best_score, best_epoch, best_state, best_valid = -np.inf, -1, None, {}
    history: list[float] = []
    started = time.perf_counter()
    for epoch in range(settings.epochs):
        head.train()
        order = rng.permutation(len(data.train))
        for start in range(0, len(order), settings.batch_size):
            rows = np.sort(order[start : start + settings.batch_size])
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                logits = head(*_batch(data.train, rows, device))
            loss = criterion(logits.float(), targets[rows].to(device))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        scores = predict(head, data.valid, data.task_kind, settings.batch_size * 2, device)
        valid = evaluate(data.task_kind, data.valid.targets, scores)
        history.append(valid["score"])
        if best_state is None or valid["score"] > best_score:
            best_score, best_epoch, best_valid = valid["score"], epoch, valid
            best_state = copy.deepcopy(head.state_dict())
        if on_epoch is not None:
            on_epoch(epoch, valid)
    seconds = time.perf_counter() - started
    head.load_state_dict(best_state)
    test = None
    if data.test is not None:
        test = evaluate(
            data.task_kind,
            data.test.targets,
            predict(head, data.test, data.task_kind, settings.batch_size * 2, device),
        )
    return TrainResult(head, best_valid, test, best_epoch, settings.epochs, seconds, history)
