"""BEATs: geometry, front-end, batching, official checkpoints (pre-trained and fine-tuned)."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torchaudio.compliance import kaldi

from bench_encoders import CheckpointError, create_encoder
from bench_encoders.beats import BEATS_PRESETS, relative_position_bucket
from tests.encoders.common import encode, noise
from tests.encoders.official_layouts import beats_official_state, write_beats_official


def tiny(seed: int = 0, name: str = "beats"):
    encoder, _ = create_encoder(name, random_weights=True, preset="tiny", seed=seed)
    return encoder


def test_token_grid_drops_the_partial_patch_like_the_official_code() -> None:
    encoder = tiny()
    out = encode(encoder, [noise(10, 0), noise(3, 1), noise(0.1, 2)])
    # 10 s -> 998 frames -> 62 full 16-frame patches x 8; 0.1 s (8 frames) keeps one padded patch
    assert out.tokens.shape == (3, 1, 62, 8, 64)
    assert (
        out.mask.sum(dim=1).tolist()
        == [62, 18, 1]
        == [encoder.token_steps(n) for n in (998, 298, 8)]
    )
    assert not encoder.info.has_cls
    valid = out.tokens[1, 0, :18]
    torch.testing.assert_close(out.cls[1, 0], valid.mean(dim=(0, 1)), atol=1e-5, rtol=1e-5)


def test_frontend_matches_official_preprocess() -> None:
    wave = noise(2, 3)
    features, _ = tiny().frontend(wave[None], torch.tensor([len(wave)]))
    # BEATs.preprocess: int16 scale, torchaudio Kaldi defaults (povey), fixed normalisation
    official = kaldi.fbank(
        wave[None] * 2**15,
        num_mel_bins=128,
        sample_frequency=16000,
        frame_length=25,
        frame_shift=10,
    )
    official = (official - 15.41663) / (2 * 6.55582)
    torch.testing.assert_close(features[0], official, atol=2e-5, rtol=1e-5)


def test_batching_does_not_change_valid_tokens() -> None:
    encoder = tiny()
    short, long = noise(3.3, 4), noise(8, 5)
    alone = encode(encoder, [short])
    batched = encode(encoder, [long, short])
    steps = int(alone.mask[0].sum())
    assert int(batched.mask[1].sum()) == steps
    torch.testing.assert_close(batched.tokens[1, :, :steps], alone.tokens[0], atol=1e-4, rtol=1e-4)


def test_relative_position_buckets() -> None:
    offsets = torch.tensor([0, 1, -1, 79, -80, 100, 799, 800, 5000, -5000])
    # exact below 80 per direction, log-spaced to max_distance 800, positive offsets offset by 160
    expected = [0, 161, 1, 239, 80, 247, 319, 319, 319, 159]
    assert relative_position_bucket(offsets, 320, 800).tolist() == expected


@pytest.mark.parametrize(("name", "finetuned"), [("beats", False), ("beats+", True)])
def test_official_checkpoint_loads_to_identical_outputs(
    tmp_path: Path, name: str, finetuned: bool
) -> None:
    source = tiny(seed=7, name=name)
    path = write_beats_official(
        source.state_dict(), source.config, tmp_path / "BEATs.pt", finetuned
    )
    loaded, weights = create_encoder(name, checkpoint=path, preset="tiny")
    assert weights.source == "checkpoint" and loaded.info.preset == "tiny"
    waves = [noise(4, 6)]
    torch.testing.assert_close(
        encode(loaded, waves).tokens, encode(source, waves).tokens, atol=0, rtol=0
    )


def test_module_is_built_from_the_checkpoint_cfg(tmp_path: Path) -> None:
    config = replace(
        BEATS_PRESETS["tiny"], encoder_layers=3, deep_norm=False, gru_rel_pos=False, embed_dim=64
    )
    from bench_encoders.beats import BEATsEncoder

    torch.manual_seed(0)
    source = BEATsEncoder("beats", "custom", config).eval()
    path = write_beats_official(source.state_dict(), config, tmp_path / "custom.pt")
    loaded, _ = create_encoder("beats", checkpoint=path)  # preset "base" does not apply
    assert loaded.info.num_layers == 3 and loaded.info.preset == "checkpoint"
    assert loaded.post_extract_proj is None
    waves = [noise(2, 8)]
    torch.testing.assert_close(
        encode(loaded, waves).tokens, encode(source, waves).tokens, atol=0, rtol=0
    )


def test_mismatching_checkpoints_name_the_keys(tmp_path: Path) -> None:
    source = tiny()
    state = beats_official_state(source.state_dict())
    del state["encoder.layers.1.fc2.weight"]
    state["encoder.layers.1.surprise"] = torch.zeros(1)
    cfg = {
        "encoder_layers": 2,
        "encoder_embed_dim": 64,
        "encoder_ffn_embed_dim": 128,
        "encoder_attention_heads": 4,
        "conv_pos": 16,
        "conv_pos_groups": 4,
        "embed_dim": 32,
    }
    torch.save({"cfg": cfg, "model": state}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError) as error:
        create_encoder("beats", checkpoint=tmp_path / "bad.pt")
    assert "encoder.layers.1.fc2.weight" in str(error.value)
    assert "encoder.layers.1.surprise" in str(error.value)

    state = beats_official_state(source.state_dict())
    state["encoder.layers.1.self_attn.relative_attention_bias.weight"] += 1
    torch.save({"cfg": cfg, "model": state}, tmp_path / "unshared.pt")
    with pytest.raises(CheckpointError, match=r"layers\.1\.self_attn\.relative_attention_bias"):
        create_encoder("beats", checkpoint=tmp_path / "unshared.pt")

    torch.save({"cfg": {**cfg, "layer_norm_first": True}, "model": state}, tmp_path / "pre.pt")
    with pytest.raises(CheckpointError, match="layer_norm_first"):
        create_encoder("beats", checkpoint=tmp_path / "pre.pt")
    torch.save({"model": state}, tmp_path / "nocfg.pt")
    with pytest.raises(CheckpointError, match="'cfg'"):
        create_encoder("beats", checkpoint=tmp_path / "nocfg.pt")
