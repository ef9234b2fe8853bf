import json
from pathlib import Path

import numpy as np
import pytest

from bench_core import BenchError
from bench_store import ClipTokens, RunRecord, SetInfo, TokenDType, TokenStore, summarize_runs

INFO = SetInfo(
    dataset="toy",
    backbone="eat",
    task_kind="multilabel",
    class_names=("a", "b", "c"),
    embed_dim=4,
    freq_tokens=2,
    layers=(11,),
)
IDENTITY = {
    "dataset": "toy",
    "backbone": "eat",
    "weights": {"source": "random", "seed": 0},
    "layers": [11],
}


def clip(i: int, steps: int = 3, split: str = "train") -> ClipTokens:
    rng = np.random.default_rng(i)
    return ClipTokens(
        clip_id=f"c{i}",
        split=split,
        labels=(i % 3,),
        tokens=rng.standard_normal((1, steps, 2, 4)).astype(np.float32),
        cls=rng.standard_normal((1, 4)).astype(np.float32),
        duration=float(steps),
    )


def test_schema_and_identity_metadata(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    emb = store.create_or_open_set(IDENTITY, INFO)
    schema = emb.table.schema
    assert schema.field("tokens").type.value_type.bit_width == 16  # fp16 by default
    assert schema.field("cls").type.list_size == 4
    for column in ("clip_id", "split", "fold", "labels", "duration", "grid_t", "grid_f", "n_valid"):
        assert column in schema.names
    reopened = TokenStore(str(tmp_path / "db")).open_set(emb.name)
    assert reopened.identity == IDENTITY
    assert reopened.info.class_names == ("a", "b", "c") and reopened.info.layers == (11,)
    assert json.loads(schema.metadata[b"bench.identity"]) == IDENTITY


def test_append_is_idempotent_and_rows_roundtrip(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    emb = store.create_or_open_set(IDENTITY, INFO)
    rows = [clip(0, 3), clip(1, 5), clip(2, 2, "test")]
    assert emb.append(rows) == 3
    again = store.create_or_open_set(IDENTITY, INFO)
    assert again.name == emb.name
    assert again.append([*rows, clip(3, 4)]) == 1
    assert again.append([clip(4), clip(4)]) == 1  # duplicates inside one batch too
    assert again.count() == 5 and again.count("test") == 1
    batch = again.load("train")
    assert batch.clip_ids == ["c0", "c1", "c3", "c4"]
    assert batch.tokens.shape == (4, 5, 2, 4) and batch.tokens.dtype == np.float16
    assert batch.mask.sum(axis=1).tolist() == [3, 5, 4, 3]
    np.testing.assert_allclose(batch.tokens[1], rows[1].tokens[0].astype(np.float16))
    assert not batch.tokens[0, 3:].any()  # padding is zero and masked
    np.testing.assert_allclose(batch.cls[0], rows[0].cls[0])
    assert batch.targets("multilabel", 3)[1].tolist() == [0, 1, 0]
    streamed = [b for b in again.iter_batches("train", batch_size=2)]
    assert sum(len(b) for b in streamed) == 4


def test_different_identity_gets_a_different_table(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    a = store.create_or_open_set(IDENTITY, INFO)
    b = store.create_or_open_set({**IDENTITY, "weights": {"source": "random", "seed": 1}}, INFO)
    assert a.name != b.name
    a.append([clip(0)])
    assert b.count() == 0
    assert {s.name for s in store.find_sets("toy", "eat")} == {a.name, b.name}
    assert store.find_sets("toy", "beats") == []


def test_wrong_shapes_are_rejected(tmp_path: Path) -> None:
    emb = TokenStore(str(tmp_path / "db")).create_or_open_set(IDENTITY, INFO)
    bad = ClipTokens(
        "x", "train", (0,), np.zeros((1, 3, 2, 5), np.float32), np.zeros((1, 4), np.float32)
    )
    with pytest.raises(ValueError, match="does not match"):
        emb.append([bad])
    with pytest.raises(BenchError, match="layer 3 is not stored"):
        emb.load(layer=3)


def test_fp32_storage_and_size_on_disk(tmp_path: Path) -> None:
    info = SetInfo(**{**INFO.__dict__, "dtype": TokenDType.FP32})
    emb = TokenStore(str(tmp_path / "db")).create_or_open_set({**IDENTITY, "dtype": "fp32"}, info)
    emb.append([clip(i, 50) for i in range(20)])
    assert emb.load().tokens.dtype == np.float32
    values = 20 * 50 * 2 * 4
    assert values * 4 <= emb.size_bytes() < values * 4 * 1.5


def test_results_roundtrip_and_summary(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    common = dict(
        experiment="e",
        dataset="toy",
        backbone="eat",
        embedding_set="emb1",
        identity_hash="h",
        metric="map",
        metrics={},
        epochs=3,
        train_seconds=1.0,
    )
    runs = [
        RunRecord(
            kind="trial",
            pooling="linear",
            hparams={"lr": 0.1},
            seed=0,
            valid_score=0.3,
            test_score=None,
            **common,
        ),
        RunRecord(
            kind="final",
            pooling="linear",
            hparams={"lr": 0.1},
            seed=1,
            valid_score=0.4,
            test_score=0.5,
            **common,
        ),
        RunRecord(
            kind="final",
            pooling="linear",
            hparams={"lr": 0.1},
            seed=2,
            valid_score=0.4,
            test_score=0.7,
            **common,
        ),
        RunRecord(
            kind="final",
            pooling="protobin",
            hparams={"lr": 0.01},
            seed=1,
            valid_score=0.6,
            test_score=0.8,
            **common,
        ),
    ]
    assert store.add_runs(runs) == 4
    loaded = store.runs(dataset="toy")
    assert len(loaded) == 4 and {r.hparams["lr"] for r in loaded} == {0.1, 0.01}
    assert len(store.runs(kind="final", pooling="linear")) == 2
    summary = {s.pooling: s for s in summarize_runs(loaded)}
    assert summary["linear"].mean == pytest.approx(0.6) and summary["linear"].n == 2
    assert summary["linear"].sd == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert summary["protobin"].n == 1 and summary["protobin"].sd == 0.0
