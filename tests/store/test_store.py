import json
from pathlib import Path

import numpy as np
import pytest

from bench_core import BenchError
from bench_store import ClipTokens, RunRecord, SetInfo, TokenDType, TokenStore, summarize_runs
from bench_store.query import iter_clips
from bench_store.schema import is_blob_tokens
from tests.store.toy import IDENTITY, INFO, clip


def test_schema_and_identity_metadata(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))
    emb = store.create_or_open_set(IDENTITY, INFO)
    schema = emb.table.schema
    assert is_blob_tokens(schema.field("tokens")) and emb.info.dtype == TokenDType.FP16
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


def test_bf16_is_stored_as_rounded_bit_patterns_and_read_as_fp32(tmp_path: Path) -> None:
    values = np.array([1.0, 1.0 + 2**-8, 1.0 + 3 * 2**-8, -3.14159, 65504.0, 1e30], np.float32)
    stored = TokenDType.BF16.to_storage(values)
    assert stored.dtype == np.uint16
    # round to nearest even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> 1; 1 + 3*2^-8 -> 1 + 2^-6
    np.testing.assert_array_equal(
        TokenDType.BF16.from_storage(stored)[:3], np.float32([1.0, 1.0, 1.0 + 2**-6])
    )
    np.testing.assert_allclose(TokenDType.BF16.from_storage(stored), values, rtol=2**-8)
    assert TokenDType.BF16.to_storage(stored) is stored  # stored values pass through

    info = SetInfo(**{**INFO.__dict__, "dtype": TokenDType.BF16})
    emb = TokenStore(str(tmp_path / "db")).create_or_open_set({**IDENTITY, "dtype": "bf16"}, info)
    rows = [clip(i, 5) for i in range(3)]
    emb.append(rows)
    stored = next(iter_clips(emb, columns=("clip_id", "tokens"))).column("tokens")
    assert stored.type.value_type == "uint16"  # the bit patterns, as exported
    np.testing.assert_array_equal(
        stored[0].values.to_numpy(), TokenDType.BF16.to_storage(rows[0].tokens).reshape(-1)
    )
    batch = emb.load()
    assert batch.tokens.dtype == np.float32
    np.testing.assert_allclose(batch.tokens[0], rows[0].tokens[0], rtol=2**-8, atol=1e-30)
    assert emb.size_bytes() < 3 * 5 * 2 * 4 * 2 + 3 * 4 * 4 + 4096  # 2 bytes a value + framing


def test_failure_records_keep_each_clips_latest_attempt(tmp_path: Path) -> None:
    store = TokenStore(str(tmp_path / "db"))

    def failure(clip_id: str, reason: str) -> dict:
        return {"clip_id": clip_id, "stage": "decode", "reason": reason, "created_at": 0.0}

    store.record_failures("set1", [failure("x", "bad"), failure("y", "bad")])
    store.record_failures("set2", [failure("x", "other set")])
    # a rerun retried x (stored now) and y (failed again), and found a new failure z
    store.record_failures(
        "set1", [failure("y", "still bad"), failure("z", "new")], retried={"x", "y", "z"}
    )
    rows = {r["clip_id"]: r["reason"] for r in store.failures("set1")}
    assert rows == {"y": "still bad", "z": "new"}
    assert [r["reason"] for r in store.failures("set2")] == ["other set"]
    store.record_failures("set1", [], retried={"y", "z"})
    assert store.failures("set1") == [] and len(store.failures()) == 1


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
