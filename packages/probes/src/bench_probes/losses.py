"""Training losses: asymmetric loss for multi-label tasks, cross-entropy for multi-class ones."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class AsymmetricLoss(nn.Module):
    """Asymmetric Loss (Ridnik et al., ICCV 2021) with its published defaults.

    Negatives are down-weighted by a stronger focusing term (gamma_neg) and their probabilities are
    shifted by `clip` (probability margin), which discards very easy negatives: what makes multi-
    label training with hundreds of mostly-absent classes work. Summed over classes and averaged
    over the batch, so the learning rate does not depend on the batch size.
    """

    def __init__(
        self, gamma_neg: float = 4.0, gamma_pos: float = 1.0, clip: float = 0.05, eps: float = 1e-8
    ) -> None:
        super().__init__()
        self.gamma_neg, self.gamma_pos, self.clip, self.eps = gamma_neg, gamma_pos, clip, eps

    def forward(self, logits: Tensor, targets: Tensor) -> Tensor:
        p_pos = torch.sigmoid(logits)
        p_neg = 1 - p_pos
        if self.clip > 0:
            p_neg = (p_neg + self.clip).clamp(max=1)
        loss = targets * torch.log(p_pos.clamp(min=self.eps)) + (1 - targets) * torch.log(
            p_neg.clamp(min=self.eps)
        )
        pt = p_pos * targets + p_neg * (1 - targets)
        gamma = self.gamma_pos * targets + self.gamma_neg * (1 - targets)
        loss = loss * torch.pow(1 - pt, gamma)
        return -loss.sum(dim=1).mean()


def loss_for(task_kind: str) -> nn.Module:
    return AsymmetricLoss() if task_kind == "multilabel" else nn.CrossEntropyLoss()


def probabilities(logits: Tensor, task_kind: str) -> Tensor:
    return torch.sigmoid(logits) if task_kind == "multilabel" else F.softmax(logits, dim=-1)
