import numpy as np
import pytest
import torch

from bench_probes import build_head
from bench_probes.heads.protobin import binarize_ste

D, C, F = 16, 5, 2


def inputs(b: int = 3, t: int = 6, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(b, t, F, D, generator=g)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 4:] = False
    return tokens, mask, torch.randn(b, D, generator=g)


def test_protobin_parameter_count_matches_paper() -> None:
    head = build_head("protobin", D, C, F, prototypes_per_class=20)
    k = 20 * C
    assert sum(p.numel() for p in head.parameters()) == k * D + k * C + C
    paper = build_head("protobin", 768, 527, 8, prototypes_per_class=10000 // 527 + 1)
    k = paper.num_prototypes
    assert sum(p.numel() for p in paper.parameters()) == k * 768 + k * 527 + 527


def test_sign_with_zero_positive_and_straight_through_gradient() -> None:
    w = torch.tensor([-0.3, 0.0, 0.2], requires_grad=True)
    out = binarize_ste(w)
    assert out.tolist() == [-1.0, 1.0, 1.0]
    (out * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 3.0]  # identity gradient


def test_protobin_gradients_reach_prototypes_through_ste() -> None:
    head = build_head("protobin", D, C, F, prototypes_per_class=2)
    logits = head(*inputs())
    logits.sum().backward()
    assert head.prototypes.grad is not None and head.prototypes.grad.abs().sum() > 0
    assert head.classifier.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ["linear", "protobin"])
def test_mask_invariance_padding_changes_nothing(name: str) -> None:
    head = build_head(name, D, C, F).eval()
    tokens, mask, cls = inputs()
    padded_tokens = torch.cat([tokens, torch.randn(3, 4, F, D) * 50], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(3, 4, dtype=torch.bool)], dim=1)
    # garbage in already-masked positions must not matter either
    tokens_garbage = tokens.clone()
    tokens_garbage[1, 4:] = 1e4
    with torch.no_grad():
        reference = head(tokens, mask, cls)
        torch.testing.assert_close(head(padded_tokens, padded_mask, cls), reference)
        torch.testing.assert_close(head(tokens_garbage, mask, cls), reference)


def test_packed_prototypes_give_identical_logits() -> None:
    head = build_head("protobin", D, C, F, prototypes_per_class=3).eval()
    packed = head.packed_prototypes()
    assert packed.dtype == np.uint8 and packed.shape == (15, 2)  # 16 bits -> 2 bytes per prototype
    tokens, mask, cls = inputs()
    with torch.no_grad():
        torch.testing.assert_close(
            head.forward_packed(tokens, mask, packed), head(tokens, mask, cls)
        )


def test_weight_decay_excluded_from_prototypes_by_default() -> None:
    assert build_head("protobin", D, C, F).no_weight_decay() == {"prototypes"}
    assert build_head("protobin", D, C, F, decay_prototypes=True).no_weight_decay() == set()
