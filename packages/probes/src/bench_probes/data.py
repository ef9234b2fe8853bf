"""Token data for probe training: each split in RAM when it fits a memory budget, otherwise
streamed from the store. Both kinds are `Split`s: they yield the same `Batch`es through
`batches()`, so the trainer has one loop for both.

Streaming visits the table's fragments in a new random order every epoch and shuffles rows within
a window of consecutive reads (bounded in bytes), the shard-plus-buffer shuffle of large-scale data
loaders: memory stays bounded by the window and the read-ahead, whatever the set's size.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import Tensor

if TYPE_CHECKING:  # a trial process imports no LanceDB unless it streams from the store
    from bench_store import EmbeddingSet, TokenBatch

VALID_FRACTION = 0.1
LOAD_PEAK = 2.0
"""Loading a split holds its read pieces and the assembled arrays at once: twice its size."""
BUDGET_FRACTION = 0.5
"""Default memory budget: this fraction of the RAM available when the data is opened."""
READ_ROWS = 64
"""Rows per store read: large enough for efficient scans, small enough to shuffle finely."""
SHUFFLE_WINDOW_BYTES = 1 << 30
"""Largest shuffle window of a streamed split (also capped by a quarter of the budget)."""


@dataclass(frozen=True)
class Batch:
    """What a head consumes, as tensors: tokens (B, T, F, D) in the stored dtype (a (B, 0, F, D)
    map when no head reads tokens), mask (B, T), cls (B, D) float32, targets (B, C) or (B,)."""

    tokens: Tensor
    mask: Tensor
    cls: Tensor
    targets: Tensor

    def pin_memory(self) -> Batch:
        return Batch(*(t.pin_memory() for t in (self.tokens, self.mask, self.cls, self.targets)))

    def to(self, device: torch.device) -> Batch:
        """On `device`, tokens converted to float32 there (half the bytes cross the bus)."""
        return Batch(
            self.tokens.to(device, non_blocking=True).float(),
            self.mask.to(device, non_blocking=True),
            self.cls.to(device, non_blocking=True).float(),
            self.targets.to(device, non_blocking=True),
        )


@dataclass(frozen=True)
class SplitArrays:
    """One split in RAM: tokens stay in the stored dtype (fp16) until a batch is formed."""

    tokens: np.ndarray
    mask: np.ndarray
    cls: np.ndarray
    targets: np.ndarray
    clip_ids: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.targets)

    def subset(self, rows: np.ndarray, with_tokens: bool = True) -> SplitArrays:
        """A copy of `rows`; without tokens, a (n, 0, F, D) token map (nothing copied)."""
        tokens, mask = self.tokens, self.mask
        if not with_tokens:
            tokens, mask = tokens[:, :0], mask[:, :0]
        return SplitArrays(
            tokens[rows],
            mask[rows],
            self.cls[rows],
            self.targets[rows],
            tuple(self.clip_ids[i] for i in rows),
        )

    def to_batch(self) -> Batch:
        """The rows as tensors (no copy), the time axis trimmed to the longest clip among them."""
        steps = int(np.flatnonzero(self.mask.any(axis=0)).max(initial=-1)) + 1
        return Batch(
            torch.from_numpy(self.tokens[:, :steps]),
            torch.from_numpy(self.mask[:, :steps]),
            torch.from_numpy(self.cls),
            torch.from_numpy(self.targets),
        )

    def batches(
        self, batch_size: int, shuffle_seed: int | None = None, with_tokens: bool = True
    ) -> Iterator[Batch]:
        rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        return rebatch([self], batch_size, len(self), rng, with_tokens)

    @classmethod
    def concat(cls, pieces: Sequence[SplitArrays]) -> SplitArrays:
        """Rows of all pieces, padded to the longest time axis among them."""
        if len(pieces) == 1:
            return pieces[0]
        first = pieces[0]
        steps = max(p.tokens.shape[1] for p in pieces)
        n = sum(len(p) for p in pieces)
        tokens = np.zeros((n, steps, *first.tokens.shape[2:]), first.tokens.dtype)
        mask = np.zeros((n, steps), dtype=bool)
        start = 0
        for piece in pieces:
            end, t = start + len(piece), piece.tokens.shape[1]
            tokens[start:end, :t] = piece.tokens
            mask[start:end, :t] = piece.mask
            start = end
        return cls(
            tokens,
            mask,
            np.concatenate([p.cls for p in pieces]),
            np.concatenate([p.targets for p in pieces]),
            tuple(i for p in pieces for i in p.clip_ids),
        )

    @classmethod
    def from_batch(cls, batch: TokenBatch, task_kind: str, num_classes: int) -> SplitArrays:
        return cls(
            batch.tokens,
            batch.mask,
            batch.cls,
            batch.targets(task_kind, num_classes),
            tuple(batch.clip_ids),
        )


def rebatch(
    pieces: Iterable[SplitArrays],
    batch_size: int,
    window_rows: int,
    rng: np.random.Generator | None,
    with_tokens: bool,
) -> Iterator[Batch]:
    """Batches from a stream of pieces: whole pieces are gathered into windows of at least
    `window_rows` rows, shuffled within the window when `rng` is given, and cut into batches; the
    rows a window leaves over move on to the next, so only the very last batch is partial."""
    window: list[SplitArrays] = []
    rows = 0
    for piece in pieces:
        window.append(piece)
        rows += len(piece)
        if rows >= max(window_rows, batch_size):
            rest = yield from _cut(window, batch_size, rng, with_tokens, keep_rest=True)
            window, rows = ([rest], len(rest)) if len(rest) else ([], 0)
    if window:
        yield from _cut(window, batch_size, rng, with_tokens, keep_rest=False)


def _cut(
    window: list[SplitArrays],
    batch_size: int,
    rng: np.random.Generator | None,
    with_tokens: bool,
    keep_rest: bool,
) -> Generator[Batch, None, SplitArrays]:
    """Yield the window's full batches (and, unless `keep_rest`, the partial last one); return
    the rows left over."""
    offsets = np.cumsum([0, *(len(p) for p in window)])
    total = int(offsets[-1])
    order = rng.permutation(total) if rng is not None else np.arange(total)
    full = total - total % batch_size if keep_rest else total
    for start in range(0, full, batch_size):
        rows = np.sort(order[start : min(start + batch_size, full)])
        yield _take(window, offsets, rows, with_tokens).to_batch()
    return _take(window, offsets, np.sort(order[full:]), with_tokens)


def _take(
    pieces: list[SplitArrays], offsets: np.ndarray, rows: np.ndarray, with_tokens: bool
) -> SplitArrays:
    """Sorted row numbers over a window of pieces -> a copy of those rows."""
    owner = np.searchsorted(offsets, rows, side="right") - 1
    parts = [pieces[p].subset(rows[owner == p] - offsets[p], with_tokens) for p in np.unique(owner)]
    return SplitArrays.concat(parts) if parts else pieces[0].subset(rows, with_tokens)


@dataclass(frozen=True)
class StoreSplit:
    """A split read from the store on every pass, never held in RAM. `keep` / `drop` select clips
    by id within the stored split (the validation clips held out of a train split)."""

    embedding_set: EmbeddingSet
    split: str
    layer: int | None
    task_kind: str
    num_classes: int
    rows: int
    clip_bytes: float
    """Estimated bytes of one clip's arrays in RAM (one stored layer)."""
    window_bytes: int = SHUFFLE_WINDOW_BYTES
    keep: frozenset[str] | None = None
    drop: frozenset[str] = field(default_factory=frozenset)

    def __len__(self) -> int:
        return self.rows

    def pieces(self, fragment_seed: int | None = None) -> Iterator[SplitArrays]:
        """The split's clips as read, fragment by fragment (in a seeded random order if given)."""
        fragments = None
        if fragment_seed is not None:
            ids = self.embedding_set.fragment_ids()
            fragments = [ids[i] for i in np.random.default_rng(fragment_seed).permutation(len(ids))]
        for batch in self.embedding_set.iter_batches(self.split, READ_ROWS, self.layer, fragments):
            piece = SplitArrays.from_batch(batch, self.task_kind, self.num_classes)
            if self.keep is not None or self.drop:
                chosen = [
                    i
                    for i, clip in enumerate(piece.clip_ids)
                    if (self.keep is None or clip in self.keep) and clip not in self.drop
                ]
                if len(chosen) < len(piece):
                    piece = piece.subset(np.array(chosen, dtype=np.int64))
            if len(piece):
                yield piece

    def batches(
        self, batch_size: int, shuffle_seed: int | None = None, with_tokens: bool = True
    ) -> Iterator[Batch]:
        if shuffle_seed is None:
            return rebatch(self.pieces(), batch_size, batch_size, None, with_tokens)
        window_rows = max(batch_size, int(self.window_bytes / max(1.0, self.clip_bytes)))
        seeds = np.random.SeedSequence(shuffle_seed).spawn(2)
        rng = np.random.default_rng(seeds[1])
        fragment_seed = int(seeds[0].generate_state(1)[0])
        return rebatch(self.pieces(fragment_seed), batch_size, window_rows, rng, with_tokens)

    def load(self) -> SplitArrays:
        """The whole split in RAM, rows in clip-id order (independent of how the table was
        written, so every probe sees the same arrays)."""
        pieces = list(self.pieces())
        data = SplitArrays.concat(pieces)
        order = np.argsort(np.array(data.clip_ids))
        if len(pieces) > 1 and np.array_equal(order, np.arange(len(order))):
            return data
        return data.subset(order)  # a lone piece may be a view of the store's files: copied


Split = SplitArrays | StoreSplit
"""A split in RAM or streamed from the store; both yield `Batch`es through `batches()`."""


@dataclass(frozen=True)
class ProbeData:
    task_kind: str
    num_classes: int
    embed_dim: int
    freq_tokens: int
    train: Split
    valid: Split
    test: Split | None

    @property
    def streamed(self) -> tuple[str, ...]:
        """Names of the splits read from the store on every pass."""
        splits = {"train": self.train, "valid": self.valid, "test": self.test}
        return tuple(name for name, split in splits.items() if isinstance(split, StoreSplit))

    @classmethod
    def from_set(
        cls, embedding_set: EmbeddingSet, layer: int | None = None, memory_budget: int | None = None
    ) -> ProbeData:
        """The splits of `embedding_set`, each in RAM when it fits what is left of
        `memory_budget` (bytes; default: half the available RAM; 0 streams everything), else
        streamed. Valid, train, then test claim the budget, in the order of how often they are
        read. Without a stored "valid" split, a fixed 10% of train (seeded on the sorted clip ids,
        so every probe and both modes see the same clips) becomes the validation split; when
        that one has to be streamed, each validation pass scans the train split, so sets that
        large are better extracted with a stored valid split."""
        info = embedding_set.info
        budget = available_memory() * BUDGET_FRACTION if memory_budget is None else memory_budget
        base = StoreSplit(
            embedding_set,
            "train",
            layer,
            info.task_kind,
            len(info.class_names),
            embedding_set.count("train"),
            embedding_set.size_bytes() / max(1, embedding_set.count()) / len(info.layers),
            window_bytes=int(min(SHUFFLE_WINDOW_BYTES, budget / 4)),
        )
        if len(base) == 0:
            raise ValueError(f"{embedding_set.name} has no train split")
        if embedding_set.count("valid"):
            valid = replace(base, split="valid", rows=embedding_set.count("valid"))
            train = base
        else:
            held_out = held_out_ids(embedding_set.clip_ids("train"))
            valid = replace(base, keep=held_out, rows=len(held_out))
            train = replace(base, drop=held_out, rows=len(base) - len(held_out))
            if len(train) == 0:
                raise ValueError(f"{embedding_set.name}: too few train clips to hold some out")
        n_test = embedding_set.count("test")
        test = replace(base, split="test", rows=n_test) if n_test else None
        remaining = budget

        def place(split: StoreSplit) -> Split:
            nonlocal remaining
            size = len(split) * split.clip_bytes
            if size * LOAD_PEAK > remaining:
                return split
            remaining -= size
            return split.load()

        valid_split, train_split = place(valid), place(train)
        test_split = None if test is None else place(test)
        return cls(
            info.task_kind,
            len(info.class_names),
            info.embed_dim,
            info.freq_tokens,
            train_split,
            valid_split,
            test_split,
        )


def held_out_ids(train_ids: Sequence[str]) -> frozenset[str]:
    """The fixed validation fraction of a train split without a stored validation split."""
    ids = sorted(train_ids)
    order = np.random.default_rng(0).permutation(len(ids))
    n_valid = max(1, int(len(ids) * VALID_FRACTION))
    return frozenset(ids[i] for i in order[:n_valid])


def available_memory() -> int:
    """Bytes of RAM available now (MemAvailable on Linux: free plus reclaimable cache)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
