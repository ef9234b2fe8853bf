"""Audio-MAE (Huang et al. 2022): the official ViT-B/16 encoder of facebookresearch/AudioMAE.

After the official code (models_mae.py `MaskedAutoencoderViT` encoder, util/pos_embed.py,
util/patch_embed.py, dataset.py, main_pretrain.py):
- front-end: Kaldi fbank of the mean-subtracted 16 kHz wave, 128 mels, 25/10 ms hanning,
  htk_compat, no dither, 1024 frames, normalised (x - mean) / (2 * std) with the AudioSet
  statistics of their `norm_stats` at full precision (-4.2677393, 4.5689974; design.md rounds
  them to -4.2677 / 4.5690);
- encoder: `ViTAudioEncoder` (vit.py): pre-norm timm blocks with qkv bias, final `norm`, 64 x 8
  patch grid; cls token plus position row 0 (all zeros) prepended to the patches;
- the fixed sin-cos position table is the official one, quirk included: `PatchEmbed_org` reports
  its grid as (128/16, 1024/16) = (8, 64), so the table is built for 8 rows x 64 columns and
  added, row-major, to the time-major 64 x 8 patch sequence (patch (t, f) gets row
  (8t + f) // 64 and column (8t + f) % 64). The table is also stored in every checkpoint.

Which norm the tokens pass: `norm`, for every selected layer (why: see `ViTAudioEncoder`). The
pre-trained checkpoint, the one the paper probes, carries `norm` as trained; `fc_norm` exists only
in the fine-tuning model (`models_vit.py`, global_pool), where it normalises the mean-pooled
vector fed to the classifier, not the tokens, and is absent from pre-trained checkpoints.

Checkpoint: the official training save `{"model": state_dict, "optimizer", "epoch", "scaler",
"args"}`; the MAE decoder (`decoder_*`, `mask_token`) is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from bench_encoders.checkpoints import CheckpointError, convert_keys
from bench_encoders.frontends import FbankConfig
from bench_encoders.layers import sincos_2d
from bench_encoders.vit import ViTAudioEncoder, ViTConfig

AUDIOMAE_FBANK = FbankConfig(
    sample_rate=16000,
    num_mel_bins=128,
    window="hanning",
    htk_compat=True,
    subtract_wave_mean=True,
    norm_mean=-4.2677393,
    norm_std=4.5689974,
)

AUDIOMAE_PRESETS: dict[str, ViTConfig] = {
    "base": ViTConfig(),
    "tiny": ViTConfig(embed_dim=64, depth=2, num_heads=4),
}


def audiomae_positions(config: ViTConfig) -> Tensor:
    """The official fixed table (1 + T*F, D): a zero cls row, then sin-cos over the grid as
    `PatchEmbed_org.patch_hw` names it, (freq, time) rows x columns, read in patch order."""
    time, freq = config.grid
    table = sincos_2d(config.embed_dim, rows=freq, cols=time)
    return torch.cat([table.new_zeros(1, config.embed_dim), table])


def build_audiomae(name: str, preset: str) -> ViTAudioEncoder:
    config = AUDIOMAE_PRESETS[preset]
    return ViTAudioEncoder(
        name=name,
        arch="audiomae",
        preset=preset,
        config=config,
        fbank=AUDIOMAE_FBANK,
        positions=audiomae_positions(config),
    )


_MAE_DECODER = ("decoder_", "mask_token")


def audiomae_checkpoint_filter_fn(checkpoint: Mapping[str, object]) -> dict[str, Tensor]:
    """Official Audio-MAE save to this module's keys: the encoder's names are timm's, as ours;
    the decoder goes. A fine-tuned save (`fc_norm`, `head`, no `norm`) is refused by `load_exact`
    with those keys named."""
    state = checkpoint.get("model", checkpoint)
    if not isinstance(state, Mapping):
        raise CheckpointError("Audio-MAE checkpoint has no 'model' state dict")
    return convert_keys(state, {}, _MAE_DECODER)
