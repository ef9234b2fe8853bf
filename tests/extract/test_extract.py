"""Extraction through a real local Ray runtime into a real LanceDB store."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from bench_extract import ExtractOptions, extract
from bench_store import TokenStore
from tests.audio.layouts import make_esc50

pytestmark = pytest.mark.usefixtures("ray_session")


def esc50_with_bad_clips(root: Path) -> Path:
    make_esc50(root, missing="2-100-A-0.wav")
    audio = root / "audio"
    (audio / "1-101-A-1.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    sf.write(
        audio / "1-102-A-2.wav", np.full(16000, np.nan, dtype=np.float32), 16000, subtype="FLOAT"
    )
    sf.write(
        audio / "3-100-A-0.wav", np.zeros(100, dtype=np.float32), 44100
    )  # shorter than a frame
    return root


def test_extract_records_failures_and_resumes_without_duplicates(tmp_path: Path) -> None:
    root = esc50_with_bad_clips(tmp_path / "ESC-50")
    store = TokenStore(str(tmp_path / "store"))
    kwargs = dict(
        store=store,
        random_weights=True,
        preset="tiny",
        data_root=root,
        options=ExtractOptions(batch_size=4),
    )
    first = extract("esc50", "eat", **{**kwargs, "options": ExtractOptions(batch_size=4, limit=5)})
    emb = store.open_set(first.embedding_set)
    assert first.written + len(first.failures) == 5

    second = extract("esc50", "eat", **kwargs)
    assert second.embedding_set == first.embedding_set
    failed = {f["clip_id"]: f for f in first.failures + second.failures}
    assert set(failed) == {"1-101-A-1", "1-102-A-2", "3-100-A-0"}
    assert (
        failed["1-101-A-1"]["stage"] == "decode"
        and "cannot decode" in failed["1-101-A-1"]["reason"]
    )
    assert "NaN" in failed["1-102-A-2"]["reason"]
    assert failed["3-100-A-0"]["stage"] == "encode"
    assert second.dataset_problems == 1  # the missing file

    good = 15 - 1 - 3
    ids = emb.table.to_lance().to_table(columns=["clip_id"]).column("clip_id").to_pylist()
    assert len(ids) == len(set(ids)) == good
    logged = {row["clip_id"] for row in store.failures(emb.name)}
    assert {"1-101-A-1", "1-102-A-2", "3-100-A-0", "2-100-A-0"} <= logged

    third = extract("esc50", "eat", **kwargs)
    assert third.written == 0 and third.already_stored == good
    batch = emb.load("test")
    assert batch.tokens.shape[1:] == (32, 8, 64)  # 5 s clips: 498 frames -> 32 time patches
    assert emb.identity["weights"] == {"source": "random", "seed": 0}
    assert emb.identity["frontend"]["norm_mean"] == -4.268
    assert len(emb.identity["manifest_sha256"]) == 64
