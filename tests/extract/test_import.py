"""`bench import`: token maps made elsewhere (npy/npz folders, HDF5, Parquet) into the store."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bench_audio import open_dataset
from bench_cli.app import app
from bench_core import BenchError
from bench_extract import TokenLayout, import_tokens
from bench_store import TokenDType, TokenStore

runner = CliRunner(env={"COLUMNS": "240"})


def informative_map(
    labels: tuple[int, ...], seed: int, steps: int = 5, dim: int = 16
) -> np.ndarray:
    """(T, D) noise with each label's direction added at one random time step."""
    rng = np.random.default_rng(seed)
    tokens = rng.standard_normal((steps, dim)).astype(np.float32) * 0.5
    directions = np.random.default_rng(99).standard_normal((8, dim)).astype(np.float32)
    for label in labels:
        tokens[rng.integers(steps)] += 3 * directions[label]
    return tokens


@pytest.mark.slow
@pytest.mark.usefixtures("ray_session")
def test_import_a_npy_folder_then_tune(tmp_path: Path) -> None:
    clips = open_dataset("synthetic").clips
    folder = tmp_path / "maps"
    folder.mkdir()
    kept, left_out = clips[:200], [clip.clip_id for clip in clips[200:]]
    for i, clip in enumerate(kept):
        np.save(folder / f"{clip.clip_id}.npy", informative_map(clip.labels, i, steps=4 + i % 3))
    store = str(tmp_path / "store")
    args = ["import", str(folder), "--backbone", "theirs", "--layout", "TD"]
    args += ["--dataset", "synthetic", "--store", store]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "200 clips imported" in first.output
    assert "40 clips of the dataset have no token map" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "0 clips imported, 200 already stored" in again.output

    (emb,) = TokenStore(store).embedding_sets()
    assert emb.count() == 200
    imported = emb.identity["imported"]
    assert imported["path"] == str(folder.resolve()) and imported["kind"] == "npy-folder"
    assert len(imported["sha256"]) == 64 and emb.identity["layout"] == "TD"
    assert (emb.info.embed_dim, emb.info.freq_tokens, emb.info.has_cls) == (16, 1, False)
    failures = TokenStore(store).failures(emb.name)
    assert sorted(f["clip_id"] for f in failures) == sorted(left_out)  # reported once
    batch = emb.load()
    row = batch.clip_ids.index(kept[7].clip_id)
    expected = informative_map(kept[7].labels, 7, steps=4 + 7 % 3)
    np.testing.assert_allclose(batch.tokens[row, : len(expected), 0], expected, atol=2e-2)
    np.testing.assert_allclose(batch.cls[row], expected.mean(axis=0), atol=1e-5)

    tune = ["tune", "--pooling", "linear", "--dataset", "synthetic", "--backbone", "theirs"]
    tune += ["--trials", "1", "--epochs", "2", "--seeds", "1", "--store", store]
    tuned = runner.invoke(app, tune)
    assert tuned.exit_code == 0, tuned.output
    finals = TokenStore(store).runs(backbone="theirs", kind="final")
    assert len(finals) == 1 and finals[0].embedding_set == emb.name
    assert finals[0].metric == "map" and 0 < finals[0].test_score <= 1


def write_manifest(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


MANIFEST_ROWS = [
    {"clip_id": f"c{i}", "split": "train" if i < 4 else "test", "labels": [["bird", "dog"][i % 2]]}
    for i in range(6)
]


def ltfd_maps() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {f"c{i}": rng.standard_normal((2, 3 + i, 2, 4)).astype(np.float32) for i in range(6)}


def test_the_three_formats_import_the_same_rows(tmp_path: Path) -> None:
    maps = ltfd_maps()
    manifest = write_manifest(tmp_path / "labels.jsonl", MANIFEST_ROWS)
    folder = tmp_path / "npz"
    (folder / "nested").mkdir(parents=True)
    for clip_id, array in maps.items():
        np.savez_compressed(folder / "nested" / f"{clip_id}.npz", emb=array, other=np.zeros(2))
    with h5py.File(tmp_path / "maps.h5", "w") as handle:
        for clip_id, array in maps.items():
            handle.create_dataset(f"maps/{clip_id}", data=array)
    table = pa.table({"id": list(maps), "tokens": [array.tolist() for array in maps.values()]})
    pq.write_table(table, tmp_path / "maps.parquet")

    store = TokenStore(str(tmp_path / "store"))
    sources = [
        (folder, {"key": "emb"}),
        (tmp_path / "maps.h5", {"key": "maps"}),
        (tmp_path / "maps.parquet", {"id_column": "id"}),
    ]
    loaded = []
    for source, options in sources:
        summary = import_tokens(
            source,
            "theirs",
            TokenLayout.LTFD,
            manifest=manifest,
            store=store,
            dtype=TokenDType.FP32,
            **options,
        )
        assert summary.written == 6 and not summary.missing and not summary.failures
        emb = store.open_set(summary.embedding_set)
        assert emb.info.layers == (0, 1) and emb.info.task_kind == "multiclass"
        assert emb.info.class_names == ("bird", "dog")
        batch = emb.load("train", layer=0)
        assert batch.labels == [(0,), (1,), (0,), (1,)]
        loaded.append(emb.load(layer=1))
    assert len({b.tokens.tobytes() for b in loaded}) == 1  # three sets, identical rows
    np.testing.assert_array_equal(loaded[0].tokens[5, :8], maps["c5"][1])
    assert len(store.embedding_sets()) == 3  # the source is part of the identity


def test_layouts_csv_manifest_and_bad_values(tmp_path: Path) -> None:
    manifest = tmp_path / "labels.csv"
    manifest.write_text("clip_id,split,labels,fold\na,train,bird;dog,1\nb,train,,2\nc,test,dog,\n")
    folder = tmp_path / "maps"
    folder.mkdir()
    np.save(folder / "a.npy", np.ones((4, 2, 8), dtype=np.float32))
    np.save(folder / "b.npy", np.full((3, 2, 8), np.nan, dtype=np.float32))
    np.save(folder / "c.npy", np.full((3, 2, 8), 1e6, dtype=np.float32))
    store = TokenStore(str(tmp_path / "store"))
    summary = import_tokens(folder, "theirs", TokenLayout.TFD, manifest=manifest, store=store)
    assert summary.written == 1
    reasons = {f["clip_id"]: f["reason"] for f in summary.failures}
    assert "NaN" in reasons["b"] and "--dtype fp32" in reasons["c"]
    emb = store.open_set(summary.embedding_set)
    assert emb.info.task_kind == "multilabel" and emb.info.freq_tokens == 2
    batch = emb.load()
    assert batch.labels == [(0, 1)] and batch.tokens.shape == (1, 4, 2, 8)
    assert emb.table.to_arrow().column("fold").to_pylist() == [1]


def test_clear_errors(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "labels.jsonl", MANIFEST_ROWS)
    folder = tmp_path / "maps"
    folder.mkdir()
    for i in range(3):
        np.save(folder / f"c{i}.npy", np.zeros((5, 8), dtype=np.float32))
    store = TokenStore(str(tmp_path / "store"))

    def run(source: Path = folder, layout: TokenLayout = TokenLayout.TD, **options) -> None:
        import_tokens(source, "theirs", layout, manifest=manifest, store=store, **options)

    with pytest.raises(BenchError, match=r"token map \(5, 8\) has 2 axes, layout TFD has 3"):
        run(layout=TokenLayout.TFD)
    np.save(folder / "c3.npy", np.zeros((5, 9), dtype=np.float32))
    with pytest.raises(BenchError, match=r"clip c3: token map \(5, 9\) does not match clip c0"):
        run()
    np.save(folder / "c3.npy", np.zeros((0, 8), dtype=np.float32))
    with pytest.raises(BenchError, match=r"c3: token map .* has no time steps"):
        run()
    (folder / "c3.npy").unlink()
    np.save(folder / "elsewhere.npy", np.zeros((5, 8), dtype=np.float32))
    with pytest.raises(
        BenchError, match=r"1 clip ids of .* are not in dataset 'labels'.*elsewhere"
    ):
        run()
    (folder / "elsewhere.npy").unlink()
    with pytest.raises(BenchError, match="not both"):
        import_tokens(folder, "x", TokenLayout.TD, manifest=manifest, dataset="synthetic")
    with pytest.raises(BenchError, match="--dataset"):
        import_tokens(folder, "x", TokenLayout.TD)
    np.savez(tmp_path / "one.npz", emb=np.zeros((2, 3)))
    (folder / "c4.npz").write_bytes((tmp_path / "one.npz").read_bytes())
    with pytest.raises(BenchError, match=r"has no array 'tokens' \(it has: emb\); use --key"):
        run()
    (folder / "c4.npz").unlink()
    pq.write_table(
        pa.table({"clip_id": ["c0"], "tokens": [[[1.0, 2.0], [3.0]]]}), tmp_path / "r.parquet"
    )
    with pytest.raises(BenchError, match="clip c0: ragged lists at depth 1"):
        run(tmp_path / "r.parquet")
    with pytest.raises(BenchError, match="no column 'clip'"):
        run(tmp_path / "r.parquet", id_column="clip")
    (tmp_path / "maps.txt").write_text("")
    with pytest.raises(BenchError, match="unknown token source"):
        run(tmp_path / "maps.txt")

    summary = import_tokens(folder, "theirs", TokenLayout.TD, manifest=manifest, store=store)
    assert summary.written == 3 and summary.missing == ["c3", "c4", "c5"]
    result = runner.invoke(app, ["import", "--help"])
    assert result.exit_code == 0 and "--layout" in result.output
