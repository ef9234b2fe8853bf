"""BEATs (Chen et al. 2023) and its AudioSet fine-tuned checkpoints ("beats+").

Architecture after the official code (microsoft/unilm, beats/BEATs.py and backbone.py): a 16x16
Conv2d patch embedding (no bias) over the (time x 128-mel) fbank image, a LayerNorm, a linear
projection from the patch width (512) to the model width (768), then the fairseq-style encoder:
a convolutional positional embedding (grouped Conv1d with weight normalisation over the kernel
axis, the last output dropped for the even kernel, GELU) added to the token sequence, a LayerNorm,
and post-norm layers whose residual branches are scaled by deep-norm's alpha = (2 N)^(1/4).
Attention adds a bucketed relative position bias (T5 style, computed once from the first layer's
table and shared by all layers), gated per query in each layer (`gru_rel_pos`). There is no cls
token: the pooled stand-in is the masked mean of the tokens.

Tokens are time-major over the flattened patch grid (T, F) = (frames // 16, 8). As in the official
code run on one clip, a partial last patch is dropped (a 10 s clip, 998 frames, gives 62 x 8
tokens); a window shorter than one patch keeps its one padded patch so no clip is left empty.
In a batch the padded tokens are zeroed before the positional convolution and masked as keys, so
a clip's valid tokens do not depend on what it is batched with (the official batched code instead
counts partly padded patches as valid).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from bench_encoders.base import AudioEncoder, EncoderInfo, WindowOutput
from bench_encoders.checkpoints import CheckpointError
from bench_encoders.frontends import FbankConfig, KaldiFbank

BEATS_FBANK = FbankConfig(
    sample_rate=16000,
    num_mel_bins=128,
    window="povey",
    htk_compat=False,
    wave_scale=2**15,
    subtract_wave_mean=False,
    norm_mean=15.41663,
    norm_std=6.55582,
)
"""BEATs.preprocess: int16-scaled wave, torchaudio Kaldi fbank defaults (povey window)."""


@dataclass(frozen=True)
class BEATsConfig:
    """BEATs sizes and switches under the names of the official `cfg` dict the checkpoints carry.

    The defaults are the released ViT-Base checkpoints; a checkpoint's own `cfg` always wins.
    """

    input_patch_size: int = 16
    embed_dim: int = 512
    """Width of the patch embedding, projected to `encoder_embed_dim` when they differ."""
    conv_bias: bool = False
    encoder_layers: int = 12
    encoder_embed_dim: int = 768
    encoder_ffn_embed_dim: int = 3072
    encoder_attention_heads: int = 12
    conv_pos: int = 128
    conv_pos_groups: int = 16
    relative_position_embedding: bool = True
    num_buckets: int = 320
    max_distance: int = 800
    gru_rel_pos: bool = True
    deep_norm: bool = True
    window_frames: int = 1024
    """Ours, not official: inputs longer than this are encoded in windows (the paper's protocol)."""

    @classmethod
    def from_official(cls, cfg: Mapping[str, object]) -> BEATsConfig:
        """Our config from a checkpoint's `cfg`; variants no released BEATs uses are refused."""
        refused = {
            key: cfg[key]
            for key, supported in (("layer_norm_first", False), ("activation_fn", "gelu"))
            if key in cfg and cfg[key] != supported
        }
        if refused:
            raise CheckpointError(f"BEATs checkpoint uses an unsupported variant: {refused}")
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in cfg and f.name != "window_frames":
                default = getattr(cls, f.name)
                values[f.name] = type(default)(cfg[f.name])  # type: ignore[arg-type]
        return cls(**values)


BEATS_PRESETS: dict[str, BEATsConfig] = {
    "base": BEATsConfig(),
    "tiny": BEATsConfig(
        embed_dim=32,
        encoder_layers=2,
        encoder_embed_dim=64,
        encoder_ffn_embed_dim=128,
        encoder_attention_heads=4,
        conv_pos=16,
        conv_pos_groups=4,
    ),
}


class ConvPositionalEmbedding(nn.Module):
    """Grouped Conv1d over the token sequence with weight normalisation along the kernel axis
    (the official `weight_norm(conv, dim=2)`: weight = v * g / ||v||, one norm per kernel tap),
    'same' padding with the extra output of an even kernel dropped, then GELU."""

    def __init__(self, dim: int, kernel: int, groups: int) -> None:
        super().__init__()
        self.groups = groups
        self.weight_g = nn.Parameter(torch.ones(1, 1, kernel))
        self.weight_v = nn.Parameter(torch.empty(dim, dim // groups, kernel))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: Tensor) -> Tensor:
        """x (B, N, D) -> (B, N, D)."""
        weight = self.weight_v * (self.weight_g / self.weight_v.norm(dim=(0, 1), keepdim=True))
        kernel = weight.shape[-1]
        out = F.conv1d(
            x.transpose(1, 2), weight, self.bias, padding=kernel // 2, groups=self.groups
        )
        out = out[..., : x.shape[1]]
        return F.gelu(out).transpose(1, 2)


def relative_position_bucket(offset: Tensor, num_buckets: int, max_distance: int) -> Tensor:
    """T5-style buckets of key-minus-query offsets: half the buckets per direction (positive
    offsets in the upper half), exact below a quarter of the buckets, log-spaced up to
    `max_distance`, and the last bucket beyond."""
    half = num_buckets // 2
    exact = half // 2
    distance = offset.abs()
    log_ratio = torch.log(distance.clamp_min(1).float() / exact) / math.log(max_distance / exact)
    far = (exact + (log_ratio * (half - exact)).long()).clamp_max(half - 1)
    return (offset > 0).long() * half + torch.where(distance < exact, distance, far)


class RelativeAttention(nn.Module):
    """Multi-head attention plus the shared relative position bias, gated per query and head."""

    def __init__(self, dim: int, num_heads: int, gated: bool) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        self.gated = gated
        if gated:
            self.grep_linear = nn.Linear(dim // num_heads, 8)
            self.grep_a = nn.Parameter(torch.ones(1, num_heads, 1, 1))

    def forward(self, x: Tensor, key_valid: Tensor, position_bias: Tensor | None) -> Tensor:
        b, n, c = x.shape

        def heads(t: Tensor) -> Tensor:
            return t.view(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)

        q, k, v = heads(self.q_proj(x)), heads(self.k_proj(x)), heads(self.v_proj(x))
        padded = ~key_valid[:, None, None, :]
        if position_bias is None:
            mask = q.new_zeros((b, 1, 1, n)).masked_fill(padded, -math.inf)
        else:
            bias = position_bias[None]
            if self.gated:  # gate from the unscaled query: a * (b * grep_a - 1) + 2, in (1, 3)
                gates = torch.sigmoid(self.grep_linear(q).view(b, self.num_heads, n, 2, 4).sum(-1))
                gate_a, gate_b = gates.chunk(2, dim=-1)
                bias = (gate_a * (gate_b * self.grep_a - 1.0) + 2.0) * bias
            mask = bias.masked_fill(padded, -math.inf)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask.to(q.dtype))
        return self.out_proj(out.transpose(1, 2).reshape(b, n, c))


class BEATsLayer(nn.Module):
    """Post-norm layer with deep-norm residual scaling (alpha = 1 without deep norm)."""

    def __init__(self, config: BEATsConfig) -> None:
        super().__init__()
        dim = config.encoder_embed_dim
        self.self_attn = RelativeAttention(
            dim,
            config.encoder_attention_heads,
            config.relative_position_embedding and config.gru_rel_pos,
        )
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, config.encoder_ffn_embed_dim)
        self.fc2 = nn.Linear(config.encoder_ffn_embed_dim, dim)
        self.final_layer_norm = nn.LayerNorm(dim)
        self.alpha = (2 * config.encoder_layers) ** 0.25 if config.deep_norm else 1.0

    def forward(self, x: Tensor, key_valid: Tensor, position_bias: Tensor | None) -> Tensor:
        x = self.self_attn_layer_norm(x * self.alpha + self.self_attn(x, key_valid, position_bias))
        hidden = F.gelu(self.fc1(x).float()).type_as(x)  # the official GELU runs in float32
        return self.final_layer_norm(x * self.alpha + self.fc2(hidden))


class BEATsTransformer(nn.Module):
    """The official `TransformerEncoder` with `layer_norm_first=False`."""

    def __init__(self, config: BEATsConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.encoder_embed_dim
        self.pos_conv = ConvPositionalEmbedding(dim, config.conv_pos, config.conv_pos_groups)
        self.layer_norm = nn.LayerNorm(dim)
        self.relative_attention_bias = (
            nn.Embedding(config.num_buckets, config.encoder_attention_heads)
            if config.relative_position_embedding
            else None
        )
        self.layers = nn.ModuleList(BEATsLayer(config) for _ in range(config.encoder_layers))

    def position_bias(self, n: int, device: torch.device) -> Tensor:
        """(H, n, n): the table's value for each query/key pair's bucket."""
        assert self.relative_attention_bias is not None
        positions = torch.arange(n, device=device)
        buckets = relative_position_bucket(
            positions[None, :] - positions[:, None],
            self.config.num_buckets,
            self.config.max_distance,
        )
        return self.relative_attention_bias(buckets).permute(2, 0, 1)

    def forward(self, x: Tensor, key_valid: Tensor, layers: Sequence[int]) -> list[Tensor]:
        """Token sequences (B, N, D) after each of `layers`."""
        x = x.masked_fill(~key_valid[..., None], 0.0)
        x = self.layer_norm(x + self.pos_conv(x))
        bias = None
        if self.relative_attention_bias is not None:
            bias = self.position_bias(x.shape[1], x.device)
        wanted, taken = set(layers), {}
        for index, layer in enumerate(self.layers):
            x = layer(x, key_valid, bias)
            if index in wanted:
                taken[index] = x
            if len(taken) == len(wanted):
                break
        return [taken[i] for i in layers]


class BEATsEncoder(AudioEncoder):
    def __init__(self, name: str, preset: str, config: BEATsConfig) -> None:
        super().__init__()
        self.config = config
        p = config.input_patch_size
        self.info = EncoderInfo(
            name=name,
            arch="beats",
            preset=preset,
            sample_rate=BEATS_FBANK.sample_rate,
            embed_dim=config.encoder_embed_dim,
            num_layers=config.encoder_layers,
            freq_tokens=BEATS_FBANK.num_mel_bins // p,
            frames_per_token=p,
            window_frames=config.window_frames,
            has_cls=False,
        )
        self.frontend = KaldiFbank(BEATS_FBANK)
        self.patch_embedding = nn.Conv2d(
            1, config.embed_dim, kernel_size=p, stride=p, bias=config.conv_bias
        )
        self.layer_norm = nn.LayerNorm(config.embed_dim)
        self.post_extract_proj = (
            nn.Linear(config.embed_dim, config.encoder_embed_dim)
            if config.embed_dim != config.encoder_embed_dim
            else None
        )
        self.encoder = BEATsTransformer(config)
        self._init_random()

    def _init_random(self) -> None:
        """Official-style initialisation, used only when random weights are asked for."""
        cfg = self.config
        for module in self.encoder.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)
        if cfg.deep_norm:
            beta = (8 * cfg.encoder_layers) ** -0.25
            for layer in self.encoder.layers:
                attn = layer.self_attn
                for linear, gain in (
                    (attn.q_proj, 1.0),
                    (attn.k_proj, 1.0),
                    (attn.v_proj, beta),
                    (attn.out_proj, beta),
                    (layer.fc1, beta),
                    (layer.fc2, beta),
                ):
                    nn.init.xavier_normal_(linear.weight, gain=gain)
        pos = self.encoder.pos_conv
        nn.init.normal_(pos.weight_v, std=math.sqrt(4 / (cfg.conv_pos * cfg.encoder_embed_dim)))
        with torch.no_grad():
            pos.weight_g.copy_(pos.weight_v.norm(dim=(0, 1), keepdim=True))

    def time_tokens(self, frames: Tensor) -> Tensor:
        return (frames // self.config.input_patch_size).clamp_min(1)

    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        p = self.config.input_patch_size
        t = max(1, features.shape[1] // p)
        if features.shape[1] < t * p:
            features = F.pad(
                features, (0, 0, 0, t * p - features.shape[1]), value=self.frontend.pad_value
            )
        x = self.patch_embedding(features[:, : t * p].unsqueeze(1))
        b, _, t, f = x.shape
        x = self.layer_norm(x.flatten(2).transpose(1, 2))
        if self.post_extract_proj is not None:
            x = self.post_extract_proj(x)
        time_valid = torch.arange(t, device=x.device)[None] < self.time_tokens(frames)[:, None]
        key_valid = time_valid[:, :, None].expand(b, t, f).reshape(b, t * f)
        outputs = self.encoder(x, key_valid, layers)
        tokens = torch.stack(outputs, dim=1).reshape(b, len(layers), t, f, -1)
        return WindowOutput(tokens=tokens, time_valid=time_valid, cls=None)


def build_beats_for_checkpoint(
    name: str, preset: str, checkpoint: Mapping[str, object]
) -> BEATsEncoder:
    """A BEATs module shaped by the checkpoint's own `cfg` (named after the preset it equals)."""
    cfg = checkpoint.get("cfg")
    if not isinstance(cfg, Mapping):
        raise CheckpointError("BEATs checkpoint has no 'cfg' dict (expected the official file)")
    config = BEATsConfig.from_official(cfg)
    same = [p for p, c in BEATS_PRESETS.items() if c == config]
    return BEATsEncoder(name, preset if preset in same else (same or ["checkpoint"])[0], config)


_SHARED_BIAS = re.compile(r"encoder\.layers\.(\d+)\.self_attn\.relative_attention_bias\.weight")


def beats_checkpoint_filter_fn(checkpoint: Mapping[str, object]) -> dict[str, Tensor]:
    """Official `{"cfg", "model"}` BEATs file to this module's keys.

    The fine-tuned checkpoints' AudioSet `predictor` head is dropped. Every official layer holds a
    reference to the first layer's relative position table, so the file repeats it per layer: the
    first becomes `encoder.relative_attention_bias`, the copies must equal it.
    """
    state = checkpoint.get("model")
    if not isinstance(state, Mapping):
        raise CheckpointError(
            "BEATs checkpoint has no 'model' state dict (expected the official file)"
        )
    first = "encoder.layers.0.self_attn.relative_attention_bias.weight"
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.startswith("predictor.") or not isinstance(value, Tensor):
            continue
        shared = _SHARED_BIAS.fullmatch(key)
        if shared and key == first:
            out["encoder.relative_attention_bias.weight"] = value
        elif shared:
            reference = state.get(first)
            if isinstance(reference, Tensor) and not torch.equal(value, reference):
                raise CheckpointError(f"{key} differs from {first}; BEATs shares one table")
        else:
            out[key.replace("encoder.pos_conv.0.", "encoder.pos_conv.", 1)] = value
    return out
