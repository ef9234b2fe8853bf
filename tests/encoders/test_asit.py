from pathlib import Path

import pytest
import torch

from bench_encoders import CheckpointError, create_encoder
from tests.encoders.official_layouts import asit_pipeline_state, write_asit

SR = 32000


def tiny(seed: int = 0):
    encoder, _ = create_encoder("asit", random_weights=True, preset="tiny", seed=seed)
    return encoder


def run(encoder, wave: torch.Tensor):
    with torch.inference_mode():
        return encoder(wave[None], torch.tensor([len(wave)]))


def test_geometry_follows_the_official_code() -> None:
    info = tiny().info
    assert (info.sample_rate, info.window_frames, info.frames_per_token) == (32000, 592, 16)
    # one window: 592 frames -> 37 x 8 patches, a learned (1 + 296)-row position table
    assert tiny().pos_embed.shape == (1, 1 + 37 * 8, 64)


def test_teacher_of_the_training_save_is_loaded(tmp_path: Path) -> None:
    teacher, student = tiny(seed=7), tiny(seed=8)
    path = write_asit(teacher.state_dict(), student.state_dict(), tmp_path / "checkpoint.pth")
    loaded, weights = create_encoder("asit", checkpoint=path, preset="tiny")
    assert weights.source == "checkpoint"
    wave = torch.randn(SR * 4) * 0.1
    expected = run(teacher, wave)
    got = run(loaded, wave)
    torch.testing.assert_close(got.tokens, expected.tokens, atol=0, rtol=0)
    torch.testing.assert_close(got.cls, expected.cls, atol=0, rtol=0)
    assert not torch.allclose(got.tokens, run(student, wave).tokens)


def test_bare_backbone_state_dict_loads(tmp_path: Path) -> None:
    source = tiny(seed=5)
    state = {k: v for k, v in asit_pipeline_state(source.state_dict(), "").items()}
    torch.save(state, tmp_path / "teacher_backbone.pth")
    loaded, _ = create_encoder("asit", checkpoint=tmp_path / "teacher_backbone.pth", preset="tiny")
    wave = torch.randn(SR) * 0.1
    torch.testing.assert_close(run(loaded, wave).tokens, run(source, wave).tokens, atol=0, rtol=0)


def test_missing_keys_are_named(tmp_path: Path) -> None:
    own = tiny().state_dict()
    path = write_asit(own, own, tmp_path / "checkpoint.pth")
    checkpoint = torch.load(path, weights_only=False)
    del checkpoint["teacher"]["backbone.pos_embed"]
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError, match="missing keys: pos_embed"):
        create_encoder("asit", checkpoint=path, preset="tiny")
