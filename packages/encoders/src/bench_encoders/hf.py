"""`hf:<folder or model id>`: any Hugging Face transformers audio encoder as a bench backbone.

The model's own feature extractor prepares its input (so the front-end is exactly the one the
model was trained with) and the tokens are its last hidden state; an explicitly requested earlier
layer is `hidden_states[layer + 1]` (the last layer stays `last_hidden_state`, which includes a
final norm where the model has one). The adapter knows four families:

- Audio Spectrogram Transformer: the (freq x time) patch grid is reshaped to (time, freq); the
  cls and distillation tokens are averaged into the cls, as AST's own pooler does. Each window is
  the extractor's `max_length` frames, padded by the extractor itself.
- Whisper: the encoder alone, over the extractor's fixed 30 s (`n_samples`) windows; F = 1.
- CLAP: the HTS-AT audio encoder's final (freq x time) map, over the extractor's fixed window;
  its Swin stages differ in width, so only the final map (one "layer") is offered.
- wav2vec2-style encoders (wav2vec2, HuBERT, WavLM, data2vec-audio, ...): F = 1, valid frames
  from the model's own `_get_feat_extract_output_lengths`, windows of 30 s. Where the extractor
  says the model takes an attention mask, clips are batched with it; otherwise (group-norm
  models such as wav2vec2-base treat padding as signal) each clip runs alone, so a clip's tokens
  never depend on its batch.

A window longer than the model accepts is split by `AudioEncoder`'s chunking (on samples here:
the front-end is the identity), so frames at a window edge see only their own window.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from bench_core import ConfigError, MissingResourceError
from bench_encoders.base import AudioEncoder, EncoderInfo, WindowOutput
from bench_encoders.checkpoints import CheckpointError, file_sha256
from bench_encoders.frontends import WaveConfig, Waveform
from bench_encoders.registry import HF_PREFIX, Weights

WAVEFORM_WINDOW_SECONDS = 30.0
"""Window of the wav2vec2-style models, which accept any length: bounds attention memory."""


class HFAdapter(ABC):
    """How one model family turns a batch of raw-audio windows into token grids."""

    has_cls: bool = False
    batched: bool = True
    """False: run each clip alone (the model would see another clip's padding as signal)."""
    min_samples: int = 1

    def __init__(self, model: nn.Module, extractor: Any) -> None:
        self.model = model
        self.extractor = extractor
        self.sample_rate = int(extractor.sampling_rate)

    @property
    @abstractmethod
    def geometry(self) -> tuple[int, int, int, int, int]:
        """(embed dim, layers, freq tokens, samples per time token, window samples)."""

    @abstractmethod
    def valid_steps(self, samples: Tensor) -> Tensor:
        """Time tokens that cover the `samples` valid samples of a window."""

    @abstractmethod
    def run(self, inputs: dict[str, Tensor], layers: list[int]) -> tuple[Tensor, Tensor | None]:
        """tokens (B, L, T, F, D) and cls (B, L, D) or None, for extractor outputs `inputs`."""

    def inputs(self, waves: list[np.ndarray]) -> dict[str, Any]:
        return dict(self.extractor(waves, sampling_rate=self.sample_rate, return_tensors="pt"))

    def hidden(self, output: Any, layers: list[int], num_layers: int) -> list[Tensor]:
        """Requested layers: `last_hidden_state` for the last one, `hidden_states` otherwise."""
        return [
            output.last_hidden_state if i == num_layers - 1 else output.hidden_states[i + 1]
            for i in layers
        ]


class ASTAdapter(HFAdapter):
    has_cls = True

    def __init__(self, model: nn.Module, extractor: Any) -> None:
        super().__init__(model, extractor)
        config = model.config
        if int(extractor.max_length) != int(config.max_length):
            raise ConfigError(
                f"AST feature extractor max_length {extractor.max_length} != model max_length "
                f"{config.max_length}"
            )
        self.freq, self.time = model.embeddings.get_shape(config)
        # the extractor's Kaldi fbank: 25 ms windows, 10 ms shift
        self.shift = self.sample_rate // 100
        self.min_samples = self.sample_rate * 25 // 1000
        self.stride = int(config.time_stride)

    @property
    def geometry(self) -> tuple[int, int, int, int, int]:
        c = self.model.config
        window = (int(c.max_length) - 1) * self.shift + self.min_samples
        return c.hidden_size, c.num_hidden_layers, self.freq, self.stride * self.shift, window

    def valid_steps(self, samples: Tensor) -> Tensor:
        frames = 1 + (samples - self.min_samples) // self.shift
        return ((frames + self.stride - 1) // self.stride).clamp(1, self.time)

    def run(self, inputs: dict[str, Tensor], layers: list[int]) -> tuple[Tensor, Tensor | None]:
        c = self.model.config
        out = self.model(**inputs, output_hidden_states=min(layers) < c.num_hidden_layers - 1)
        seq = torch.stack(self.hidden(out, layers, c.num_hidden_layers), dim=1)  # (B, L, 2+N, D)
        b, n_layers, _, d = seq.shape
        grid = seq[:, :, 2:].reshape(b, n_layers, self.freq, self.time, d).transpose(2, 3)
        return grid, (seq[:, :, 0] + seq[:, :, 1]) / 2


class WhisperAdapter(HFAdapter):
    def __init__(self, model: nn.Module, extractor: Any) -> None:
        super().__init__(model.get_encoder(), extractor)  # type: ignore[operator]
        self.per_token = int(extractor.hop_length) * 2  # conv2 has stride 2

    @property
    def geometry(self) -> tuple[int, int, int, int, int]:
        c = self.model.config
        return c.d_model, c.encoder_layers, 1, self.per_token, int(self.extractor.n_samples)

    def valid_steps(self, samples: Tensor) -> Tensor:
        positions = int(self.model.config.max_source_positions)
        return ((samples + self.per_token - 1) // self.per_token).clamp(1, positions)

    def run(self, inputs: dict[str, Tensor], layers: list[int]) -> tuple[Tensor, Tensor | None]:
        n = self.model.config.encoder_layers
        out = self.model(inputs["input_features"], output_hidden_states=min(layers) < n - 1)
        return torch.stack(self.hidden(out, layers, n), dim=1)[:, :, :, None], None


class ClapAdapter(HFAdapter):
    def __init__(self, model: nn.Module, extractor: Any) -> None:
        audio = getattr(model, "audio_model", model)
        super().__init__(audio, extractor)
        window = int(extractor.nb_max_samples)
        with torch.inference_mode():  # the final map's shape follows from the Swin config
            probe = self.model(**self.inputs([np.zeros(window, dtype=np.float32)]))
        _, self.dim, self.freq, self.time = probe.last_hidden_state.shape
        self.per_token = math.ceil(window / self.time)

    @property
    def geometry(self) -> tuple[int, int, int, int, int]:
        return self.dim, 1, self.freq, self.per_token, int(self.extractor.nb_max_samples)

    def valid_steps(self, samples: Tensor) -> Tensor:
        return ((samples + self.per_token - 1) // self.per_token).clamp(1, self.time)

    def run(self, inputs: dict[str, Tensor], layers: list[int]) -> tuple[Tensor, Tensor | None]:
        grid = self.model(**inputs).last_hidden_state  # (B, D, F, T)
        return grid.permute(0, 3, 2, 1)[:, None], None


class WaveformAdapter(HFAdapter):
    """wav2vec2-style: raw samples in, one token per stride of the convolutional feature encoder."""

    def __init__(self, model: nn.Module, extractor: Any) -> None:
        super().__init__(model, extractor)
        config = model.config
        if not hasattr(model, "_get_feat_extract_output_lengths") or not hasattr(
            config, "conv_stride"
        ):
            raise ConfigError(
                f"unsupported Hugging Face model type '{config.model_type}': bench's hf adapter "
                "handles AST, Whisper, CLAP and wav2vec2-style encoders (wav2vec2, HuBERT, WavLM, "
                "data2vec-audio, ...)"
            )
        self.batched = bool(getattr(extractor, "return_attention_mask", False))
        receptive = 1
        for kernel, stride in reversed(
            list(zip(config.conv_kernel, config.conv_stride, strict=True))
        ):
            receptive = (receptive - 1) * stride + kernel
        self.min_samples = receptive

    @property
    def geometry(self) -> tuple[int, int, int, int, int]:
        c = self.model.config
        window = int(WAVEFORM_WINDOW_SECONDS * self.sample_rate)
        return c.hidden_size, c.num_hidden_layers, 1, math.prod(c.conv_stride), window

    def valid_steps(self, samples: Tensor) -> Tensor:
        return self.model._get_feat_extract_output_lengths(samples).long()  # type: ignore[operator]

    def inputs(self, waves: list[np.ndarray]) -> dict[str, Any]:
        return dict(
            self.extractor(
                waves,
                sampling_rate=self.sample_rate,
                return_tensors="pt",
                padding=True,
                return_attention_mask=self.batched,
            )
        )

    def run(self, inputs: dict[str, Tensor], layers: list[int]) -> tuple[Tensor, Tensor | None]:
        n = self.model.config.num_hidden_layers
        out = self.model(**inputs, output_hidden_states=min(layers) < n - 1)
        return torch.stack(self.hidden(out, layers, n), dim=1)[:, :, :, None], None


_ADAPTERS: dict[str, type[HFAdapter]] = {
    "audio-spectrogram-transformer": ASTAdapter,
    "whisper": WhisperAdapter,
    "clap": ClapAdapter,
}


class HFEncoder(AudioEncoder):
    """A transformers model behind the bench encoder interface (front-end: raw samples)."""

    def __init__(self, name: str, adapter: HFAdapter) -> None:
        super().__init__()
        self.adapter = adapter
        self.model = adapter.model
        dim, layers, freq, per_token, window = adapter.geometry
        self.info = EncoderInfo(
            name=name,
            arch=f"hf:{adapter.model.config.model_type}",
            preset="base",
            sample_rate=adapter.sample_rate,
            embed_dim=dim,
            num_layers=layers,
            freq_tokens=freq,
            frames_per_token=per_token,
            window_frames=window,
            has_cls=adapter.has_cls,
        )
        extractor = json.loads(adapter.extractor.to_json_string())
        self.frontend = Waveform(WaveConfig(adapter.sample_rate, adapter.min_samples, extractor))

    def time_tokens(self, frames: Tensor) -> Tensor:
        return self.adapter.valid_steps(frames)

    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        counts = frames.tolist()
        waves = [features[i, :n, 0].float().cpu().numpy() for i, n in enumerate(counts)]
        rows = list(range(len(waves)))
        groups = [rows] if self.adapter.batched else [[i] for i in rows]
        device = self.device
        tokens: list[Tensor] = []
        cls: list[Tensor] = []
        for group in groups:
            inputs = self.adapter.inputs([waves[i] for i in group])
            inputs = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in inputs.items()}
            grid, pooled = self.adapter.run(inputs, list(layers))
            tokens.extend(grid)
            cls.extend(pooled if pooled is not None else [])
        steps = max(t.shape[1] for t in tokens)  # clips run alone come back unpadded
        n_layers, _, f, d = tokens[0].shape
        padded = tokens[0].new_zeros((len(tokens), n_layers, steps, f, d))
        for i, grid in enumerate(tokens):
            padded[i, :, : grid.shape[1]] = grid
        valid = self.time_tokens(frames).clamp_max(steps)
        time_valid = (
            torch.arange(steps, device=padded.device)[None] < valid.to(padded.device)[:, None]
        )
        return WindowOutput(
            tokens=padded, time_valid=time_valid, cls=torch.stack(cls) if cls else None
        )


def _resolve_folder(source: str, weights_needed: bool) -> Path:
    """A local model folder, or a Hub model id resolved through the local Hugging Face cache (it
    is fetched only where the user's environment allows it, e.g. not with HF_HUB_OFFLINE=1)."""
    folder = Path(source).expanduser()
    if folder.is_dir():
        return folder
    if source.startswith(("/", ".", "~")) or folder.exists():
        raise MissingResourceError(
            f"backbone '{HF_PREFIX}{source}': folder {folder} does not exist (or is not a folder)"
        )
    from huggingface_hub import snapshot_download

    patterns = None if weights_needed else ["*.json", "*.txt"]
    try:
        return Path(snapshot_download(source, allow_patterns=patterns))
    except Exception as error:  # offline, unknown id, gated model: say which and why
        raise MissingResourceError(
            f"backbone '{HF_PREFIX}{source}': no local folder of that name and the Hugging Face "
            f"model could not be loaded ({type(error).__name__}: {error})"
        ) from None


def create_hf_encoder(
    name: str,
    *,
    checkpoint: str | Path | None = None,
    random_weights: bool = False,
    preset: str = "base",
    seed: int = 0,
) -> tuple[AudioEncoder, Weights]:
    """Build `hf:<folder or model id>`: weights from the folder, or seeded random ones from its
    config when asked for by name; a folder whose weights miss any of the model's keys is an
    error naming them (transformers would otherwise initialise them randomly)."""
    from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

    source = name.removeprefix(HF_PREFIX)
    if checkpoint is not None:
        raise ConfigError(f"backbone '{name}' loads its weights from '{source}'; drop --checkpoint")
    if preset != "base":
        raise ConfigError(f"backbone '{name}' takes its size from its config; drop --preset")
    folder = _resolve_folder(source, weights_needed=not random_weights)
    try:
        extractor = AutoFeatureExtractor.from_pretrained(folder)
    except OSError as error:
        raise MissingResourceError(
            f"backbone '{name}': no feature extractor in {folder} ({error})"
        ) from None
    config = AutoConfig.from_pretrained(folder)
    if random_weights:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = AutoModel.from_config(config)
        weights = Weights(source="random", seed=seed)
    else:
        model, loading = AutoModel.from_pretrained(
            folder, dtype=torch.float32, output_loading_info=True
        )
        missing = sorted(loading.get("missing_keys", []))
        if missing:
            raise CheckpointError(
                f"{folder} does not fit {type(model).__name__}: missing keys: {', '.join(missing)}"
            )
        weights = Weights(source="checkpoint", sha256=file_sha256(folder))
    adapter = _ADAPTERS.get(config.model_type, WaveformAdapter)(model, extractor)
    return HFEncoder(name, adapter).eval().requires_grad_(False), weights
