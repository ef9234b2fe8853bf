"""Would int8 per-token-scaled token storage cost probe accuracy? (issue 5: ship only if every
probe stays within 0.2 points of fp16.)

Extracts the built-in synthetic multi-label set with seeded random EAT weights, then trains the
same probes with the same seeds on the stored fp16 tokens and on the same tokens after an int8
round trip (per token: scale = max|x| / 127 over its D values, q = round(x / scale)). Probes that
read tokens: protobin, and linear on the masked mean of the tokens (the stored cls is fp32 and
would not be quantized, so linear-on-cls cannot differ). Prints test macro mAP in points.

    .venv/bin/python tools/experiments/int8_tokens.py [--preset small] [--seeds 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile

import numpy as np

from bench_audio import DatasetConfig
from bench_core import ensure_ray
from bench_extract import ExtractOptions, extract
from bench_probes import ProbeData, SplitArrays, TrainSettings, train_probe
from bench_store import TokenStore


def int8_roundtrip(tokens: np.ndarray) -> np.ndarray:
    """Quantize each token vector (last axis) to int8 with its own scale, then dequantize."""
    values = tokens.astype(np.float32)
    scale = np.abs(values).max(axis=-1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    quantized = np.clip(np.rint(values / scale), -127, 127).astype(np.int8)
    return (quantized.astype(np.float32) * scale).astype(tokens.dtype)


def with_tokens(split: SplitArrays, quantize: bool, mean_as_cls: bool) -> SplitArrays:
    tokens = int8_roundtrip(split.tokens) if quantize else split.tokens
    cls = split.cls
    if mean_as_cls:
        weights = split.mask[:, :, None, None].astype(np.float32)
        cls = (tokens.astype(np.float32) * weights).sum(axis=(1, 2)) / (
            weights.sum(axis=(1, 2)) * tokens.shape[2]
        )
    return dataclasses.replace(split, tokens=tokens, cls=cls.astype(np.float32))


def variant(data: ProbeData, quantize: bool, mean_as_cls: bool) -> ProbeData:
    return dataclasses.replace(
        data,
        train=with_tokens(data.train, quantize, mean_as_cls),
        valid=with_tokens(data.valid, quantize, mean_as_cls),
        test=None if data.test is None else with_tokens(data.test, quantize, mean_as_cls),
    )


PROBES = {
    # name: (head, params, lr, mean_as_cls)
    "protobin": ("protobin", {"prototypes_per_class": 20}, 1e-2, False),
    "linear (mean of tokens)": ("linear", {}, 1e-2, True),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="small")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--clips", type=int, default=480)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    ensure_ray(num_cpus=2, object_store_memory=512 << 20)
    with tempfile.TemporaryDirectory() as tmp:
        store = TokenStore(f"{tmp}/store")
        dataset = DatasetConfig(
            name="synthetic",
            reader="synthetic",
            options={"kind": "multilabel", "n_clips": args.clips, "clip_seconds": 4.0, "seed": 0},
        )
        summary = extract(
            dataset,
            "eat",
            store=store,
            random_weights=True,
            preset=args.preset,
            data_root=f"{tmp}/data",
            options=ExtractOptions(batch_size=16),
        )
        data = ProbeData.from_set(store.open_set(summary.embedding_set))
    print(
        f"EAT {args.preset}, {args.clips} synthetic clips, test macro mAP (points), seeds 0..{args.seeds - 1}"
    )
    for name, (head, params, lr, mean_as_cls) in PROBES.items():
        scores: dict[bool, list[float]] = {False: [], True: []}
        for quantize in (False, True):
            probe_data = variant(data, quantize, mean_as_cls)
            for seed in range(args.seeds):
                settings = TrainSettings(lr=lr, weight_decay=1e-4, epochs=args.epochs, seed=seed)
                result = train_probe(probe_data, head, params, settings)
                scores[quantize].append(100 * result.test["map"])
        diffs = [b - a for a, b in zip(scores[False], scores[True], strict=True)]
        print(
            f"{name:26s} fp16 {statistics.fmean(scores[False]):6.2f} "
            f"int8 {statistics.fmean(scores[True]):6.2f} "
            f"mean diff {statistics.fmean(diffs):+.2f}  max |diff| {max(map(abs, diffs)):.2f}  "
            f"per seed {[f'{d:+.2f}' for d in diffs]}"
        )


if __name__ == "__main__":
    main()
