"""mlp: a two-layer MLP on the cls vector, Linear(D -> H) - GELU - Linear(H -> C).

Width (inferred): H = D by default. The paper gives no width; D keeps the hidden layer as wide
as the representation it reads, the usual choice for an MLP probe, without adding capacity
beyond what the cls vector carries.
"""

from __future__ import annotations

from torch import Tensor, nn

from bench_probes.heads.base import PoolingHead


class MLPHead(PoolingHead):
    name = "mlp"
    reads_tokens = False

    def __init__(
        self, dim: int, num_classes: int, freq_tokens: int, hidden_dim: int | None = None
    ) -> None:
        super().__init__(dim, num_classes, freq_tokens)
        hidden = hidden_dim or dim
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, num_classes))

    def forward(self, tokens: Tensor, mask: Tensor, cls: Tensor) -> Tensor:
        return self.net(cls)
