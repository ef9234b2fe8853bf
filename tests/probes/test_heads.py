"""Every pooling head: shapes, mask invariance, parameter counts, gradients, and what is special
about the prototype heads (binarisation, packed bits, chunked similarity)."""

import numpy as np
import pytest
import torch

from bench_core import ConfigError
from bench_probes import HEADS, build_head, list_poolings, load_pooling_config
from bench_probes.heads.protobin import binarize_ste
from bench_probes.heads.similarity import max_cosine

D, C, F = 32, 5, 2
J = 3


def inputs(b: int = 3, t: int = 6, seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(b, t, F, D, generator=g)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 4:] = False
    return tokens, mask, torch.randn(b, D, generator=g)


def expected_parameters(name: str) -> int:
    """Closed-form parameter counts, from the definitions in the heads' docstrings."""
    linear = D * C + C
    k = J * C
    return {
        "linear": linear,
        "mlp": D * D + D + linear,
        "linearc": 2 * D * C + C,
        "conv": 9 * D * 16 + 16 + 16 * C + C,
        "linpre": linear,
        "mhca": D + 2 * D * D + linear,
        "ep": 8 * D + D * D + D + linear,
        "simpool": 2 * D + linear,
        "abmilp": D * D + D + D + 1 + linear,
        "proto": k * D + k * C + C,
        "protobin": k * D + k * C + C,
    }[name]


PARAMS = {
    "conv": {"channels": 16},
    "ep": {"num_queries": 8},
    "mhca": {"num_heads": 4},
    "proto": {"prototypes_per_class": J},
    "protobin": {"prototypes_per_class": J},
}


def head(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if name == "linpre-mean":
        return build_head("linpre", D, C, F, pool="mean")
    return build_head(name, D, C, F, **PARAMS.get(name, {}))


def test_every_pooling_config_names_a_registered_head() -> None:
    configs = {name: load_pooling_config(name) for name in list_poolings()}
    assert set(configs) == set(HEADS)
    for config in configs.values():
        assert config.search == "default"
        build_head(config.head, D, C, F, **config.params)  # the configured params are accepted
    assert load_pooling_config("proto", "as20k").params["prototypes_per_class"] == 10
    assert load_pooling_config("proto", "esc50").params["prototypes_per_class"] == 20


@pytest.mark.parametrize("name", sorted(HEADS))
def test_shape_parameter_count_and_gradients_reach_every_parameter(name: str) -> None:
    probe = head(name)
    assert sum(p.numel() for p in probe.parameters()) == expected_parameters(name)
    logits = probe(*inputs())
    assert logits.shape == (3, C) and torch.isfinite(logits).all()
    (logits * torch.randn(3, C, generator=torch.Generator().manual_seed(1))).sum().backward()
    for param_name, param in probe.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, param_name


@pytest.mark.parametrize("name", [*sorted(HEADS), "linpre-mean"])
def test_mask_invariance_padding_changes_nothing(name: str) -> None:
    probe = head(name).eval()
    tokens, mask, cls = inputs()
    garbage = torch.randn(3, 4, F, D, generator=torch.Generator().manual_seed(2)) * 1e4
    padded_tokens = torch.cat([tokens, garbage], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(3, 4, dtype=torch.bool)], dim=1)
    # garbage (huge values, NaN) in already-masked positions must not matter either
    tokens_garbage = tokens.clone()
    tokens_garbage[1, 4] = 1e4
    tokens_garbage[1, 5] = float("nan")
    with torch.no_grad():
        reference = probe(tokens, mask, cls)
        torch.testing.assert_close(probe(padded_tokens, padded_mask, cls), reference)
        torch.testing.assert_close(probe(tokens_garbage, mask, cls), reference)
        # a clip alone gives what it gives inside a batch of longer clips
        torch.testing.assert_close(probe(tokens[1:2, :4], mask[1:2, :4], cls[1:2]), reference[1:2])


def test_heads_with_size_constraints_explain_them() -> None:
    with pytest.raises(ConfigError, match="num_queries"):
        build_head("ep", 48, C, F, num_queries=32)
    with pytest.raises(ConfigError, match="unknown pooling head"):
        build_head("nope", D, C, F)
    assert build_head("mhca", 768, C, F).num_heads == 12  # the paper's 12 heads at D = 768


def test_protobin_parameter_count_matches_paper() -> None:
    paper = build_head("protobin", 768, 527, 8, prototypes_per_class=19)
    k = paper.num_prototypes
    assert k == 19 * 527
    assert sum(p.numel() for p in paper.parameters()) == k * 768 + k * 527 + 527
    assert 10_000 * 768 + 10_000 * 527 + 527 == 12_950_527  # the paper's K = 10,000 count


def test_sign_with_zero_positive_and_straight_through_gradient() -> None:
    w = torch.tensor([-0.3, 0.0, 0.2], requires_grad=True)
    out = binarize_ste(w)
    assert out.tolist() == [-1.0, 1.0, 1.0]
    (out * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 3.0]  # identity gradient


def test_packed_prototypes_give_identical_logits() -> None:
    probe = build_head("protobin", D, C, F, prototypes_per_class=3).eval()
    packed = probe.packed_prototypes()
    assert packed.dtype == np.uint8 and packed.shape == (15, 4)  # 32 bits -> 4 bytes each
    tokens, mask, cls = inputs()
    with torch.no_grad():
        torch.testing.assert_close(
            probe.forward_packed(tokens, mask, packed), probe(tokens, mask, cls), rtol=0, atol=0
        )


def test_weight_decay_excluded_from_prototypes_by_default() -> None:
    for name in ("protobin", "proto"):
        assert build_head(name, D, C, F).no_weight_decay() == {"prototypes"}
        assert build_head(name, D, C, F, decay_prototypes=True).no_weight_decay() == set()


def reference_max_cosine(units, valid, prototypes):
    similarity = units @ prototypes.t()
    return similarity.masked_fill(~valid[:, :, None], float("-inf")).amax(dim=1)


@pytest.mark.parametrize("chunk_elements", [1, 50, 1 << 25])
def test_chunked_max_cosine_equals_the_full_similarity_tensor(chunk_elements: int) -> None:
    g = torch.Generator().manual_seed(3)
    units = torch.nn.functional.normalize(torch.randn(4, 9, 8, generator=g), dim=-1)
    valid = torch.rand(4, 9, generator=g) < 0.7
    valid[:, 0] = True
    weights = torch.randn(11, 8, generator=g)
    out_grad = torch.randn(4, 11, generator=g)
    results = []
    for fn in (reference_max_cosine, lambda u, v, p: max_cosine(u, v, p, chunk_elements)):
        u = units.clone().requires_grad_(True)
        p = weights.clone().requires_grad_(True)
        value = fn(u, valid, torch.nn.functional.normalize(p, dim=-1))
        (value * out_grad).sum().backward()
        results.append((value.detach(), u.grad, p.grad))
    for ours, reference in zip(results[1], results[0], strict=True):
        torch.testing.assert_close(ours, reference)


@pytest.mark.parametrize("name", ["proto", "protobin"])
def test_prototype_heads_never_keep_the_similarity_tensor(name: str) -> None:
    """Autograd saves nothing of size B x N x K: memory does not grow with tokens x prototypes."""
    probe = build_head(name, D, C, F, prototypes_per_class=40)  # K = 200
    tokens, mask, cls = inputs(b=4, t=30)
    saved = []

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        saved.append(tensor.numel())
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        probe(tokens, mask, cls).sum().backward()
    b, n, k = 4, 30 * F, 200
    assert max(saved) < b * n * k


@pytest.mark.parametrize("name", sorted(HEADS))
def test_bf16_autocast_runs_forward_and_backward(name: str) -> None:
    """The GPU path trains under bf16 autocast; CPU autocast exercises the same dtype mixing."""
    probe = head(name)
    tokens, mask, cls = inputs()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = probe(tokens, mask, cls)
    logits.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in probe.parameters())
    with torch.no_grad():
        torch.testing.assert_close(logits.float(), probe(tokens, mask, cls), atol=0.05, rtol=0.05)
