"""`hf:<folder>`: tiny random transformers models saved with their feature extractors, loaded
through the generic adapter with no network."""

from pathlib import Path

import pytest
import torch

from bench_core import ConfigError, MissingResourceError
from bench_encoders import CheckpointError, create_encoder
from tests.encoders.common import encode, noise
from tests.encoders.hf_models import save_ast, save_clap, save_wav2vec2, save_whisper


def test_ast_patch_grid_and_cls(tmp_path: Path) -> None:
    encoder, weights = create_encoder(f"hf:{save_ast(tmp_path / 'ast')}")
    assert weights.source == "checkpoint" and len(weights.sha256 or "") == 64
    # window: 128 frames = 20720 samples; patches (32 mel - 16) // 10 + 1 = 2 freq x 12 time
    out = encode(encoder, [noise(0.5, 0), noise(3, 1)])
    assert encoder.info.freq_tokens == 2 and encoder.info.has_cls
    # 3 s = 20720 + 20720 + 6560 samples -> 12 + 12 + ceil(39 frames / 10) tokens; 0.5 s -> 5
    assert out.tokens.shape[2:] == (12 + 12 + 4, 2, 32)
    assert out.mask.sum(dim=1).tolist() == [5, 28]
    model = encoder.model
    inputs = encoder.adapter.extractor(
        [noise(0.5, 0).numpy()], sampling_rate=16000, return_tensors="pt"
    )
    with torch.inference_mode():
        reference = model(**inputs).last_hidden_state[0]
    grid = reference[2:].reshape(2, 12, 32).transpose(0, 1)
    torch.testing.assert_close(out.tokens[0, 0, :5], grid[:5], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(
        out.cls[0, 0], (reference[0] + reference[1]) / 2, atol=1e-5, rtol=1e-4
    )
    both = encode(encoder, [noise(0.5, 0)], layers=[0, 1])
    torch.testing.assert_close(both.tokens[:, 1, :5], out.tokens[:1, 0, :5], atol=1e-5, rtol=1e-4)
    assert not torch.allclose(both.tokens[:, 0], both.tokens[:, 1])


@pytest.mark.parametrize(
    ("masked", "model_type"), [(True, "wav2vec2"), (False, "wav2vec2"), (False, "hubert")]
)
def test_waveform_models_batch_without_changing_valid_tokens(
    tmp_path: Path, masked: bool, model_type: str
) -> None:
    encoder, _ = create_encoder(f"hf:{save_wav2vec2(tmp_path / model_type, masked, model_type)}")
    assert encoder.adapter.batched is masked and encoder.info.freq_tokens == 1
    short, long = noise(0.7, 2), noise(2, 3)
    alone = encode(encoder, [short], layers=[0, -1])
    batched = encode(encoder, [long, short], layers=[0, -1])
    steps = int(alone.mask[0].sum())
    assert steps == int(encoder.model._get_feat_extract_output_lengths(len(short)))
    assert batched.mask.sum(dim=1).tolist() == [
        int(encoder.model._get_feat_extract_output_lengths(len(long))),
        steps,
    ]
    torch.testing.assert_close(batched.tokens[1, :, :steps], alone.tokens[0], atol=1e-4, rtol=1e-4)


def test_whisper_encoder_over_fixed_windows(tmp_path: Path) -> None:
    encoder, _ = create_encoder(f"hf:{save_whisper(tmp_path / 'whisper')}")
    # 1 s windows of 50 positions (320 samples each); 2.5 s -> 50 + 50 + 25 tokens
    out = encode(encoder, [noise(2.5, 4), noise(0.3, 5)], layers=[0, 1])
    assert out.tokens.shape == (2, 2, 125, 1, 32)
    assert out.mask.sum(dim=1).tolist() == [125, 15]
    last = encode(encoder, [noise(0.3, 5)])
    torch.testing.assert_close(out.tokens[1, 1:, :15], last.tokens[0, :, :15], atol=1e-5, rtol=1e-4)


def test_clap_audio_map(tmp_path: Path) -> None:
    encoder, _ = create_encoder(f"hf:{save_clap(tmp_path / 'clap')}")
    # 2 s windows -> HTS-AT's final map of 2 freq x 32 time tokens; 5 s = 32 + 32 + 16
    out = encode(encoder, [noise(5, 6), noise(0.5, 7)])
    assert out.tokens.shape == (2, 1, 80, 2, 32)
    assert out.mask.sum(dim=1).tolist() == [80, 8]
    alone = encode(encoder, [noise(0.5, 7)])
    torch.testing.assert_close(out.tokens[1, :, :8], alone.tokens[0, :, :8], atol=1e-5, rtol=1e-4)


def test_random_weights_missing_weights_and_bad_names(tmp_path: Path) -> None:
    folder = save_ast(tmp_path / "ast")
    a, weights = create_encoder(f"hf:{folder}", random_weights=True, seed=3)
    b, _ = create_encoder(f"hf:{folder}", random_weights=True, seed=3)
    assert weights.identity() == {"source": "random", "seed": 3}
    assert torch.equal(
        a.model.layers[0].attention.q_proj.weight, b.model.layers[0].attention.q_proj.weight
    )

    from safetensors.torch import load_file, save_file

    state = load_file(str(folder / "model.safetensors"))
    del state["encoder.layer.1.output.dense.weight"]  # the layout transformers saves
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"missing keys: layers\.1\.mlp\.fc2\.weight"):
        create_encoder(f"hf:{folder}")
    with pytest.raises(MissingResourceError, match="does not exist"):
        create_encoder(f"hf:{tmp_path / 'nope'}")
    with pytest.raises(ConfigError, match="--preset"):
        create_encoder(f"hf:{folder}", random_weights=True, preset="tiny")
