"""The paper's effect in miniature: on the synthetic multi-label set of localized events, the
prototype heads beat the global linear probe (on the cls token, and on the token mean) by a
clear margin in macro mAP.

The synthetic classes come in pairs that share their average spectrum (`tone` / `tone_pulsed`,
`chirp_up` / `chirp_down`) and differ only in local time-frequency structure, which a global
vector blurs. Tokens come from a fixed front-end that keeps locality: the tiny EAT with seeded
random weights (patch embedding, position table, two transformer blocks), no training involved.
Every head trains on one shared pass per seed; each pooling gets a small learning-rate grid and
keeps the rate with the best validation mAP, so the baseline is tuned like the others.
"""

import statistics

import numpy as np
import pytest
import torch

from bench_audio.synthetic import CLASS_NAMES, SyntheticSpec, generate_clip
from bench_encoders import create_encoder
from bench_probes import ProbeData, ProbeSpec, SplitArrays, TrainSettings, train_probes

N_CLIPS = 240
SEEDS = (0, 1, 2)
EPOCHS = 20
MARGIN = 0.20
"""Required advantage of proto and protobin over the better linear baseline, in macro mAP
(0..1) averaged over the seeds; every single seed must show at least half of it."""

GRID = {
    "linear": (1e-2, 1e-1),
    "proto": (1e-2,),
    "protobin": (1e-2,),
    "mlp": (1e-3,),
    "linearc": (1e-2,),
    "conv": (1e-3,),
    "linpre": (1e-2,),
    "mhca": (1e-2,),
    "ep": (1e-2,),
    "simpool": (1e-1,),
    "abmilp": (1e-2,),
}
PARAMS = {"conv": {"channels": 32}, "ep": {"num_queries": 8}}


@pytest.fixture(scope="module")
def synthetic() -> dict[str, ProbeData]:
    """Token maps of the synthetic set with the encoder's cls, and with the token mean as cls."""
    spec = SyntheticSpec(n_clips=N_CLIPS)
    clips = [generate_clip(spec, i) for i in range(N_CLIPS)]
    encoder, _ = create_encoder("eat", random_weights=True, preset="tiny")
    waves = torch.from_numpy(np.stack([clip.wave for clip in clips]))
    with torch.no_grad():
        out = encoder(waves, torch.full((N_CLIPS,), waves.shape[1]))
    tokens, mask, cls = out.tokens[:, 0].numpy(), out.mask.numpy(), out.cls[:, 0].numpy()
    targets = np.zeros((N_CLIPS, len(CLASS_NAMES)), dtype=np.float32)
    for i, clip in enumerate(clips):
        targets[i, list(clip.labels)] = 1.0

    def data(global_vector: np.ndarray) -> ProbeData:
        def split(name: str) -> SplitArrays:
            rows = np.array([i for i, clip in enumerate(clips) if clip.split == name])
            return SplitArrays(
                tokens[rows].astype(np.float16),
                mask[rows],
                global_vector[rows],
                targets[rows],
                tuple(clips[i].clip_id for i in rows),
            )

        dim, freq = tokens.shape[-1], tokens.shape[2]
        return ProbeData(
            "multilabel", len(CLASS_NAMES), dim, freq, split("train"), split("valid"), split("test")
        )

    return {"cls": data(cls), "mean": data(tokens.mean(axis=(1, 2)))}


def tuned_test_map(
    data: ProbeData, grid: dict[str, tuple[float, ...]], seed: int
) -> dict[str, float]:
    """Every (pooling, lr) of `grid` on one pass; per pooling, the test mAP of the best-valid lr."""
    specs = [
        ProbeSpec(
            name,
            PARAMS.get(name, {}),
            TrainSettings(lr=lr, weight_decay=1e-4, epochs=EPOCHS, batch_size=32, seed=seed),
        )
        for name, lrs in grid.items()
        for lr in lrs
    ]
    best: dict[str, tuple[float, float]] = {}
    for spec, result in zip(specs, train_probes(data, specs), strict=True):
        valid, test = result.valid["score"], result.test["map"]
        if spec.head not in best or valid > best[spec.head][0]:
            best[spec.head] = (valid, test)
    return {name: test for name, (_, test) in best.items()}


def test_prototype_heads_beat_the_linear_probe_on_localized_events(
    synthetic: dict[str, ProbeData], capsys: pytest.CaptureFixture[str]
) -> None:
    scores: dict[str, list[float]] = {}
    for seed in SEEDS:
        on_cls = tuned_test_map(synthetic["cls"], GRID, seed)
        on_mean = tuned_test_map(synthetic["mean"], {"linear": GRID["linear"]}, seed)
        on_cls["linear (mean)"] = on_mean["linear"]
        on_cls["baseline"] = max(on_cls["linear"], on_mean["linear"])
        for name, value in on_cls.items():
            scores.setdefault(name, []).append(value)

    baseline = scores.pop("baseline")
    margins = {
        name: [s - b for s, b in zip(values, baseline, strict=True)]
        for name, values in scores.items()
    }
    lines = [f"synthetic localized events, tiny EAT tokens, test macro mAP over seeds {SEEDS}:"]
    for name in sorted(scores, key=lambda n: -statistics.fmean(scores[n])):
        values = scores[name]
        lines.append(
            f"  {name:14s} {statistics.fmean(values):.3f} ± {statistics.stdev(values):.3f}"
            f"   vs best linear {statistics.fmean(margins[name]):+.3f}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    for name in ("proto", "protobin"):
        assert statistics.fmean(margins[name]) >= MARGIN, lines
        assert min(margins[name]) >= MARGIN / 2, lines
