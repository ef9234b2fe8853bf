"""protobin, the paper's method: binary class-agnostic prototypes scored against every token.

K = J * C prototypes p~ in R^D are trained; each forward pass uses p = sign(p~) in {-1, +1}^D with
sign(0) = +1 and a straight-through gradient (d p / d p~ = identity). Each prototype's cosine
similarity to every valid token is max-pooled over (t, f), and Linear(K -> C) maps the K scores to
class logits. Parameters: K*D + K*C + C. No orthogonality loss; the cls token is unused.
Prototypes are excluded from weight decay unless `decay_prototypes` (the co-author's public code
trains them without decay; decay would only pull the latent weights towards the sign flip point).

Because every binary prototype has the same norm (sqrt(D)), a trained head can be stored as packed
bits (1 bit per value, 32x smaller than fp32) and evaluated from them exactly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from bench_probes.heads.proto import ProtoHead


def binarize_ste(weights: Tensor) -> Tensor:
    """sign(w) with sign(0) = +1 in the forward pass, identity gradient in the backward pass."""
    hard = torch.where(weights >= 0, 1.0, -1.0).to(weights.dtype)
    return weights + (hard - weights).detach()


class ProtoBinHead(ProtoHead):
    """proto's parameters and scoring, with the prototypes binarised and no ReLU."""

    name = "protobin"

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        return self.classifier(self.scores(tokens, mask, binarize_ste(self.prototypes)))

    def packed_prototypes(self) -> np.ndarray:
        """The binary prototypes as bits (K, ceil(D / 8)) uint8; bit 1 = +1."""
        bits = (self.prototypes.detach().cpu() >= 0).numpy()
        return np.packbits(bits, axis=1)

    @staticmethod
    def unpack_prototypes(packed: np.ndarray, dim: int) -> Tensor:
        bits = np.unpackbits(packed, axis=1, count=dim).astype(np.float32)
        return torch.from_numpy(bits * 2.0 - 1.0)

    def forward_packed(self, tokens: Tensor, mask: Tensor, packed: np.ndarray) -> Tensor:
        """Logits computed from exported packed bits (equal to `forward` of the trained head)."""
        prototypes = self.unpack_prototypes(packed, self.dim).to(tokens.device, tokens.dtype)
        return self.classifier(self.scores(tokens, mask, prototypes))
