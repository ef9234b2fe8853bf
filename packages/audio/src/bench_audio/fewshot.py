"""The paper's BirdSet training protocol: event windows, k shots per class, mixup variants.

BirdSet's training data are focal Xeno-Canto recordings, minutes long, with detected call events.
Following the BirdSet code (`XCEventMapping`, biggest cluster) each recording yields one training
window per detected event of its largest event cluster (the noise cluster -1 only when it is all
there is), or one window at the start when no event was detected. Following the authors' few-shot
code (BioFoundation `FewShotConfig`), `shots` windows per class are then drawn, and a fraction of
them held out for validation.

Embeddings are computed once and cached, so every random choice here is fixed by a seed: windows
are centred on their event (BirdSet draws a random 5 s crop of the event extended to 8 s each
epoch), the shots are drawn in a seeded order (at most `event_limit` windows from one recording,
as BirdSet's `eventlimit`), the validation windows are a seeded stratified fraction, and each
mixup variant is a seeded copy of the training windows in which a window is, with probability p,
mixed with another training window (labels: the union, as BirdSet's `MultilabelMix` with
`mix_target: union`; the partner's weight uniform in `weight_range`, inferred: the paper states
only p = 0.9 and five variants).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from bench_audio.types import Clip, Mix


@dataclass(frozen=True)
class EventWindow:
    """One candidate training window: a clip plus the recording it comes from and its class."""

    clip: Clip
    recording: str
    primary: int
    """The recording's primary class (BirdSet `ebird_code`), the class a shot counts for."""


def event_starts(
    events: Sequence[Sequence[float]] | None, clusters: Sequence[int] | None, window: float
) -> list[float]:
    """Start times of the windows of one recording, centred on the events of its largest cluster."""
    spans = [tuple(e) for e in events or [] if len(e) == 2]
    labels = list(clusters) if clusters and len(clusters) == len(spans) else [0] * len(spans)
    if labels != [-1]:  # BirdSet drops the noise cluster unless it is the only event
        spans = [s for s, c in zip(spans, labels, strict=True) if c != -1]
        labels = [c for c in labels if c != -1]
    if spans:
        counts = Counter(labels)
        biggest = min(c for c in counts if counts[c] == max(counts.values()))
        spans = [s for s, c in zip(spans, labels, strict=True) if c == biggest]
    else:
        spans = [(0.0, window)]
    starts = {round(max(0.0, (lo + hi) / 2 - window / 2), 3) for lo, hi in spans}  # ms
    return sorted(starts)


def select_shots(
    windows: Sequence[EventWindow], shots: int, seed: int, event_limit: int
) -> list[EventWindow]:
    """Up to `shots` windows per primary class in a seeded order, at most `event_limit` per
    recording (classes with fewer windows keep all they have)."""
    order = np.random.default_rng(seed).permutation(len(windows))
    per_class: Counter[int] = Counter()
    per_recording: Counter[str] = Counter()
    chosen = []
    for i in order:
        window = windows[int(i)]
        if per_class[window.primary] < shots and per_recording[window.recording] < event_limit:
            per_class[window.primary] += 1
            per_recording[window.recording] += 1
            chosen.append(window)
    return sorted(chosen, key=lambda w: w.clip.clip_id)


def hold_out(windows: Sequence[EventWindow], fraction: float, seed: int) -> list[Clip]:
    """The windows as clips, a seeded `fraction` of each class moved to the `valid` split."""
    rng = np.random.default_rng([seed, 1])
    by_class: dict[int, list[EventWindow]] = {}
    for window in windows:
        by_class.setdefault(window.primary, []).append(window)
    valid: set[str] = set()
    for members in by_class.values():
        n = round(fraction * len(members))
        valid.update(members[int(i)].clip.clip_id for i in rng.permutation(len(members))[:n])
    return [replace(w.clip, split="valid") if w.clip.clip_id in valid else w.clip for w in windows]


def mixup_variants(
    clips: Sequence[Clip], variants: int, p: float, weight_range: tuple[float, float], seed: int
) -> list[Clip]:
    """`variants` augmented copies of `clips` (ids `<id>~mix<v>`, v = 1..variants)."""
    out = []
    for v in range(1, variants + 1):
        rng = np.random.default_rng([seed, 2, v])
        for i, clip in enumerate(clips):
            copy = replace(clip, clip_id=f"{clip.clip_id}~mix{v}")
            if len(clips) > 1 and rng.random() < p:
                j = int(rng.integers(len(clips) - 1))
                partner = clips[j + (j >= i)]
                weight = float(rng.uniform(*weight_range))
                labels = tuple(sorted(set(clip.labels) | set(partner.labels)))
                copy = replace(copy, labels=labels, mix=(Mix(partner, weight),))
            out.append(copy)
    return out
