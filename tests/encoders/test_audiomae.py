import math
from pathlib import Path

import pytest
import torch

from bench_encoders import CheckpointError, create_encoder
from bench_encoders.audiomae import AUDIOMAE_PRESETS, audiomae_positions
from tests.encoders.official_layouts import audiomae_state, write_audiomae

SR = 16000


def tiny(seed: int = 0):
    encoder, _ = create_encoder("audiomae", random_weights=True, preset="tiny", seed=seed)
    return encoder


def run(encoder, wave: torch.Tensor):
    with torch.inference_mode():
        return encoder(wave[None], torch.tensor([len(wave)]))


def sincos(position: float, dim: int) -> torch.Tensor:
    """One axis of the MAE table: [sin | cos] of position / 10000^(2i/dim)."""
    omega = [1.0 / 10000 ** (i / (dim / 2)) for i in range(dim // 2)]
    return torch.tensor(
        [math.sin(position * w) for w in omega] + [math.cos(position * w) for w in omega]
    )


def test_position_table_is_the_official_8_by_64_one() -> None:
    table = audiomae_positions(AUDIOMAE_PRESETS["tiny"])
    assert table.shape == (1 + 64 * 8, 64)
    assert not table[0].any()  # the cls row is zero
    # PatchEmbed_org names its grid (8, 64): the time-major patch (t, f) = (1, 0), sequence index 8,
    # gets column 8 (first half of the channels) and row 0 (second half)
    torch.testing.assert_close(table[1 + 8, :32], sincos(8, 32).float())
    torch.testing.assert_close(table[1 + 8, 32:], sincos(0, 32).float())
    # sequence index 64 * 3 + 5 = patch (24, 5): row 3, column 5
    torch.testing.assert_close(table[1 + 197, :32], sincos(5, 32).float())
    torch.testing.assert_close(table[1 + 197, 32:], sincos(3, 32).float())


def test_official_checkpoint_loads_to_identical_outputs(tmp_path: Path) -> None:
    source = tiny(seed=7)
    with torch.no_grad():  # a trained final norm: the tokens must pass through the loaded one
        source.norm.weight.normal_(1.0, 0.3)
    path = write_audiomae(source.state_dict(), tmp_path / "pretrained.pth")
    loaded, weights = create_encoder("audiomae", checkpoint=path, preset="tiny")
    assert weights.source == "checkpoint"
    wave = torch.randn(SR * 4) * 0.1
    expected = run(source, wave)
    got = run(loaded, wave)
    torch.testing.assert_close(got.tokens, expected.tokens, atol=0, rtol=0)
    torch.testing.assert_close(got.cls, expected.cls, atol=0, rtol=0)


def test_tokens_pass_the_final_norm() -> None:
    encoder = tiny(seed=3)
    with torch.no_grad():
        encoder.norm.bias.fill_(5.0)
        encoder.norm.weight.zero_()
    out = run(encoder, torch.randn(SR * 2) * 0.1)
    assert torch.all(out.tokens == 5.0) and torch.all(out.cls == 5.0)


def test_missing_keys_and_finetuned_saves_are_named(tmp_path: Path) -> None:
    state = audiomae_state(tiny().state_dict())
    del state["blocks.1.mlp.fc2.weight"]
    torch.save({"model": state}, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match=r"missing keys: blocks\.1\.mlp\.fc2\.weight"):
        create_encoder("audiomae", checkpoint=tmp_path / "bad.pth", preset="tiny")
    # a fine-tuned save (models_vit.py, global_pool): fc_norm and head instead of norm
    state = audiomae_state(tiny().state_dict())
    state["fc_norm.weight"], state["fc_norm.bias"] = (
        state.pop("norm.weight"),
        state.pop("norm.bias"),
    )
    state["head.weight"] = torch.zeros(527, 64)
    torch.save({"model": state}, tmp_path / "finetuned.pth")
    with pytest.raises(CheckpointError) as error:
        create_encoder("audiomae", checkpoint=tmp_path / "finetuned.pth", preset="tiny")
    assert "norm.weight" in str(error.value) and "fc_norm.weight" in str(error.value)
