"""proto: real-valued class prototypes, cosine to every token, ReLU, max over tokens.

J prototypes per class (C * J in all, init N(0, 0.02)); s_k = ReLU(max over valid tokens of
cos(p_k, z)); Linear(C*J -> C). J = 20 by default; the paper uses J = 10 on AudioSet (as20k),
which configs/poolings/proto.yaml sets per dataset. ReLU is applied after the max, which equals
max-after-ReLU (ReLU is monotone) and costs (B, K) instead of (B, N, K).

Choices the paper leaves open (inferred):
- "per class" fixes the count only: the classifier is a dense Linear(C*J -> C) as specified, so
  which class a prototype serves is learned, not imposed.
- Prototypes are excluded from weight decay by default (`decay_prototypes`), as for protobin:
  the cosine ignores their norm, so decay does not regularise them, it only shrinks the norm and
  thereby inflates their effective learning rate over training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead, token_mask
from bench_probes.heads.similarity import max_cosine


class ProtoHead(PoolingHead):
    name = "proto"

    def __init__(
        self,
        dim: int,
        num_classes: int,
        freq_tokens: int,
        prototypes_per_class: int = 20,
        decay_prototypes: bool = False,
    ) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        self.num_prototypes = prototypes_per_class * num_classes
        self.decay_prototypes = decay_prototypes
        self.prototypes = nn.Parameter(torch.randn(self.num_prototypes, dim) * 0.02)
        self.classifier = nn.Linear(self.num_prototypes, num_classes)

    def no_weight_decay(self) -> set[str]:
        return set() if self.decay_prototypes else {"prototypes"}

    def scores(self, tokens: Tensor, mask: Tensor, prototypes: Tensor) -> Tensor:
        """Max over valid tokens of cos(prototype, token): (B, K). Each similarity depends on its
        own token only and padded ones are overwritten before the max, so no zeroing is needed."""
        units = F.normalize(tokens.flatten(1, 2), dim=-1)
        return max_cosine(units, token_mask(tokens, mask), F.normalize(prototypes, dim=-1))

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        return self.classifier(F.relu(self.scores(tokens, mask, self.prototypes)))
