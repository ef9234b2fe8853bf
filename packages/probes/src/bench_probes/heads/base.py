"""The one interface every pooling head implements, and the masked operations they share.

tokens (B, T, F, D), mask (B, T) with True for valid time steps, cls (B, D) -> logits (B, C).
Heads that pool tokens give padded positions no influence at all, whatever values they hold
(zero padding, or garbage): padded positions are excluded from every mean, softmax and max, and
heads that mix tokens (attention, convolution) zero them first, so that not even NaN can leak
through a product with a zero weight. Heads that only use the cls vector ignore the token map.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import torch
from torch import Tensor, nn


class PoolingHead(nn.Module, ABC):
    name: ClassVar[str]
    reads_tokens: ClassVar[bool] = True
    """False for heads that use only the cls vector: the trainer then never gathers, converts or
    transfers token maps for them, which is most of a cls probe's cost."""

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


def flat_tokens(tokens: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Tokens as (B, N = T*F, D) with padded positions set to 0 (so that even NaN or huge garbage
    there cannot leak through a product with a zero weight), and the (B, N) validity mask."""
    valid = token_mask(tokens, mask)
    return tokens.flatten(1, 2).masked_fill(~valid[:, :, None], 0.0), valid


def masked_mean(values: Tensor, valid: Tensor) -> Tensor:
    """Mean over the valid positions of axis 1: values (B, N, X), valid (B, N) -> (B, X).
    Invalid positions are replaced, not multiplied by zero, so whatever they hold is ignored."""
    count = valid.sum(dim=1, keepdim=True).clamp_min(1).to(values.dtype)
    return values.masked_fill(~valid[:, :, None], 0.0).sum(dim=1) / count


def masked_max(values: Tensor, valid: Tensor) -> Tensor:
    """Max over the valid positions of axis 1: values (B, N, X), valid (B, N) -> (B, X)."""
    return values.masked_fill(~valid[:, :, None], float("-inf")).amax(dim=1)


def masked_softmax(scores: Tensor, valid: Tensor) -> Tensor:
    """Softmax over the last axis with invalid positions at exactly zero weight.
    valid broadcasts against scores (e.g. (B, 1, N) for (B, M, N) scores)."""
    return torch.softmax(scores.masked_fill(~valid, float("-inf")), dim=-1)


def scaled_scores(queries: Tensor, keys: Tensor) -> Tensor:
    """Dot-product attention logits q k^T / sqrt(D): queries (B, M, D), keys (B, N, D) -> (B, M, N)."""
    return queries @ keys.transpose(1, 2) / math.sqrt(queries.shape[-1])
