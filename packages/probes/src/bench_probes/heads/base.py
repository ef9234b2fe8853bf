"""The one interface every pooling head implements.

tokens (B, T, F, D), mask (B, T) with True for valid time steps, cls (B, D) -> logits (B, C).
Heads that pool tokens must give padded positions no influence at all; heads that only use the
cls vector ignore the token map.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from torch import Tensor, nn


class PoolingHead(nn.Module, ABC):
    name: ClassVar[str]

    def __init__(self, dim: int, num_classes: int, freq_tokens: int) -> None:
        super().__init__()
        self.dim = dim
        self.num_classes = num_classes
        self.freq_tokens = freq_tokens

    @abstractmethod
    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor: ...

    def no_weight_decay(self) -> set[str]:
        """Parameter names to exclude from weight decay (none by default)."""
        return set()


def token_mask(tokens: Tensor, mask: Tensor) -> Tensor:
    """Expand the time mask (B, T) to the flattened token axis (B, T*F)."""
    b, t, f, _ = tokens.shape
    return mask[:, :, None].expand(b, t, f).reshape(b, t * f)
