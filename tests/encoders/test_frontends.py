"""The batched front-ends equal the official per-clip recipes."""

import functools

import pytest
import torch
import torchaudio

from bench_encoders import create_encoder, get_arch, list_backbones, load_backbone_config
from bench_encoders.beats import BEATS_FBANK
from bench_encoders.eat import EAT_FBANK
from bench_encoders.frontends import FbankConfig, KaldiFbank, LogMelConfig, LogMelSpectrogram
from tests.encoders.common import noise, official_fbank


def batch(lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    waves = torch.zeros(len(lengths), max(lengths))
    for i, n in enumerate(lengths):
        waves[i, :n] = noise(n / 16000, seed=i, scale=0.05 * (i + 1))
    return waves, torch.tensor(lengths)


@functools.cache
def backbone_fbank_configs() -> dict[str, FbankConfig]:
    """Each distinct Kaldi parameter set of the registered backbones (EAT's and BEATs' always)."""
    configs = {EAT_FBANK: "eat", BEATS_FBANK: "beats"}
    for name in list_backbones():
        arch = get_arch(load_backbone_config(name).arch)
        if arch.build is None:  # a whole-model file (BirdNET): no fbank of ours
            continue
        frontend = arch.build(name, "tiny" if "tiny" in arch.presets else arch.presets[0]).frontend
        if isinstance(frontend, KaldiFbank):
            configs.setdefault(frontend.config, name)
    return {name: cfg for cfg, name in configs.items()}


@pytest.mark.parametrize("name", sorted(backbone_fbank_configs()))
def test_batched_fbank_equals_torchaudio_per_clip(name: str) -> None:
    cfg = backbone_fbank_configs()[name]
    fbank = KaldiFbank(cfg)
    # a 10 s clip, odd lengths, exactly one analysis window, and a clip with a DC offset
    lengths = [160000, 48123, fbank.min_samples, 16000 + 77]
    waves, lens = batch(lengths)
    waves[3, : lengths[3]] += 0.3
    features, frames = fbank(waves, lens)
    for i, n in enumerate(lengths):
        official = official_fbank(waves[i, :n], cfg)
        assert int(frames[i]) == official.shape[0]
        torch.testing.assert_close(features[i, : official.shape[0]], official, atol=2e-5, rtol=1e-5)
        assert (features[i, official.shape[0] :] == fbank.pad_value).all()


def test_fbank_rejects_clips_shorter_than_a_window() -> None:
    fbank = KaldiFbank(EAT_FBANK)
    with pytest.raises(ValueError, match="400 samples"):
        fbank(torch.zeros(1, 399), torch.tensor([399]))


def test_log_mel_equals_official_dasheng_transform_per_clip() -> None:
    cfg = LogMelConfig()
    official = torch.nn.Sequential(
        torchaudio.transforms.MelSpectrogram(
            sample_rate=16000,
            n_fft=512,
            win_length=512,
            hop_length=160,
            n_mels=64,
            f_min=0,
            f_max=8000,
        ),
        torchaudio.transforms.AmplitudeToDB(top_db=120),
    )
    lengths = [160000, 30001, 257, 47000]
    waves, lens = batch(lengths)
    waves[3, :20000] = 0.0  # digital silence beside loud audio: the top_db clamp is active
    features, frames = LogMelSpectrogram(cfg)(waves, lens)
    for i, n in enumerate(lengths):
        expected = official(waves[i : i + 1, :n])[0].T
        assert int(frames[i]) == expected.shape[0]
        torch.testing.assert_close(features[i, : expected.shape[0]], expected, atol=1e-4, rtol=1e-5)
    clamped = features[3, : int(frames[3])]
    assert float(clamped.min()) == pytest.approx(float(clamped.max()) - 120.0, abs=1e-3)


def test_frontends_ignore_autocast() -> None:
    encoder, _ = create_encoder("beats", random_weights=True, preset="tiny")
    waves, lens = batch([16000, 8000])
    plain, _ = encoder.frontend(waves, lens)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        autocast, _ = encoder.frontend(waves, lens)
    assert autocast.dtype == torch.float32
    torch.testing.assert_close(autocast, plain, atol=0, rtol=0)
