from pathlib import Path

import pytest
import torch

from bench_core import ConfigError, MissingResourceError
from bench_encoders import CheckpointError, create_encoder, load_backbone_config
from bench_encoders.layers import sincos_2d
from tests.encoders.official_layouts import eat_fairseq_state, write_eat_fairseq, write_eat_hf

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


@pytest.mark.parametrize("finetuned", [False, True])
def test_hugging_face_layout_loads_to_identical_outputs(tmp_path: Path, finetuned: bool) -> None:
    source = tiny(seed=8)
    folder = write_eat_hf(source.state_dict(), tmp_path / "EAT-hf", finetuned=finetuned)
    waves = [torch.randn(SR * 4) * 0.1]
    expected = run(source, waves).tokens
    # the model folder, and its safetensors file named directly
    for checkpoint in (folder, folder / "model.safetensors"):
        loaded, weights = create_encoder("eat", checkpoint=checkpoint, preset="tiny")
        assert weights.source == "checkpoint" and len(weights.sha256) == 64
        torch.testing.assert_close(run(loaded, waves).tokens, expected, atol=0, rtol=0)


def test_sslam_is_the_eat_architecture_with_its_own_checkpoints(tmp_path: Path) -> None:
    for name, env in (
        ("sslam", "BENCH_SSLAM_CHECKPOINT"),
        ("sslam+", "BENCH_SSLAM_PLUS_CHECKPOINT"),
    ):
        config = load_backbone_config(name)
        assert config.arch == "eat" and config.checkpoint_env == env
    source = tiny(seed=9)
    waves = [torch.randn(SR * 3) * 0.1]
    expected = run(source, waves).tokens
    hf = write_eat_hf(source.state_dict(), tmp_path / "SSLAM_pretrain")
    fairseq = write_eat_fairseq(source.state_dict(), tmp_path / "sslam_ft.pt", finetuned=True)
    for name, checkpoint in (("sslam", hf), ("sslam+", fairseq)):
        loaded, _ = create_encoder(name, checkpoint=checkpoint, preset="tiny")
        assert loaded.info.name == name
        torch.testing.assert_close(run(loaded, waves).tokens, expected, atol=0, rtol=0)


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
