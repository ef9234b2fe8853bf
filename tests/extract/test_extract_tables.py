"""Extraction of clips that live in Parquet rows, as segments, and as mixtures (BirdSet)."""

from pathlib import Path

import pytest

from bench_audio import load_dataset_config
from bench_extract import ExtractOptions, extract
from bench_store import TokenStore
from tests.audio.layouts import make_birdset

pytestmark = pytest.mark.usefixtures("ray_session")


def test_parquet_rows_and_mixtures_go_through_ray(tmp_path: Path) -> None:
    root = make_birdset(tmp_path / "birdset", recordings=3)
    store = TokenStore(str(tmp_path / "store"))
    config = load_dataset_config("hsn")
    config = config.model_copy(
        update={
            "options": {**config.options, "shots": 1, "valid_fraction": 0.0, "mixup_variants": 1}
        }
    )
    summary = extract(
        config,
        "eat",
        store=store,
        random_weights=True,
        preset="tiny",
        data_root=root,
        options=ExtractOptions(batch_size=4),
    )
    assert summary.failures == [] and summary.written == summary.total_clips == 3 + 3 + 5
    emb = store.open_set(summary.embedding_set)
    test = emb.load("test")
    assert test.tokens.shape[1] == 32  # 5 s segments -> 32 time patches
    train = emb.load("train")
    assert len(train.clip_ids) == 6 and any("~mix1" in c for c in train.clip_ids)
