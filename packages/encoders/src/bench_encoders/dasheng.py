"""Dasheng (Dinkel et al. 2024): a masked-autoencoder ViT over a 64-mel spectrogram.

Architecture after the official code (RicherMans/Dasheng, dasheng/train/models.py and
dasheng/pretrained/pretrained.py): a torchaudio mel spectrogram in dB (16 kHz, 512-point FFT and
window, hop 160, 64 HTK mels up to 8 kHz, top_db 120), a BatchNorm over the mel bins (the `init_bn`
whose running statistics are the normalisation), a Conv2d patch embedding of 64 (mel) x 4 (frames)
patches, learned time and frequency position embeddings added separately, pre-norm ViT blocks and
a final LayerNorm. No cls token (pooling "mean"): the pooled stand-in is the masked mean.

Tokens: (T, F) = (frames // 4, 1), 40 ms each; a 10 s clip (1001 frames) gives 250 x 1. Inputs are
encoded in chunks of the official `target_length` of 1008 frames (252 tokens), each with the time
position embeddings restarted, and the chunks concatenated, as the official forward does. As in
the official code on one clip, a partial last patch is dropped (a window shorter than one patch
keeps its single padded patch). The last layer includes the final LayerNorm (the official output);
earlier layers are the raw block outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench_encoders.base import AudioEncoder, EncoderInfo, WindowOutput
from bench_encoders.checkpoints import CheckpointError, strip_prefix
from bench_encoders.frontends import LogMelConfig, LogMelSpectrogram
from bench_encoders.layers import PreNormBlock

DASHENG_MEL = LogMelConfig()


@dataclass(frozen=True)
class DashengConfig:
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_mels: int = 64
    patch_frames: int = 4
    target_length: int = 1008
    norm_eps: float = 1e-6


DASHENG_PRESETS: dict[str, DashengConfig] = {
    "base": DashengConfig(),
    "tiny": DashengConfig(embed_dim=64, depth=2, num_heads=4),
}


class DashengEncoder(AudioEncoder):
    def __init__(self, name: str, preset: str, config: DashengConfig) -> None:
        super().__init__()
        self.config = config
        mels = DASHENG_MEL.n_mels
        freq = mels // config.patch_mels
        self.info = EncoderInfo(
            name=name,
            arch="dasheng",
            preset=preset,
            sample_rate=DASHENG_MEL.sample_rate,
            embed_dim=config.embed_dim,
            num_layers=config.depth,
            freq_tokens=freq,
            frames_per_token=config.patch_frames,
            window_frames=config.target_length,
            has_cls=False,
        )
        self.frontend = LogMelSpectrogram(DASHENG_MEL)
        dim = config.embed_dim
        self.init_bn = nn.BatchNorm1d(mels, momentum=0.01)
        patch = (config.patch_mels, config.patch_frames)
        self.patch_embed = nn.Conv2d(1, dim, kernel_size=patch, stride=patch)
        time_patches = config.target_length // config.patch_frames
        self.time_pos_embed = nn.Parameter(torch.randn(1, dim, 1, time_patches) * 0.02)
        self.freq_pos_embed = nn.Parameter(torch.randn(1, dim, freq, 1) * 0.02)
        self.blocks = nn.ModuleList(
            PreNormBlock(dim, config.num_heads, config.mlp_ratio, config.norm_eps)
            for _ in range(config.depth)
        )
        self.norm = nn.LayerNorm(dim, eps=config.norm_eps)
        self._init_random()

    def _init_random(self) -> None:
        """Official-style initialisation, used only when random weights are asked for."""
        for module in self.blocks.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)

    def time_tokens(self, frames: Tensor) -> Tensor:
        return (frames // self.config.patch_frames).clamp_min(1)

    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        p = self.config.patch_frames
        t = max(1, features.shape[1] // p)
        if features.shape[1] < t * p:
            pad = t * p - features.shape[1]
            features = F.pad(features, (0, 0, 0, pad), value=self.frontend.pad_value)
        bn = self.init_bn  # frozen: always the running statistics, as the official eval() uses
        spec = F.batch_norm(
            features[:, : t * p].transpose(1, 2),
            bn.running_mean,
            bn.running_var,
            bn.weight,
            bn.bias,
            training=False,
            eps=bn.eps,
        )
        x = self.patch_embed(spec.unsqueeze(1))  # (B, D, F, T)
        b, d, f, t = x.shape
        x = x + self.time_pos_embed[..., :t] + self.freq_pos_embed
        x = x.flatten(2).transpose(1, 2)  # official order (f t): frequency-major
        time_valid = torch.arange(t, device=x.device)[None] < self.time_tokens(frames)[:, None]
        key_valid = time_valid[:, None, :].expand(b, f, t).reshape(b, f * t)
        wanted, taken = set(layers), {}
        last = self.config.depth - 1
        for index, block in enumerate(self.blocks):
            x = block(x, key_valid)
            if index in wanted:
                taken[index] = self.norm(x) if index == last else x
            if len(taken) == len(wanted):
                break
        stacked = torch.stack([taken[i] for i in layers], dim=1)  # (B, L, F*T, D)
        tokens = stacked.reshape(b, len(layers), f, t, d).transpose(2, 3)
        return WindowOutput(tokens=tokens, time_valid=time_valid, cls=None)


_FRONT_END = "front_end."
"""The official module's torchaudio buffers (Hann window, mel matrix): recomputed, not loaded."""


def dasheng_checkpoint_filter_fn(checkpoint: Mapping[str, object]) -> dict[str, Tensor]:
    """Official Dasheng weights to this module's keys.

    Two released layouts: the official `dasheng_base.pt` (`{"model": state, "config": ...}`,
    torchaudio front-end buffers included) and the Hugging Face `mispeech/dasheng-base` export
    (encoder keys under `encoder.`, front-end removed, an optional `outputlayer` head, dropped).
    """
    state = checkpoint.get("model", checkpoint)
    if not isinstance(state, Mapping):
        raise CheckpointError("Dasheng checkpoint has no 'model' state dict")
    state = strip_prefix(state, "encoder.")
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.startswith((_FRONT_END, "outputlayer.")) or not isinstance(value, Tensor):
            continue
        key = key.replace("init_bn.1.", "init_bn.", 1).replace(
            "patch_embed.proj.", "patch_embed.", 1
        )
        out[key] = value
    return out
