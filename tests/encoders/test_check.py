"""`check_encoder` over every registered architecture and the Hugging Face adapter."""

from pathlib import Path

import pytest

from bench_encoders import (
    birdnet_available,
    create_encoder,
    get_arch,
    list_backbones,
    load_backbone_config,
)
from bench_encoders.check import check_encoder
from tests.encoders.hf_models import save_ast, save_wav2vec2


def one_backbone_per_arch() -> list[str]:
    """Backbones sharing an architecture ("eat" and "eat+") run the same code in tiny random
    configs (their configs differ only in the checkpoint they expect): check each arch once."""
    firsts: dict[str, str] = {}
    for name in list_backbones():
        firsts.setdefault(load_backbone_config(name).arch, name)
    return sorted(firsts.values())


def assert_passes(name: str, **create: object) -> None:
    arch = None if name.startswith("hf:") else get_arch(load_backbone_config(name).arch)
    if arch is not None and arch.build is None:  # a whole-model file (BirdNET): its shipped weights
        encoder, _ = create_encoder(name)
    else:
        encoder, _ = create_encoder(name, random_weights=True, **create)  # type: ignore[arg-type]
    report = check_encoder(encoder.prepare("cpu"), batch_size=1, repeats=1)
    failed = [f"{c.name}: {c.detail}" for c in report.checks if not c.passed]
    assert report.passed, f"{name}: " + "; ".join(failed)
    assert report.clips_per_second > 0 and len(report.checks) == 7


@pytest.mark.parametrize("name", one_backbone_per_arch())
def test_every_registered_architecture_passes(name: str) -> None:
    if name == "birdnet" and not birdnet_available():
        pytest.skip("the [birdnet] extra is not installed (make setup installs it)")
    assert_passes(name, preset="tiny")


@pytest.mark.parametrize("kind", ["ast", "wav2vec2-group-norm"])
def test_hf_adapter_passes(tmp_path: Path, kind: str) -> None:
    folder = save_ast(tmp_path / kind) if kind == "ast" else save_wav2vec2(tmp_path / kind, False)
    assert_passes(f"hf:{folder}")


def test_a_broken_encoder_fails_the_padding_check() -> None:
    """An encoder whose valid tokens see the padding (attention mask dropped) is caught."""
    encoder, _ = create_encoder("eat", random_weights=True, preset="tiny")
    for block in encoder.blocks:
        attention = block.attn
        attention.forward = lambda x, key_valid=None, a=attention: type(a).forward(a, x, None)
    report = check_encoder(encoder.prepare("cpu"), batch_size=1, repeats=1)
    failed = {c.name for c in report.checks if not c.passed}
    assert failed == {"padding invariance"}
