"""What every native encoder promises, checked on each in its tiny random config: the token grid,
exact valid-token counts, batch-independent valid tokens, chunking of long inputs, layer
selection, and a front-end equal to the official recipe."""

import pytest
import torch
from torchaudio.compliance import kaldi

from bench_encoders import AudioEncoder, create_encoder

# the official front-end of each backbone: sample rate and normalisation (x - mean) / (2 * std)
OFFICIAL_FBANK = {
    "eat": (16000, -4.268, 4.569),  # EAT feature_extract.py
    "audiomae": (16000, -4.2677393, 4.5689974),  # AudioMAE main_pretrain.py norm_stats
    "asit": (32000, -4.2677393, 4.5689974),  # ASiT data_transformations.py / main_ASiT.py
}


@pytest.fixture(params=sorted(OFFICIAL_FBANK))
def encoder(request: pytest.FixtureRequest) -> AudioEncoder:
    model, _ = create_encoder(request.param, random_weights=True, preset="tiny", seed=0)
    return model


def noise(encoder: AudioEncoder, seconds: float, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(int(encoder.info.sample_rate * seconds), generator=generator) * 0.1


def run(encoder: AudioEncoder, waves: list[torch.Tensor], layers: list[int] | None = None):
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(len(waves), int(lengths.max()))
    for i, w in enumerate(waves):
        batch[i, : len(w)] = w
    with torch.inference_mode():
        return encoder(batch, lengths, layers)


def test_token_grid_and_valid_counts(encoder: AudioEncoder) -> None:
    out = run(encoder, [noise(encoder, 10, 0), noise(encoder, 5, 1)])
    # 10 s -> 998 frames -> 63 time steps (62 full patches + 1 partial; for ASiT 37 + 26 over two
    # 592-frame windows); 5 s -> 498 frames -> 32
    assert encoder.token_steps(998) == 63 and encoder.token_steps(498) == 32
    assert out.tokens.shape == (2, 1, 63, 8, 64)
    assert out.mask.sum(dim=1).tolist() == [63, 32]
    assert out.valid_tokens().tolist() == [504, 256]
    assert out.cls.shape == (2, 1, 64)
    assert encoder.info.has_cls and encoder.info.freq_tokens == 8


def test_batching_does_not_change_valid_tokens(encoder: AudioEncoder) -> None:
    short, long = noise(encoder, 3, 2), noise(encoder, 8, 3)
    alone = run(encoder, [short])
    batched = run(encoder, [long, short])
    steps = int(alone.mask[0].sum())
    torch.testing.assert_close(
        batched.tokens[1, :, :steps], alone.tokens[0, :, :steps], atol=1e-4, rtol=1e-4
    )
    torch.testing.assert_close(batched.cls[1], alone.cls[0], atol=1e-4, rtol=1e-4)
    assert not batched.mask[1, steps:].any()


def test_long_inputs_are_chunked_and_concatenated(encoder: AudioEncoder) -> None:
    wave = noise(encoder, 25, 4)  # 2498 frames
    out = run(encoder, [wave])
    assert int(out.mask[0].sum()) == encoder.token_steps(2498)
    fbank = encoder.frontend.config
    window = encoder.info.window_frames
    first = run(encoder, [wave[: fbank.window_samples + (window - 1) * fbank.shift_samples]])
    steps = window // encoder.info.frames_per_token
    torch.testing.assert_close(
        out.tokens[0, :, :steps], first.tokens[0, :, :steps], atol=1e-4, rtol=1e-4
    )


def test_layer_selection(encoder: AudioEncoder) -> None:
    wave = noise(encoder, 2, 5)
    both = run(encoder, [wave], layers=[0, -1])
    last = run(encoder, [wave])
    assert both.tokens.shape[1] == 2
    torch.testing.assert_close(both.tokens[:, 1], last.tokens[:, 0])
    assert not torch.allclose(both.tokens[:, 0], both.tokens[:, 1])
    with pytest.raises(ValueError, match="out of range"):
        encoder.resolve_layers([5])


def test_frontend_matches_official_recipe(encoder: AudioEncoder) -> None:
    sample_rate, mean, std = OFFICIAL_FBANK[encoder.info.arch]
    assert encoder.info.sample_rate == sample_rate
    wave = noise(encoder, 2, 6)
    features, frames = encoder.frontend(wave[None], torch.tensor([len(wave)]))
    official = kaldi.fbank(
        (wave - wave.mean())[None],
        htk_compat=True,
        sample_frequency=sample_rate,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
    )
    official = (official - mean) / (std * 2)
    assert int(frames[0]) == official.shape[0] == 198
    torch.testing.assert_close(features[0], official)
    # padding is what a zero (official zero-padded) fbank frame becomes after normalisation
    assert encoder.frontend.pad_value == pytest.approx((0.0 - mean) / (std * 2))
