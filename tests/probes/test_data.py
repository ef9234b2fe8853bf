"""Token data from a real LanceDB store: in RAM within the memory budget, streamed beyond it,
the same clips either way, shuffled in bounded memory, read ahead in a background thread."""

import pickle
import threading
from pathlib import Path

import numpy as np
import pytest

from bench_probes import ProbeData, SplitArrays, StoreSplit
from bench_probes.data import held_out_ids, rebatch
from bench_probes.prefetch import prefetch
from bench_store import SetInfo, TokenStore
from tests.probes.problems import localized_problem, localized_store


def rows_of(split, **kwargs) -> list[tuple[float, ...]]:
    """Every clip a pass yields, identified by its cls vector (unique per clip)."""
    return [tuple(row) for b in split.batches(16, **kwargs) for row in b.cls.numpy().round(4)]


def test_in_ram_and_streamed_data_hold_the_same_clips(tmp_path: Path) -> None:
    embedding_set = localized_store(tmp_path / "db")
    assert len(embedding_set.fragment_ids()) == 4
    in_ram = ProbeData.from_set(embedding_set)
    streamed = ProbeData.from_set(embedding_set, memory_budget=0)
    assert in_ram.streamed == () and streamed.streamed == ("train", "valid", "test")
    assert isinstance(in_ram.train, SplitArrays) and isinstance(streamed.train, StoreSplit)
    # no stored valid split: the same fixed 10% of train is held out in both modes
    assert in_ram.valid.clip_ids == tuple(sorted(held_out_ids(embedding_set.clip_ids("train"))))
    assert (len(in_ram.train), len(in_ram.valid), len(in_ram.test)) == (180, 20, 60)
    for name in ("train", "valid", "test"):
        ram, stream = getattr(in_ram, name), getattr(streamed, name)
        assert len(ram) == len(stream)
        assert sorted(rows_of(ram)) == sorted(rows_of(stream))
    assert list(in_ram.train.clip_ids) == sorted(in_ram.train.clip_ids)  # clip-id order in RAM


def test_budget_places_each_split_in_ram_only_if_it_fits(tmp_path: Path) -> None:
    embedding_set = localized_store(tmp_path / "db", valid_split=True)
    clip = embedding_set.size_bytes() / embedding_set.count()
    # valid (60 clips, twice their size while loading) fits, train (200) then no longer does,
    # test (60) still does: valid, train, test claim the budget in that order
    data = ProbeData.from_set(embedding_set, memory_budget=int(clip * 200))
    assert data.streamed == ("train",)
    assert isinstance(data.valid, SplitArrays) and len(data.valid) == 60  # the stored valid split
    assert ProbeData.from_set(embedding_set, memory_budget=int(clip * 130)).streamed == (
        "train",
        "test",
    )


def test_streamed_epochs_cover_every_clip_once_in_a_new_order(tmp_path: Path) -> None:
    data = ProbeData.from_set(localized_store(tmp_path / "db"), memory_budget=0)
    train = data.train
    assert isinstance(train, StoreSplit)
    window = 3 * 64 * train.clip_bytes  # windows of three store reads
    train = StoreSplit(**{**train.__dict__, "window_bytes": int(window)})
    epochs = [rows_of(train, shuffle_seed=seed) for seed in (0, 1, 0)]
    assert epochs[0] == epochs[2]  # seeded
    assert epochs[0] != epochs[1]  # a new order every epoch
    assert sorted(epochs[0]) == sorted(epochs[1]) and len(set(epochs[0])) == len(train) == 180
    sizes = [len(b.targets) for b in train.batches(16, shuffle_seed=0)]
    assert sizes == [16] * 11 + [4]  # only the last batch is partial
    batch = next(iter(train.batches(16, shuffle_seed=0)))
    # the time axis is trimmed to the longest clip of the batch, padding stays masked
    assert batch.tokens.shape[1] == int(batch.mask.any(dim=0).nonzero().max()) + 1
    assert batch.tokens.shape[2:] == (2, 32)


def test_shuffle_window_bounds_what_is_held_in_memory() -> None:
    pulled = []

    def pieces():
        for i in range(100):
            pulled.append(i)
            yield localized_problem(10, i)  # 10 clips per piece

    batches = rebatch(pieces(), 8, 40, np.random.default_rng(0), with_tokens=True)
    first = next(batches)
    assert len(first.targets) == 8 and len(pulled) == 4  # one window of 40 rows, not the stream
    assert sum(len(b.targets) for b in batches) == 1000 - 8
    cls_only = next(rebatch(pieces(), 8, 40, None, with_tokens=False))
    assert cls_only.tokens.shape == (8, 0, 2, 32) and cls_only.cls.shape == (8, 32)


def test_streamed_data_pickles_for_ray_workers(tmp_path: Path) -> None:
    data = ProbeData.from_set(localized_store(tmp_path / "db"), memory_budget=0)
    again = pickle.loads(pickle.dumps(data))
    assert again.streamed == data.streamed
    assert sorted(rows_of(again.test)) == sorted(rows_of(data.test))


def test_prefetch_reads_ahead_in_a_thread_and_stops_with_its_consumer() -> None:
    produced = []

    def numbers():
        for i in range(1000):
            produced.append(threading.current_thread().name)
            yield i

    before = threading.active_count()
    stream = prefetch(numbers(), depth=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    assert set(produced) == {"bench-prefetch"} and len(produced) <= 3 + 2 + 1
    stream.close()  # consumer goes away early: the producer thread ends
    assert threading.active_count() == before

    def failing():
        yield 1
        raise RuntimeError("store read failed")

    with pytest.raises(RuntimeError, match="store read failed"):
        list(prefetch(failing()))


def test_a_set_without_train_clips_is_an_error(tmp_path: Path) -> None:
    info = SetInfo("empty", "eat", "multilabel", ("a",), 4, 1, (11,))
    embedding_set = TokenStore(str(tmp_path / "db")).create_or_open_set({"empty": 1}, info)
    with pytest.raises(ValueError, match="no train split"):
        ProbeData.from_set(embedding_set)
