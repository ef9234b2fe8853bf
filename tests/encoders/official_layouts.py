"""Writers of checkpoint files in the official key layouts, from our modules' state dicts.

Each writer is the inverse of a `checkpoint_filter_fn`, and adds what official files carry beside
the encoder (pretraining-only modules, training state, pickled config objects), so the loaders are
tested against the real layout rather than their own output.
"""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path

import torch
from safetensors.torch import save_file
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


def renamed(own: dict[str, Tensor], renames: dict[str, str], prefix: str = "") -> dict[str, Tensor]:
    """Our keys to official ones: first matching prefix in `renames`, then `prefix` on all."""
    state: dict[str, Tensor] = {}
    for key, value in own.items():
        for ours, theirs in renames.items():
            if key.startswith(ours):
                key = theirs + key[len(ours) :]
                break
        state[prefix + key] = value.clone()
    return state


def eat_fairseq_state(own: dict[str, Tensor], finetuned: bool = False) -> dict[str, Tensor]:
    renames = {
        "patch_embed.proj.": "modality_encoders.IMAGE.local_encoder.proj.",
        "pos_embed": "modality_encoders.IMAGE.fixed_positional_encoder.positions",
        "cls_token": "modality_encoders.IMAGE.extra_tokens",
        "pre_norm.": "modality_encoders.IMAGE.context_encoder.norm.",
    }
    state = renamed(own, renames)
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


def write_eat_hf(own: dict[str, Tensor], folder: Path, finetuned: bool = False) -> Path:
    """A Hugging Face EAT model folder (worstchan/EAT-*, ta012/SSLAM_*): `EATModel.model = EAT`, so
    every key sits under `model.`; config.json as the remote code's EATConfig writes it."""
    renames = {
        "patch_embed.proj.": "local_encoder.proj.",
        "pos_embed": "fixed_positional_encoder.positions",
        "cls_token": "extra_tokens",
    }
    state = renamed(own, renames, prefix="model.")
    dim = own["cls_token"].shape[-1]
    if finetuned:
        state["model.fc_norm.weight"] = torch.ones(dim)
        state["model.fc_norm.bias"] = torch.zeros(dim)
        state["model.head.weight"] = torch.zeros(527, dim)
        state["model.head.bias"] = torch.zeros(527)
    folder.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))
    config = {
        "architectures": ["EATModel"],
        "auto_map": {
            "AutoConfig": "configuration_eat.EATConfig",
            "AutoModel": "modeling_eat.EATModel",
        },
        "model_type": "eat",
        "embed_dim": dim,
        "depth": sum(1 for k in own if k.endswith("norm1.weight")),
        "model_variant": "finetune" if finetuned else "pretrain",
        "max_length": own["pos_embed"].shape[1] // 8,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def audiomae_state(own: dict[str, Tensor]) -> dict[str, Tensor]:
    """MaskedAutoencoderViT: the encoder under timm names (ours), plus the MAE decoder."""
    state = renamed(own, {})
    dim, dec = own["cls_token"].shape[-1], 32
    state["mask_token"] = torch.zeros(1, 1, dec)
    state["decoder_embed.weight"] = torch.zeros(dec, dim)
    state["decoder_embed.bias"] = torch.zeros(dec)
    state["decoder_pos_embed"] = torch.zeros(1, own["pos_embed"].shape[1], dec)
    state["decoder_blocks.0.norm1.weight"] = torch.ones(dec)
    state["decoder_blocks.0.attn.qkv.weight"] = torch.zeros(3 * dec, dec)
    state["decoder_norm.weight"] = torch.ones(dec)
    state["decoder_pred.weight"] = torch.zeros(256, dec)
    return state


def write_audiomae(own: dict[str, Tensor], path: Path) -> Path:
    """The official training save (util/misc.py save_model): model, optimizer, epoch, scaler, args."""
    checkpoint = {
        "model": audiomae_state(own),
        "optimizer": {"state": {}, "param_groups": [{"lr": 2e-4, "params": [0, 1]}]},
        "epoch": 32,
        "scaler": {"scale": 65536.0, "growth_factor": 2.0},
        "args": argparse.Namespace(model="mae_vit_base_patch16", mask_ratio=0.8, audio_exp=True),
    }
    torch.save(checkpoint, path)
    return path


def asit_pipeline_state(own: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    """One `FullPipeline` of main_ASiT.py: backbone, CLSHead (weight-normed layers), RECHead."""
    state = renamed(own, {}, prefix=f"{prefix}backbone.")
    dim = own["cls_token"].shape[-1]
    state[f"{prefix}head_cls.mlp.0.weight"] = torch.zeros(32, dim)
    state[f"{prefix}head_cls.cls_layer.weight_g"] = torch.ones(64, 1)
    state[f"{prefix}head_cls.cls_layer.weight_v"] = torch.zeros(64, 16)
    state[f"{prefix}head_cls.data_layer.weight_v"] = torch.zeros(32, 16)
    state[f"{prefix}head_recons.convTrans.weight"] = torch.zeros(16, 1, 16, 16)
    return state


def write_asit(teacher: dict[str, Tensor], student: dict[str, Tensor], path: Path) -> Path:
    """The official training save of main_ASiT.py: the student under DDP (`module.`), the teacher
    bare, plus optimizer, epoch, args, loss centres and the fp16 scaler."""
    checkpoint = {
        "student": asit_pipeline_state(student, "module."),
        "teacher": asit_pipeline_state(teacher, ""),
        "optimizer": {"state": {}, "param_groups": [{"lr": 5e-4, "params": [0]}]},
        "epoch": 100,
        "args": argparse.Namespace(arch="vit_base", num_frames=592, data_mean=-4.2677393),
        "loss_cls": {"center": torch.zeros(1, 64)},
        "loss_data": {"center": torch.zeros(1, 32)},
        "fp16_scaler": {"scale": 1024.0},
    }
    torch.save(checkpoint, path)
    return path


def beats_official_cfg(config: object, finetuned: bool = False) -> dict:
    """The `cfg` dict a BEATs checkpoint carries (BEATsConfig's own names, plus training-only keys)."""
    from dataclasses import asdict

    cfg = {k: v for k, v in asdict(config).items() if k != "window_frames"}  # type: ignore[call-overload]
    cfg.update(
        activation_fn="gelu",
        layer_norm_first=False,
        dropout=0.0,
        attention_dropout=0.0,
        activation_dropout=0.0,
        encoder_layerdrop=0.05,
        dropout_input=0.0,
        layer_wise_gradient_decay_ratio=0.6,
        finetuned_model=finetuned,
    )
    if finetuned:
        cfg.update(predictor_dropout=0.0, predictor_class=527)
    return cfg


def beats_official_state(own: dict[str, Tensor], finetuned: bool = False) -> dict[str, Tensor]:
    """Official BEATs keys: the weight-normed conv inside `pos_conv.0`, and the relative position
    table repeated under every layer (each official layer references the first one's)."""
    state: dict[str, Tensor] = {}
    layers = {int(k.split(".")[2]) for k in own if k.startswith("encoder.layers.")}
    for key, value in own.items():
        if key == "encoder.relative_attention_bias.weight":
            for i in sorted(layers):
                state[f"encoder.layers.{i}.self_attn.relative_attention_bias.weight"] = (
                    value.clone()
                )
            continue
        state[key.replace("encoder.pos_conv.", "encoder.pos_conv.0.")] = value.clone()
    if finetuned:
        dim = own["encoder.layer_norm.weight"].shape[0]
        state["predictor.weight"] = torch.zeros(527, dim)
        state["predictor.bias"] = torch.zeros(527)
    return state


def write_beats_official(
    own: dict[str, Tensor], config: object, path: Path, finetuned: bool = False
) -> Path:
    torch.save(
        {
            "cfg": beats_official_cfg(config, finetuned),
            "model": beats_official_state(own, finetuned),
        },
        path,
    )
    return path


def dasheng_official_state(own: dict[str, Tensor]) -> dict[str, Tensor]:
    """Official Dasheng keys: BatchNorm inside `init_bn.1` (a Rearrange on each side), the conv
    inside `patch_embed.proj`, plus the persistent torchaudio front-end buffers."""
    from torchaudio.functional import melscale_fbanks

    state = {
        "front_end.0.spectrogram.window": torch.hann_window(512),
        "front_end.0.mel_scale.fb": melscale_fbanks(257, 0.0, 8000.0, 64, 16000, None, "htk"),
    }
    for key, value in own.items():
        key = key.replace("init_bn.", "init_bn.1.", 1).replace(
            "patch_embed.", "patch_embed.proj.", 1
        )
        state[key] = value.clone()
    return state


def write_dasheng_official(own: dict[str, Tensor], path: Path) -> Path:
    """dasheng_base.pt as on Zenodo: {"model": state, "config": constructor kwargs}."""
    config = {"target_length": 1008, "patch_size": [64, 4], "patch_stride": [64, 4]}
    torch.save({"model": dasheng_official_state(own), "config": config}, path)
    return path


def write_dasheng_hf(own: dict[str, Tensor], folder: Path) -> Path:
    """The mispeech/dasheng-base export: encoder keys under `encoder.`, front-end removed."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    state = {
        f"encoder.{k}": v.contiguous()
        for k, v in dasheng_official_state(own).items()
        if not k.startswith("front_end.")
    }
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text('{"model_type": "dasheng", "name": "dasheng-base"}')
    return folder
