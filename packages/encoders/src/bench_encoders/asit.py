"""ASiT (Atito et al. 2022): the official encoder of github.com/Sara-Ahmed/ASiT.

After the official code (vision_transformer.py `vit_base`, data_transformations.py, main_ASiT.py):
- front-end: audio at 32 kHz (`SAMPLE_RATE = 32000`), Kaldi fbank of the mean-subtracted wave,
  128 mels, 25/10 ms hanning, htk_compat, no dither, cut or zero-padded to `num_frames` = 592
  (6 s crops give 598 frames), normalised (x - mean) / (2 * std) with `data_mean` -4.2677393 and
  `data_std` 4.5689974;
- encoder: `ViTAudioEncoder` (vit.py) with in_chans 1 over (592 x 128): a 37 x 8 patch grid per
  window, a learned (1 + 296) position table added after the cls token is prepended, pre-norm
  blocks with qkv bias, final `norm` (which every returned layer passes, see `ViTAudioEncoder`).
  One window covers 5.92 s; longer clips are chunked by the base class: a 10 s clip (998 frames
  at 32 kHz) gives 37 + 26 = 63 time tokens of 8 frequency patches.

Checkpoint: the official training save `{"student", "teacher", "optimizer", "epoch", "args",
"loss_cls", "loss_data", "fp16_scaler"}`, each network a `FullPipeline` with `backbone.`,
`head_cls.` and `head_recons.` (the student also under DDP's `module.`). We load the teacher's
backbone, as the DINO code that ASiT's training loop is built on evaluates
(`checkpoint_key="teacher"` in DINO's eval_linear / eval_knn): the momentum teacher is the network
whose outputs are the training targets, and it is the better-performing encoder of the pair. A
state dict saved without the training wrapper (`backbone.` keys, or bare encoder keys) loads too.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from bench_encoders.checkpoints import CheckpointError, convert_keys, strip_prefix
from bench_encoders.frontends import FbankConfig
from bench_encoders.vit import ViTAudioEncoder, ViTConfig

ASIT_FBANK = FbankConfig(
    sample_rate=32000,
    num_mel_bins=128,
    window="hanning",
    htk_compat=True,
    subtract_wave_mean=True,
    norm_mean=-4.2677393,
    norm_std=4.5689974,
)

ASIT_PRESETS: dict[str, ViTConfig] = {
    "base": ViTConfig(window_frames=592),
    "tiny": ViTConfig(embed_dim=64, depth=2, num_heads=4, window_frames=592),
}


def build_asit(name: str, preset: str) -> ViTAudioEncoder:
    config = ASIT_PRESETS[preset]
    time, freq = config.grid
    positions = torch.nn.init.trunc_normal_(
        torch.empty(1 + time * freq, config.embed_dim), std=0.02
    )
    return ViTAudioEncoder(
        name=name, arch="asit", preset=preset, config=config, fbank=ASIT_FBANK, positions=positions
    )


def asit_checkpoint_filter_fn(checkpoint: Mapping[str, object]) -> dict[str, Tensor]:
    """Official ASiT training save (or a bare backbone state dict) to this module's keys: the
    teacher's backbone; its projection and reconstruction heads go."""
    state = checkpoint.get("teacher", checkpoint)
    if not isinstance(state, Mapping):
        raise CheckpointError("ASiT checkpoint has no 'teacher' state dict")
    state = strip_prefix(strip_prefix(state, "module."), "backbone.")
    return convert_keys(state, {}, ("head_cls.", "head_recons."))
