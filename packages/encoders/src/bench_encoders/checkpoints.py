"""Reading official checkpoint files without executing code from them.

Official audio checkpoints are torch pickles (fairseq saves, BEATs' `{cfg, model}` dicts, MAE
training saves) or safetensors. Torch pickles are loaded with `weights_only=True`. Some official
files also pickle configuration objects (an OmegaConf or argparse namespace, a numpy scalar in the
training state); for those, each such global is replaced by an inert stand-in class that only
records its arguments, so the weights load and no checkpoint code ever runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from bench_core import BenchError, MissingResourceError


class CheckpointError(BenchError):
    """A checkpoint does not match the architecture it is loaded into."""


class _StandIn:
    """Inert replacement for a class a checkpoint pickles; keeps its constructor args and state."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __call__(self, *args: Any, **kwargs: Any) -> _StandIn:
        return type(self)(*args, **kwargs)


def _stand_in(qualified: str) -> type:
    module, _, name = qualified.rpartition(".")
    return type(name, (_StandIn,), {"__module__": module, "__qualname__": name})


def load_torch_file(path: Path) -> Any:
    """torch.load with weights_only=True, with inert stand-ins for non-tensor globals."""
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    with torch.serialization.safe_globals([_stand_in(name) for name in unsafe]):
        return torch.load(path, map_location="cpu", weights_only=True)


def load_state_dict(path: str | Path) -> dict[str, Any]:
    """The raw top-level object of a checkpoint file (or HF model folder) as a dict."""
    path = Path(path).expanduser()
    if path.is_dir():
        for name in ("model.safetensors", "pytorch_model.bin"):
            if (path / name).is_file():
                return load_state_dict(path / name)
        raise MissingResourceError(f"{path} holds neither model.safetensors nor pytorch_model.bin")
    if not path.is_file():
        raise MissingResourceError(f"checkpoint {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return dict(load_file(str(path)))
    try:
        loaded = load_torch_file(path)
    except Exception as error:  # a corrupt or foreign file: say which file and why
        raise CheckpointError(f"cannot read checkpoint {path}: {error}") from None
    if not isinstance(loaded, Mapping):
        raise CheckpointError(f"checkpoint {path} holds a {type(loaded).__name__}, not a dict")
    return dict(loaded)


def _weight_files(folder: Path) -> list[Path]:
    """A model folder's weight file, or its shards in name order."""
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return [folder / name]
    shards = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("pytorch_model-*.bin"))
    if not shards:
        raise MissingResourceError(f"{folder} holds no model weights (*.safetensors or *.bin)")
    return shards


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a checkpoint file, or of a model folder's weight files (shards concatenated)."""
    path = Path(path).expanduser()
    digest = hashlib.sha256()
    for file in _weight_files(path) if path.is_dir() else [path]:
        with file.open("rb") as handle:
            for block in iter(lambda h=handle: h.read(1 << 22), b""):
                digest.update(block)
    return digest.hexdigest()


def strip_prefix(state: Mapping[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """Drop `prefix` from keys that carry it (leaving other keys untouched)."""
    return {(k[len(prefix) :] if k.startswith(prefix) else k): v for k, v in state.items()}


def convert_keys(
    state: Mapping[str, object], renames: Mapping[str, str], drop: tuple[str, ...] = ()
) -> dict[str, Tensor]:
    """The body of a `checkpoint_filter_fn`: keys starting with a `drop` prefix (modules the
    encoder does not use) and non-tensor entries go; the first matching prefix in `renames` is
    replaced; every other key is kept as it is, so that `load_exact` names whatever does not fit."""
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if key.startswith(drop) or not isinstance(value, Tensor):
            continue
        for old, new in renames.items():
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    return out


def load_exact(module: nn.Module, state: Mapping[str, Tensor], source: str) -> None:
    """Load a converted state dict; any missing, unexpected or mis-shaped key is an error naming it."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if tuple(state[k].shape) != tuple(own[k].shape)
    )
    problems = []
    if missing:
        problems.append(f"missing keys: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {', '.join(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatches: {'; '.join(mismatched)}")
    if problems:
        raise CheckpointError(
            f"{source} does not fit {type(module).__name__}:\n  " + "\n  ".join(problems)
        )
    module.load_state_dict(dict(state), strict=True)
