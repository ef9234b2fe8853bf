"""The encoder interface: waveforms in, a (time x freq) token map per selected layer out.

Every backbone implements `encode_window` for one window of front-end features; `AudioEncoder`
adds what all of them share: the front-end, long-input chunking (split into windows, concatenate
token maps along time, average the cls, as the paper does), layer selection, the mean-of-tokens
stand-in for backbones without a cls token, and the one inference path (`prepare` + `encode`)
used on CPU and GPU alike.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from bench_encoders.frontends import Frontend


@dataclass(frozen=True)
class EncoderInfo:
    """What a user (and the store) needs to know about a backbone's token map.

    Frames are front-end frames; for encoders fed raw waveforms (the Hugging Face adapter) a frame
    is one sample, so `frames_per_token` and `window_frames` count samples there.
    """

    name: str
    arch: str
    preset: str
    sample_rate: int
    embed_dim: int
    num_layers: int
    freq_tokens: int
    frames_per_token: int
    window_frames: int
    has_cls: bool


@dataclass(frozen=True)
class EncoderOutput:
    """tokens (B, L, T, F, D) for L selected layers; mask (B, T) marks valid time steps;
    cls (B, L, D) is the backbone's cls token, or the masked mean of the tokens if it has none."""

    tokens: Tensor
    mask: Tensor
    cls: Tensor

    def valid_tokens(self) -> Tensor:
        """Number of valid tokens per clip (B,)."""
        return self.mask.sum(dim=1) * self.tokens.shape[3]


@dataclass(frozen=True)
class WindowOutput:
    tokens: Tensor  # (B, L, T, F, D)
    time_valid: Tensor  # (B, T) bool
    cls: Tensor | None  # (B, L, D)


class AudioEncoder(nn.Module, ABC):
    """A frozen audio backbone with its front-end."""

    info: EncoderInfo
    frontend: Frontend
    autocast_dtype: torch.dtype | None = None
    """Set by `prepare`: the reduced precision `encode` runs the encoder in (None: float32)."""

    @abstractmethod
    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        """Encode features (B, frames<=window, mels) with true frame counts (B,)."""

    def time_tokens(self, frames: Tensor) -> Tensor:
        """Valid time tokens of windows holding `frames` front-end frames (vectorised).

        Default: every token that covers at least one valid frame (a partial last patch counts);
        backbones whose official code drops a partial patch override this.
        """
        per = self.info.frames_per_token
        return (frames + per - 1) // per

    def prepare(self, device: str | torch.device | None = None) -> AudioEncoder:
        """Put encoder and front-end on `device` (default: CUDA when present) for inference.

        On CUDA `encode` runs under bf16 autocast (fp16 where the GPU has no bf16) and 4-D conv
        weights (the patch embeddings) use channels-last, the layout cuDNN's tensor-core kernels
        prefer; on CPU everything stays float32 and contiguous, so CPU results are exact.
        """
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.to(device).eval().requires_grad_(False)
        self.autocast_dtype = None
        if device.type == "cuda":
            self.to(memory_format=torch.channels_last)
            bf16 = torch.cuda.is_bf16_supported()
            self.autocast_dtype = torch.bfloat16 if bf16 else torch.float16
        return self

    @property
    def device(self) -> torch.device:
        """Where the weights live; CPU for encoders whose model runs outside torch (BirdNET)."""
        weight = next(self.parameters(), None)
        return torch.device("cpu") if weight is None else weight.device

    def encode(
        self,
        inputs: Tensor,
        lengths: Tensor,
        layers: Sequence[int] | None = None,
        *,
        features: bool = False,
    ) -> EncoderOutput:
        """Inference on the encoder's device. `inputs` are waves (B, S) zero-padded with lengths
        (B,) in samples or, with `features=True`, front-end features (B, frames, C) padded with the
        front-end's pad value with frame counts (B,) (extraction computes them beside decoding).

        The one way to run an encoder for extraction and checks: inputs are moved (pinned, non
        blocking on CUDA), gradients are off (`inference_mode`), and the autocast chosen by
        `prepare` applies; front-ends run in float32 regardless.
        """
        device = self.device
        if device.type == "cuda" and inputs.device.type == "cpu":
            inputs = inputs.pin_memory()
        inputs = inputs.to(device, non_blocking=True)
        lengths = lengths.to(device)
        dtype = self.autocast_dtype
        with (
            torch.inference_mode(),
            torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None),
        ):
            if features:
                return self.encode_features(inputs, lengths, layers)
            return self(inputs, lengths, layers)

    def resolve_layers(self, layers: Sequence[int] | None) -> list[int]:
        """0-based block indices; negative counts from the end; default: the last layer."""
        n = self.info.num_layers
        chosen = [-1] if not layers else list(layers)
        resolved = []
        for layer in chosen:
            index = layer + n if layer < 0 else layer
            if not 0 <= index < n:
                raise ValueError(f"layer {layer} out of range for {n} layers")
            resolved.append(index)
        return resolved

    def forward(
        self, waves: Tensor, lengths: Tensor, layers: Sequence[int] | None = None
    ) -> EncoderOutput:
        """waves (B, S) zero-padded at the end, lengths (B,) in samples."""
        features, frames = self.frontend(waves, lengths)
        return self.encode_features(features, frames, layers)

    def encode_features(
        self, features: Tensor, frames: Tensor, layers: Sequence[int] | None = None
    ) -> EncoderOutput:
        """The encoder after its front-end: features (B, frames, mels) padded with the front-end's
        pad value, true frame counts (B,). Separate from `forward` so that extraction can run the
        front-end elsewhere (in CPU tasks beside decoding) and feed the encoder its features."""
        layer_ids = self.resolve_layers(layers)
        window = self.info.window_frames
        if int(frames.max()) <= window:
            out = self.encode_window(features, frames, layer_ids)
            return self._finish(out.tokens, out.time_valid, out.cls)
        return self._encode_chunked(features, frames, layer_ids)

    def _encode_chunked(self, features: Tensor, frames: Tensor, layers: list[int]) -> EncoderOutput:
        window = self.info.window_frames
        pieces, counts, owner = [], [], []
        for i, n in enumerate(frames.tolist()):
            for start in range(0, n, window):
                pieces.append(features[i, start : start + window])
                counts.append(min(window, n - start))
                owner.append(i)
        batch = features.new_full((len(pieces), window, features.shape[2]), self.frontend.pad_value)
        for j, piece in enumerate(pieces):
            batch[j, : piece.shape[0]] = piece
        out = self.encode_window(batch, torch.tensor(counts, device=features.device), layers)
        per_clip_tokens, per_clip_valid, per_clip_cls = [], [], []
        for i in range(features.shape[0]):
            idx = [j for j, o in enumerate(owner) if o == i]
            steps = [int(out.time_valid[j].sum()) for j in idx]
            per_clip_tokens.append(
                torch.cat([out.tokens[j, :, :s] for j, s in zip(idx, steps, strict=True)], dim=1)
            )
            per_clip_valid.append(sum(steps))
            if out.cls is not None:
                per_clip_cls.append(out.cls[idx].mean(dim=0))
        total = max(per_clip_valid)
        b, n_layers = features.shape[0], len(layers)
        _, _, _, f, d = out.tokens.shape
        tokens = out.tokens.new_zeros((b, n_layers, total, f, d))
        mask = torch.zeros((b, total), dtype=torch.bool, device=features.device)
        for i, (tok, steps) in enumerate(zip(per_clip_tokens, per_clip_valid, strict=True)):
            tokens[i, :, :steps] = tok
            mask[i, :steps] = True
        cls = torch.stack(per_clip_cls) if per_clip_cls else None
        return self._finish(tokens, mask, cls)

    @staticmethod
    def _finish(tokens: Tensor, mask: Tensor, cls: Tensor | None) -> EncoderOutput:
        if cls is None:
            weights = mask[:, None, :, None, None].to(tokens.dtype)
            count = weights.sum(dim=(2, 3, 4)).clamp_min(1) * tokens.shape[3]
            cls = (tokens * weights).sum(dim=(2, 3)) / count[..., None]
        return EncoderOutput(tokens=tokens, mask=mask, cls=cls)

    def token_steps(self, frames: int) -> int:
        """Time tokens produced for a clip of `frames` front-end frames (chunking included)."""
        full, rest = divmod(frames, self.info.window_frames)
        counts = torch.tensor([self.info.window_frames] * full + ([rest] if rest else []))
        return int(self.time_tokens(counts).sum())
