from pathlib import Path

import pytest
import torch
from torchaudio.compliance import kaldi

from bench_core import ConfigError, MissingResourceError
from bench_encoders import CheckpointError, create_encoder
from bench_encoders.eat import EAT_FBANK
from bench_encoders.layers import sincos_2d
from tests.encoders.official_layouts import eat_fairseq_state, write_eat_fairseq

SR = 16000


def tiny(seed: int = 0):
    encoder, _ = create_encoder("eat", random_weights=True, preset="tiny", seed=seed)
    return encoder


def run(encoder, waves: list[torch.Tensor]):
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(len(waves), int(lengths.max()))
    for i, w in enumerate(waves):
        batch[i, : len(w)] = w
    with torch.inference_mode():
        return encoder(batch, lengths)


def test_token_grid_shapes_and_counts() -> None:
    encoder = tiny()
    out = run(encoder, [torch.randn(SR * 10) * 0.1, torch.randn(SR * 5) * 0.1])
    # 10 s -> 998 frames -> 63 (+1 partial) time patches x 8 frequency patches
    assert out.tokens.shape == (2, 1, 63, 8, 64)
    assert out.mask.sum(dim=1).tolist() == [63, 32]
    assert out.valid_tokens().tolist() == [504, 256]
    assert out.cls.shape == (2, 1, 64)
    assert encoder.info.has_cls and encoder.info.freq_tokens == 8


def test_frontend_matches_official_recipe() -> None:
    wave = torch.randn(SR * 2) * 0.1
    features, frames = tiny().frontend(wave[None], torch.tensor([len(wave)]))
    centered = (wave - wave.mean())[None]
    official = kaldi.fbank(
        centered,
        htk_compat=True,
        sample_frequency=16000,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
    )
    official = (official - (-4.268)) / (4.569 * 2)
    assert int(frames[0]) == official.shape[0]
    torch.testing.assert_close(features[0], official)
    assert EAT_FBANK.norm_mean == -4.268 and EAT_FBANK.norm_std == 4.569


def test_batching_does_not_change_valid_tokens() -> None:
    encoder = tiny()
    short, long = torch.randn(SR * 3) * 0.1, torch.randn(SR * 8) * 0.1
    alone = run(encoder, [short])
    batched = run(encoder, [long, short])
    steps = int(alone.mask[0].sum())
    torch.testing.assert_close(
        batched.tokens[1, :, :steps], alone.tokens[0, :, :steps], atol=1e-5, rtol=1e-4
    )
    torch.testing.assert_close(batched.cls[1], alone.cls[0], atol=1e-5, rtol=1e-4)
    assert not batched.mask[1, steps:].any()


def test_long_inputs_are_chunked_and_concatenated() -> None:
    encoder = tiny()
    wave = torch.randn(SR * 25) * 0.1  # 2498 frames -> windows of 1024, 1024, 450
    out = run(encoder, [wave])
    assert int(out.mask[0].sum()) == 64 + 64 + 29 == encoder.token_steps(2498)
    first = run(encoder, [wave[: 400 + 1023 * 160]])  # exactly the first 1024-frame window
    torch.testing.assert_close(out.tokens[0, :, :64], first.tokens[0, :, :64], atol=1e-5, rtol=1e-4)


def test_layer_selection() -> None:
    encoder = tiny()
    wave = torch.randn(SR * 2) * 0.1
    with torch.inference_mode():
        both = encoder(wave[None], torch.tensor([len(wave)]), layers=[0, -1])
        last = encoder(wave[None], torch.tensor([len(wave)]))
    assert both.tokens.shape[1] == 2
    torch.testing.assert_close(both.tokens[:, 1], last.tokens[:, 0])
    assert not torch.allclose(both.tokens[:, 0], both.tokens[:, 1])
    with pytest.raises(ValueError, match="out of range"):
        encoder.resolve_layers([5])


def test_position_table_follows_mae_convention() -> None:
    table = sincos_2d(8, rows=3, cols=2)
    # row-major patches; first half of channels encodes the column, second half the row
    assert torch.allclose(table[1, :4], torch.tensor([0.8415, 0.0100, 0.5403, 1.0000]), atol=1e-4)
    assert torch.allclose(table[2, 4:], torch.tensor([0.8415, 0.0100, 0.5403, 1.0000]), atol=1e-4)
    assert torch.allclose(table[0], torch.tensor([0.0, 0, 1, 1, 0, 0, 1, 1]))


@pytest.mark.parametrize("finetuned", [False, True])
def test_official_checkpoint_loads_to_identical_outputs(tmp_path: Path, finetuned: bool) -> None:
    source = tiny(seed=7)
    path = write_eat_fairseq(source.state_dict(), tmp_path / "EAT.pt", finetuned=finetuned)
    loaded, weights = create_encoder("eat", checkpoint=path, preset="tiny")
    assert weights.source == "checkpoint" and len(weights.sha256) == 64
    waves = [torch.randn(SR * 4) * 0.1]
    torch.testing.assert_close(run(loaded, waves).tokens, run(source, waves).tokens, atol=0, rtol=0)


def test_missing_and_unexpected_keys_are_named(tmp_path: Path) -> None:
    state = eat_fairseq_state(tiny().state_dict())
    del state["blocks.1.mlp.fc2.weight"]
    state["blocks.1.surprise"] = torch.zeros(1)
    torch.save({"model": state}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as error:
        create_encoder("eat", checkpoint=tmp_path / "bad.pt", preset="tiny")
    assert "blocks.1.mlp.fc2.weight" in str(error.value) and "blocks.1.surprise" in str(error.value)


def test_wrong_size_checkpoint_reports_shapes(tmp_path: Path) -> None:
    path = write_eat_fairseq(tiny().state_dict(), tmp_path / "tiny.pt")
    with pytest.raises(CheckpointError, match="shape mismatches"):
        create_encoder("eat", checkpoint=path, preset="base")


def test_no_silent_random_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BENCH_EAT_CHECKPOINT", raising=False)
    with pytest.raises(MissingResourceError) as error:
        create_encoder("eat")
    assert "BENCH_EAT_CHECKPOINT" in str(error.value) and "--random-weights" in str(error.value)
    with pytest.raises(MissingResourceError, match="does not exist"):
        create_encoder("eat", checkpoint=tmp_path / "nope.pt")
    with pytest.raises(ConfigError, match="not both"):
        create_encoder("eat", checkpoint=tmp_path / "x.pt", random_weights=True)


def test_env_variable_points_to_checkpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write_eat_fairseq(tiny(seed=3).state_dict(), tmp_path / "env.pt")
    monkeypatch.setenv("BENCH_EAT_CHECKPOINT", str(path))
    _, weights = create_encoder("eat", preset="tiny")
    assert weights.path == str(path)


def test_random_weights_are_seeded() -> None:
    a, b, c = tiny(seed=1), tiny(seed=1), tiny(seed=2)
    assert torch.equal(a.blocks[0].attn.qkv.weight, b.blocks[0].attn.qkv.weight)
    assert not torch.equal(a.blocks[0].attn.qkv.weight, c.blocks[0].attn.qkv.weight)
