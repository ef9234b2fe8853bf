"""The query API behind `bench query`: selections, exports, nearest neighbours, set overviews."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench_core import BenchError
from bench_store import ClipTokens, SetInfo, TokenStore, optimize_set
from bench_store.query import (
    ClipQuery,
    ExportFormat,
    describe_sets,
    export_clips,
    neighbours,
    select_clips,
)
from tests.store.toy import IDENTITY, INFO, clip


@pytest.fixture
def emb(tmp_path: Path):
    emb = TokenStore(str(tmp_path / "db")).create_or_open_set(IDENTITY, INFO)
    emb.append([clip(i, split="test" if i % 4 == 0 else "train") for i in range(12)])
    emb.append([ClipTokens("it's", "valid", (0, 2), np.zeros((1, 2, 2, 4)), np.ones((1, 4)))])
    return emb


def test_select_by_split_label_and_id(emb) -> None:
    assert select_clips(emb).num_rows == 13
    test = select_clips(emb, ClipQuery(split="test"))
    assert sorted(test.column("clip_id").to_pylist()) == ["c0", "c4", "c8"]
    assert "tokens" not in test.column_names  # listings leave the arrays out
    labelled = select_clips(emb, ClipQuery(labels=("b", "c")))
    assert all(set(row) & {1, 2} for row in labelled.column("labels").to_pylist())
    assert labelled.num_rows == 9  # c1 c2 c4 c5 c7 c8 c10 c11 and it's
    both = select_clips(emb, ClipQuery(split="train", labels=("a",), clip_ids=("c3", "c4", "c9")))
    assert sorted(both.column("clip_id").to_pylist()) == ["c3", "c9"]
    quoted = select_clips(emb, ClipQuery(clip_ids=("it's",)), columns=("clip_id", "labels"))
    assert quoted.to_pylist() == [{"clip_id": "it's", "labels": [0, 2]}]
    frame = select_clips(emb, ClipQuery(split="test")).to_pandas()
    assert sorted(frame["clip_id"]) == ["c0", "c4", "c8"]
    with pytest.raises(BenchError, match="unknown class d"):
        select_clips(emb, ClipQuery(labels=("d",)))
    with pytest.raises(BenchError, match="invalid split"):
        select_clips(emb, ClipQuery(split="x' OR '1'='1"))


def test_export_to_parquet_and_arrow_keeps_tokens_and_identity(emb, tmp_path: Path) -> None:
    path = tmp_path / "test.parquet"
    assert export_clips(emb, path, ClipQuery(split="test")) == 3
    table = pq.read_table(path)
    assert table.schema.metadata == emb.table.schema.metadata  # identity and info travel along
    row = table.filter(pa.compute.equal(table.column("clip_id"), "c4")).to_pylist()[0]
    np.testing.assert_allclose(
        np.array(row["tokens"], np.float32).reshape(3, 2, 4), clip(4).tokens[0], rtol=1e-3
    )
    arrow_path = tmp_path / "all.arrow"
    rows = export_clips(emb, arrow_path, file_format=ExportFormat.ARROW, with_tokens=False)
    with pa.ipc.open_file(arrow_path) as reader:
        exported = reader.read_all()
    assert rows == exported.num_rows == 13 and "tokens" not in exported.column_names


def test_neighbours_flat_and_with_a_vector_index(tmp_path: Path) -> None:
    info = SetInfo(**{**INFO.__dict__, "embed_dim": 32, "freq_tokens": 1})
    emb = TokenStore(str(tmp_path / "db")).create_or_open_set({**IDENTITY, "d": 32}, info)
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 32)).astype(np.float32)
    rows = []
    for i in range(300):
        vector = centres[i % 3] + 0.05 * rng.standard_normal(32).astype(np.float32)
        rows.append(
            ClipTokens(f"k{i}", "train", (i % 3,), vector.reshape(1, 1, 1, 32), vector[None])
        )
    rows.append(ClipTokens("twin", "train", (0,), rows[0].tokens * 3, rows[0].cls * 3))
    emb.append(rows)

    flat = neighbours(emb, "k0", k=5)
    assert flat.column("clip_id")[0].as_py() == "twin"  # cosine: scale does not matter
    assert flat.column("_distance")[0].as_py() == pytest.approx(0.0, abs=1e-5)
    assert "k0" not in flat.column("clip_id").to_pylist()
    assert all(labels == [0] for labels in flat.column("labels").to_pylist())

    assert optimize_set(emb, index_min_rows=1000).indexed is False
    assert optimize_set(emb, index_min_rows=200).indexed is True
    [overview] = describe_sets(TokenStore(str(tmp_path / "db")))
    assert (
        overview.indexed and overview.clips == 301 and overview.identity_hash == emb.identity_hash
    )
    indexed = neighbours(emb, "k0", k=5)
    assert indexed.column("clip_id")[0].as_py() == "twin"
    assert all(labels == [0] for labels in indexed.column("labels").to_pylist())
    with pytest.raises(BenchError, match="no clip 'nope'"):
        neighbours(emb, "nope")
