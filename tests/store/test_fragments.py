"""Writes from any process, commits from one: visibility, exactness, and clean-up of orphans."""

import pickle
from pathlib import Path

import numpy as np

from bench_store import TokenStore, optimize_set
from tests.store.toy import IDENTITY, INFO, clip


def data_files(store_dir: Path) -> set[str]:
    return {p.name for p in store_dir.rglob("data/*.lance")}


def test_fragments_are_invisible_until_committed_and_committed_once(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    emb = store.create_or_open_set(IDENTITY, INFO)
    writer = pickle.loads(pickle.dumps(emb.fragment_writer()))  # as a Ray worker receives it
    first = writer.write([clip(0), clip(1)])
    second = writer.write([clip(2), clip(3, 5, "test")])
    assert emb.count() == 0 and first.clip_ids == ("c0", "c1")

    outcome = emb.commit([first, second])
    assert outcome.written == 4 and outcome.rejected == ()
    assert emb.count() == 4 and emb.count("test") == 1
    np.testing.assert_allclose(emb.load("test").tokens[0], clip(3, 5).tokens[0].astype(np.float16))

    # a fragment holding a stored clip is rejected whole; its other clips are reported
    again = writer.write([clip(1), clip(4)])
    clash = writer.write([clip(5), clip(5)])
    fine = writer.write([clip(6)])
    outcome = emb.commit([again, clash, fine])
    assert outcome.written == 1 and outcome.rejected == ("c4", "c5")
    ids = emb.table.to_lance().to_table(columns=["clip_id"]).column("clip_id").to_pylist()
    assert sorted(ids) == ["c0", "c1", "c2", "c3", "c6"]


def test_commit_sees_clips_another_process_committed(tmp_path: Path) -> None:
    uri = str(tmp_path / "db")
    ours = TokenStore(uri).create_or_open_set(IDENTITY, INFO)
    theirs = TokenStore(uri).create_or_open_set(IDENTITY, INFO)
    assert ours.append([clip(0)]) == 1
    pending = ours.fragment_writer().write([clip(1)])
    assert theirs.append([clip(1), clip(2)]) == 2  # another writer got there first
    assert ours.commit([pending]).rejected == ()  # c1 is stored: nothing lost...
    assert ours.count() == 3  # ...and nothing doubled
    assert ours.append([clip(2), clip(3)]) == 1


def test_optimize_compacts_and_deletes_what_interrupted_runs_left(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    emb = store.create_or_open_set(IDENTITY, INFO)
    for i in range(5):
        emb.append([clip(2 * i), clip(2 * i + 1, split="test")])
    orphan = emb.fragment_writer().write([clip(99)])  # written, never committed (a killed run)
    before = data_files(tmp_path)
    assert len(before) == 6
    expected = emb.load()

    report = optimize_set(emb)
    assert (report.rows, report.fragments_before, report.fragments_after) == (10, 5, 1)
    assert report.bytes_removed > 0 and not report.indexed
    after = data_files(tmp_path)
    assert len(after) == 1 and not after & before  # old files and the orphan are gone
    assert orphan.clip_ids == ("c99",) and emb.count() == 10
    reloaded = emb.load()
    assert reloaded.clip_ids == expected.clip_ids
    np.testing.assert_array_equal(reloaded.tokens, expected.tokens)
    assert emb.append([clip(99)]) == 1  # the store still takes writes
