"""Dasheng: geometry, 1008-frame chunks, batching, both released checkpoint layouts."""

from pathlib import Path

import pytest
import torch

from bench_encoders import CheckpointError, create_encoder
from tests.encoders.common import encode, noise
from tests.encoders.official_layouts import (
    dasheng_official_state,
    write_dasheng_hf,
    write_dasheng_official,
)


def tiny(seed: int = 0):
    encoder, _ = create_encoder("dasheng", random_weights=True, preset="tiny", seed=seed)
    return encoder


def test_token_grid_and_official_chunks() -> None:
    encoder = tiny()
    out = encode(encoder, [noise(25, 0), noise(10, 1)])
    # 10 s -> 1001 frames -> 250 x 1 tokens; 25 s -> 2501 frames = 1008 + 1008 + 485 -> 252+252+121
    assert out.tokens.shape == (2, 1, 625, 1, 64)
    assert (
        out.mask.sum(dim=1).tolist() == [625, 250] == [encoder.token_steps(n) for n in (2501, 1001)]
    )
    # the first chunk alone: its last (centred) frame reads 256 samples past frame 1007's centre
    first = encode(encoder, [noise(25, 0)[: 1007 * 160 + 256]])
    torch.testing.assert_close(
        out.tokens[0, :, :252], first.tokens[0, :, :252], atol=1e-5, rtol=1e-4
    )


def test_batching_does_not_change_valid_tokens() -> None:
    encoder = tiny()
    short, long = noise(2.37, 2), noise(7, 3)
    alone = encode(encoder, [short], layers=[0, -1])
    batched = encode(encoder, [long, short], layers=[0, -1])
    steps = int(alone.mask[0].sum())
    torch.testing.assert_close(batched.tokens[1, :, :steps], alone.tokens[0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(batched.cls[1], alone.cls[0], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("layout", ["zenodo", "huggingface"])
def test_official_checkpoint_loads_to_identical_outputs(tmp_path: Path, layout: str) -> None:
    source = tiny(seed=7)
    with torch.no_grad():  # non-trivial normalisation statistics
        source.init_bn.running_mean.uniform_(-40, -10)
        source.init_bn.running_var.uniform_(50, 200)
    own = source.state_dict()
    if layout == "zenodo":
        path = write_dasheng_official(own, tmp_path / "dasheng_base.pt")
    else:
        path = write_dasheng_hf(own, tmp_path / "dasheng-base")
    loaded, weights = create_encoder("dasheng", checkpoint=path, preset="tiny")
    assert len(weights.sha256 or "") == 64
    waves = [noise(3, 4)]
    torch.testing.assert_close(
        encode(loaded, waves).tokens, encode(source, waves).tokens, atol=0, rtol=0
    )


def test_mismatching_checkpoint_names_the_keys(tmp_path: Path) -> None:
    state = dasheng_official_state(tiny().state_dict())
    del state["blocks.0.attn.qkv.bias"]
    state["cls_token"] = torch.zeros(1, 1, 64)
    torch.save({"model": state, "config": {}}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as error:
        create_encoder("dasheng", checkpoint=tmp_path / "bad.pt", preset="tiny")
    assert "blocks.0.attn.qkv.bias" in str(error.value) and "cls_token" in str(error.value)
