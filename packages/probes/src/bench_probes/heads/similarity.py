"""Max over valid tokens of the prototype-token cosine similarity, in bounded memory.

The (B, N, K) similarity tensor is what prototype heads pay for: 128 clips x 512 tokens x 10,540
prototypes is 2.8 GB in fp32, and autograd would keep all of it for the backward pass of the max.
Here the forward pass computes it one chunk of prototypes at a time and keeps only the max and
its arg-max (B, K). The backward pass needs nothing else: the gradient of a max flows only to the
maximising token, so d/dp_k = sum_b g[b,k] z[b, argmax[b,k]] is a gather, O(B K D) work instead of
the O(B N K D) of differentiating the full similarity tensor. Results equal the unchunked
computation (gradients too, except among exactly tied maxima, where one maximiser receives the
whole gradient instead of an even share).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

CHUNK_ELEMENTS = 1 << 25
"""Largest intermediate (elements) one chunk may create: 128 MB in fp32."""


class _MaxCosine(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, units: Tensor, valid: Tensor, prototypes: Tensor, chunk_elements: int
    ) -> Tensor:
        b, n, _ = units.shape
        step = max(1, chunk_elements // max(1, b * n))
        invalid = ~valid[:, :, None]
        maxima, indices = [], []
        for start in range(0, prototypes.shape[0], step):
            similarity = units @ prototypes[start : start + step].t()  # (B, N, chunk)
            similarity.masked_fill_(invalid, float("-inf"))
            value, index = similarity.max(dim=1)
            maxima.append(value)
            indices.append(index)
        ctx.save_for_backward(units, prototypes, torch.cat(indices, dim=1))
        ctx.chunk_elements = chunk_elements
        return torch.cat(maxima, dim=1)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, Tensor | None, None]:  # type: ignore[override]
        units, prototypes, index = ctx.saved_tensors
        b, n, d = units.shape
        grad = grad.to(units.dtype)
        step = max(1, ctx.chunk_elements // max(1, b * d))
        want_units, want_prototypes = ctx.needs_input_grad[0], ctx.needs_input_grad[2]
        grad_units = torch.zeros_like(units).view(b * n, d) if want_units else None
        grad_prototypes = torch.zeros_like(prototypes) if want_prototypes else None
        rows = torch.arange(b, device=units.device)[:, None] * n
        for start in range(0, prototypes.shape[0], step):
            chunk_index, chunk_grad = index[:, start : start + step], grad[:, start : start + step]
            if grad_prototypes is not None:
                chosen = torch.gather(
                    units, 1, chunk_index[:, :, None].expand(-1, -1, d)
                )  # (B, chunk, D): each (clip, prototype)'s maximising token
                grad_prototypes[start : start + step] = torch.einsum(
                    "bk,bkd->kd", chunk_grad, chosen
                ).to(prototypes.dtype)
            if grad_units is not None:
                contribution = chunk_grad[:, :, None] * prototypes[start : start + step][None]
                grad_units.index_add_(
                    0, (rows + chunk_index).reshape(-1), contribution.reshape(-1, d).to(units.dtype)
                )
        return (
            None if grad_units is None else grad_units.view(b, n, d),
            None,
            grad_prototypes,
            None,
        )


def max_cosine(
    units: Tensor, valid: Tensor, prototypes: Tensor, chunk_elements: int = CHUNK_ELEMENTS
) -> Tensor:
    """max over valid n of <units[b, n], prototypes[k]>: (B, N, D), (B, N), (K, D) -> (B, K).

    Both inputs are expected L2-normalised (the product is then the cosine). Every clip needs at
    least one valid token.
    """
    return _MaxCosine.apply(units, valid, prototypes, chunk_elements)
