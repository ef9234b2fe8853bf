"""Token bytes taken from the data files: every read path returns what was written, for each layer,
across fragments, after compaction, and through Lance's object-store layer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
import pytest

from bench_core import BenchError
from bench_store import ClipTokens, TokenStore
from bench_store.maintenance import optimize_set
from bench_store.schema import arrow_schema
from tests.store.toy import IDENTITY, INFO

LAYERS = (3, 7, 11)
INFO3 = dataclasses.replace(INFO, layers=LAYERS)
IDENTITY3 = {**IDENTITY, "layers": list(LAYERS)}


def clip(i: int, steps: int, split: str = "train") -> ClipTokens:
    rng = np.random.default_rng(i)
    return ClipTokens(
        clip_id=f"c{i:02d}",
        split=split,
        labels=(i % 3,),
        tokens=rng.standard_normal((len(LAYERS), steps, 2, 4)).astype(np.float16),
        cls=rng.standard_normal((len(LAYERS), 4)).astype(np.float32),
    )


ROWS = [clip(i, 6 if i < 8 else 3 + i % 4, "test" if i % 5 == 0 else "train") for i in range(14)]


def written(uri: str) -> object:
    emb = TokenStore(uri).create_or_open_set(IDENTITY3, INFO3)
    emb.append(ROWS[:5])  # three fragments: rows are spread over three data files
    emb.append(ROWS[5:10])
    emb.append(ROWS[10:])
    return emb


def check_layer(batch: object, layer: int) -> None:
    position = LAYERS.index(layer)
    by_id = {row.clip_id: row for row in ROWS}
    for i, clip_id in enumerate(batch.clip_ids):  # type: ignore[attr-defined]
        row = by_id[clip_id]
        steps = row.tokens.shape[1]
        np.testing.assert_array_equal(batch.tokens[i, :steps], row.tokens[position])  # type: ignore[attr-defined]
        assert batch.mask[i].sum() == steps  # type: ignore[attr-defined]
        assert not batch.tokens[i, steps:].any()  # type: ignore[attr-defined]
        np.testing.assert_array_equal(batch.cls[i], row.cls[position])  # type: ignore[attr-defined]


@pytest.mark.parametrize("scheme", ["", "file-object-store://"])
def test_every_layer_reads_back_exactly_streamed_or_loaded(tmp_path: Path, scheme: str) -> None:
    emb = written(f"{scheme}{tmp_path / 'db'}")
    for layer in LAYERS:
        loaded = emb.load(layer=layer)
        assert loaded.clip_ids == sorted(row.clip_id for row in ROWS)
        check_layer(loaded, layer)
        for split in ("train", "test", None):
            streamed = list(emb.iter_batches(split, batch_size=4, layer=layer))
            expected = [r.clip_id for r in ROWS if split is None or r.split == split]
            assert sorted(i for b in streamed for i in b.clip_ids) == sorted(expected)
            for batch in streamed:
                check_layer(batch, layer)


def test_unpadded_local_batches_are_views_of_the_file_padded_ones_are_copies(
    tmp_path: Path,
) -> None:
    emb = written(str(tmp_path / "db"))
    first, *_ = emb.iter_batches(None, batch_size=5, fragments=[0])  # 5 clips of 6 steps
    assert first.mask.all() and not first.tokens.flags.writeable and not first.tokens.flags.owndata
    *_, last = emb.iter_batches(None, batch_size=4, fragments=[2])  # mixed lengths: padded
    assert not last.mask.all() and last.tokens.flags.owndata


def test_compaction_keeps_every_token(tmp_path: Path) -> None:
    emb = written(str(tmp_path / "db"))
    before = emb.load(layer=7)
    report = optimize_set(emb)
    assert (report.fragments_before, report.fragments_after) == (3, 1)
    after = emb.load(layer=7)
    assert after.clip_ids == before.clip_ids
    np.testing.assert_array_equal(after.tokens, before.tokens)
    for batch in emb.iter_batches("train", batch_size=3, layer=7):
        check_layer(batch, 7)


def test_a_table_with_the_former_list_layout_is_refused_with_advice(tmp_path: Path) -> None:
    schema = arrow_schema(IDENTITY, INFO)
    former = schema.set(
        schema.get_field_index("tokens"), pa.field("tokens", pa.list_(pa.float16()))
    )
    lancedb.connect(str(tmp_path / "db")).create_table("emb__old", schema=former)
    with pytest.raises(BenchError, match="older bench; extract it again"):
        TokenStore(str(tmp_path / "db")).open_set("emb__old")
