"""Writers of checkpoint files in the official key layouts, from our modules' state dicts.

Each writer is the inverse of a `checkpoint_filter_fn`, and adds what official files carry beside
the encoder (pretraining-only modules, training state, pickled config objects), so the loaders are
tested against the real layout rather than their own output.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import torch
from torch import Tensor


def pickled_config_object() -> object:
    """An object whose class lives in a module absent at load time (like fairseq's OmegaConf cfg)."""
    module = types.ModuleType("omegaconf.dictconfig")

    class DictConfig:
        def __init__(self, content: dict) -> None:
            self.content = content

    DictConfig.__module__ = "omegaconf.dictconfig"
    DictConfig.__qualname__ = "DictConfig"
    module.DictConfig = DictConfig
    sys.modules["omegaconf"] = types.ModuleType("omegaconf")
    sys.modules["omegaconf.dictconfig"] = module
    return DictConfig({"model": {"_name": "data2vec_multi", "depth": 2}})


def save_with_foreign_class(obj: dict, path: Path) -> None:
    """torch.save, then make the foreign class unimportable, as on a machine without omegaconf."""
    torch.save(obj, path)
    sys.modules.pop("omegaconf.dictconfig", None)
    sys.modules.pop("omegaconf", None)


def eat_fairseq_state(own: dict[str, Tensor], finetuned: bool = False) -> dict[str, Tensor]:
    renames = {
        "patch_embed.": "modality_encoders.IMAGE.local_encoder.proj.",
        "pos_embed": "modality_encoders.IMAGE.fixed_positional_encoder.positions",
        "cls_token": "modality_encoders.IMAGE.extra_tokens",
        "pre_norm.": "modality_encoders.IMAGE.context_encoder.norm.",
    }
    state: dict[str, Tensor] = {}
    for key, value in own.items():
        for ours, theirs in renames.items():
            if key.startswith(ours):
                key = theirs + key[len(ours) :]
                break
        state[key] = value.clone()
    dim = own["cls_token"].shape[-1]
    if finetuned:  # MaeImageClassificationModel: encoder under `model.`, plus its head
        state = {f"model.{k}": v for k, v in state.items()}
        state["fc_norm.weight"] = torch.ones(dim)
        state["fc_norm.bias"] = torch.zeros(dim)
        state["head.weight"] = torch.zeros(527, dim)
        state["head.bias"] = torch.zeros(527)
    else:  # pretraining-only modules of data2vec_multi
        state["modality_encoders.IMAGE.decoder.blocks.0.0.weight"] = torch.zeros(dim, 16, 3, 3)
        state["_ema"] = torch.zeros(4)
        state["recon_proj.weight"] = torch.zeros(dim // 3, dim)
    return state


def write_eat_fairseq(own: dict[str, Tensor], path: Path, finetuned: bool = False) -> Path:
    checkpoint = {
        "args": None,
        "cfg": pickled_config_object(),
        "model": eat_fairseq_state(own, finetuned),
        "optimizer_history": [{"criterion_name": "ModelCriterion", "num_updates": 400000}],
        "extra_state": {"epoch": 30, "previous_best": 0.0},
    }
    save_with_foreign_class(checkpoint, path)
    return path
