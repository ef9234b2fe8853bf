"""Tiny random transformers audio models saved with their feature extractors (no network)."""

import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
import transformers


def save_ast(folder: Path) -> Path:
    config = transformers.ASTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_length=128,
        num_mel_bins=32,
    )
    transformers.ASTModel(config).save_pretrained(folder)
    transformers.ASTFeatureExtractor(max_length=128, num_mel_bins=32).save_pretrained(folder)
    return folder


def save_wav2vec2(folder: Path, masked: bool, model_type: str = "wav2vec2") -> Path:
    sizes = dict(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(16, 16),
        conv_stride=(16, 20),
        conv_kernel=(32, 20),
        num_feat_extract_layers=2,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    if model_type == "hubert":
        config = transformers.HubertConfig(**sizes, feat_extract_norm="group")
        transformers.HubertModel(config).save_pretrained(folder)
    else:
        norm = {"feat_extract_norm": "layer", "do_stable_layer_norm": True} if masked else {}
        transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(**sizes, **norm)).save_pretrained(
            folder
        )
    transformers.Wav2Vec2FeatureExtractor(return_attention_mask=masked).save_pretrained(folder)
    return folder


def save_whisper(folder: Path) -> Path:
    config = transformers.WhisperConfig(
        d_model=32,
        encoder_layers=2,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        num_mel_bins=16,
        max_source_positions=50,
        max_target_positions=8,
        vocab_size=16,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=1,
    )
    transformers.WhisperModel(config).save_pretrained(folder)
    transformers.WhisperFeatureExtractor(feature_size=16, chunk_length=1).save_pretrained(folder)
    return folder


def save_clap(folder: Path) -> Path:
    audio = dict(
        spec_size=64,
        num_mel_bins=16,
        window_size=4,
        depths=[1, 1],
        num_attention_heads=[2, 2],
        patch_embeds_hidden_size=16,
        hidden_size=32,
        patch_size=4,
        patch_stride=[4, 4],
        projection_dim=16,
        enable_fusion=False,
    )
    text = dict(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=40,
        projection_dim=16,
    )
    config = transformers.ClapConfig(audio_config=audio, text_config=text, projection_dim=16)
    transformers.ClapModel(config).save_pretrained(folder)
    transformers.ClapFeatureExtractor(
        feature_size=16,
        sampling_rate=16000,
        hop_length=160,
        fft_window_size=400,
        max_length_s=2,
        frequency_max=8000,
        truncation="rand_trunc",
    ).save_pretrained(folder)
    return folder
