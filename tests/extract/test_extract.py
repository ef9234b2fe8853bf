"""Extraction through a real local Ray runtime into a real LanceDB store."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import ray
import soundfile as sf

from bench_audio import DatasetConfig, open_dataset
from bench_encoders import create_encoder
from bench_extract import ExtractOptions, estimate, extract
from bench_extract.pipeline import (
    build_pipeline,
    decode_stage,
    encoder_spec,
    set_identity,
)
from bench_extract.stages import EncodeStage, WriteStage, as_batch
from bench_store import PendingFragment, TokenBatch, TokenDType, TokenStore
from tests.audio.layouts import make_esc50

pytestmark = pytest.mark.usefixtures("ray_session")
REPO = Path(__file__).resolve().parents[2]
CORRUPT = ("syn000003", "syn000010")


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


def synthetic_with_corrupt_clips(root: Path, n_clips: int) -> DatasetConfig:
    """The built-in synthetic set (2 s clips), generated into `root`, with two files corrupted."""
    config = DatasetConfig(
        name="synthetic",
        reader="synthetic",
        root=root,
        options={"kind": "multilabel", "n_clips": n_clips, "clip_seconds": 2.0, "seed": 0},
    )
    corrupted = 0
    for clip in open_dataset(config).clips:
        if clip.clip_id in CORRUPT:
            Path(clip.path).write_bytes(b"RIFF\x00\x00\x00\x00WAVEbroken")
            corrupted += 1
    assert corrupted == sum(int(c[3:]) < n_clips for c in CORRUPT)
    return config


def stored_ids(store: TokenStore, name: str) -> list[str]:
    table = store.open_set(name).table.to_lance().to_table(columns=["clip_id"])
    return table.column("clip_id").to_pylist()


def test_extract_records_failures_and_resumes_without_duplicates(tmp_path: Path) -> None:
    root = esc50_with_bad_clips(tmp_path / "ESC-50")
    store = TokenStore(str(tmp_path / "store"))
    kwargs = dict(store=store, random_weights=True, preset="tiny", data_root=root)
    dry = estimate("esc50", "eat", **kwargs, options=ExtractOptions(limit=5))
    assert (dry.total_clips, dry.to_extract, dry.sample_clips) == (14, 5, 5)
    assert store.embedding_sets() == []  # a dry run writes nothing

    options = ExtractOptions(batch_size=4, write_every=4)
    first = extract("esc50", "eat", **kwargs, options=ExtractOptions(batch_size=4, limit=5))
    emb = store.open_set(first.embedding_set)
    assert first.embedding_set == dry.embedding_set
    assert first.written + len(first.failures) == 5

    second = extract("esc50", "eat", **kwargs, options=options)
    assert second.embedding_set == first.embedding_set
    failed = {f["clip_id"]: f for f in first.failures + second.failures}
    assert set(failed) == {"1-101-A-1", "1-102-A-2", "3-100-A-0"}
    assert (
        failed["1-101-A-1"]["stage"] == "decode"
        and "cannot decode" in failed["1-101-A-1"]["reason"]
    )
    assert "NaN" in failed["1-102-A-2"]["reason"]
    assert failed["3-100-A-0"]["stage"] == "frontend"  # shorter than one analysis window
    assert second.dataset_problems == 1  # the missing file

    good = 15 - 1 - 3
    ids = stored_ids(store, emb.name)
    assert len(ids) == len(set(ids)) == good
    logged = {row["clip_id"] for row in store.failures(emb.name)}
    assert logged == {"1-101-A-1", "1-102-A-2", "3-100-A-0", "2-100-A-0"}
    bytes_per_clip = emb.size_bytes() / good
    assert 0.8 * dry.bytes_per_clip < bytes_per_clip < 1.25 * dry.bytes_per_clip

    # the corrupt file is repaired: the rerun retries every failed clip, stores the repaired one
    # and keeps exactly one record (the latest reason) for each clip that still fails
    sf.write(root / "audio" / "1-101-A-1.wav", np.zeros(44100 * 5, dtype=np.float32), 44100)
    third = extract("esc50", "eat", **kwargs, options=options)
    assert third.written == 1 and third.already_stored == good
    rows = store.failures(emb.name)
    assert sorted(r["clip_id"] for r in rows) == ["1-102-A-2", "2-100-A-0", "3-100-A-0"]

    ids = stored_ids(store, emb.name)
    assert len(ids) == len(set(ids)) == good + 1
    batch = emb.load("test")
    assert batch.tokens.shape[1:] == (32, 8, 64)  # 5 s clips: 498 frames -> 32 time patches
    assert emb.identity["weights"] == {"source": "random", "seed": 0}
    assert emb.identity["frontend"]["norm_mean"] == -4.268
    assert len(emb.identity["manifest_sha256"]) == 64
    assert "code_version" not in emb.identity and emb.info.code_version  # recorded, not keyed


def test_decode_tasks_run_apart_from_the_encoder_actors(tmp_path: Path) -> None:
    """Ray would fuse the decode tasks into the actor if their resource requests were equal; then
    decoding could not overlap encoding. The run's operators must stay separate."""
    config = synthetic_with_corrupt_clips(tmp_path / "data", n_clips=6)
    data = open_dataset(config)
    encoder, weights = create_encoder("eat", random_weights=True, preset="tiny")
    options = ExtractOptions(batch_size=2, write_every=2)
    identity, info = set_identity(data, encoder, weights, None, TokenDType.FP16)
    emb = TokenStore(str(tmp_path / "store")).create_or_open_set(identity, info)
    dataset = build_pipeline(
        data.clips,
        decode_stage(encoder, data, options),
        encoder_spec("eat", weights, True, "tiny", 0, info, options),
        WriteStage(emb.fragment_writer()),
        options,
    )
    rows = list(dataset.iter_rows())
    assert sorted(i for row in rows for i in row["clip_ids"]) == [
        c.clip_id for c in data.clips if c.clip_id not in CORRUPT
    ]
    assert emb.count() == 0  # written, not committed: the driver commits
    stats = dataset.stats()
    assert "MapBatches(DecodeStage)" in stats and "MapBatches(EncodeStage)" in stats
    assert "MapBatches(DecodeStage)->MapBatches(EncodeStage)" not in stats


def run_stages_in_process(
    config: DatasetConfig, store: TokenStore, options: ExtractOptions, dtype: TokenDType
) -> TokenBatch:
    """decode -> encode -> write -> commit without Ray: the stages are plain callables."""
    data = open_dataset(config)
    encoder, weights = create_encoder("eat", random_weights=True, preset="tiny")
    identity, info = set_identity(data, encoder, weights, None, dtype)
    emb = store.create_or_open_set({**identity, "placement": options.frontend_in_actor}, info)
    decoded = decode_stage(encoder, data, options)(as_batch([c.to_record() for c in data.clips]))
    encoded = EncodeStage(encoder_spec("eat", weights, True, "tiny", 0, info, options))(decoded)
    [row] = WriteStage(emb.fragment_writer())(encoded).to_pylist()
    emb.commit([PendingFragment(tuple(row["fragments"]), tuple(row["clip_ids"]))])
    return emb.load()


def test_frontend_placement_and_storage_dtypes_give_the_same_tokens(tmp_path: Path) -> None:
    config = synthetic_with_corrupt_clips(tmp_path / "data", n_clips=5)
    store = TokenStore(str(tmp_path / "store"))
    in_tasks = run_stages_in_process(config, store, ExtractOptions(), TokenDType.FP32)
    # GPU actors run the front-end themselves (here on CPU: same code, no GPU needed)
    in_actor = run_stages_in_process(
        config, store, ExtractOptions(num_gpus_per_actor=1.0), TokenDType.FP32
    )
    bf16 = run_stages_in_process(config, store, ExtractOptions(), TokenDType.BF16)
    assert in_tasks.clip_ids == in_actor.clip_ids == bf16.clip_ids and len(in_tasks) == 4
    np.testing.assert_allclose(in_actor.tokens, in_tasks.tokens, atol=1e-5)
    assert bf16.tokens.dtype == np.float32
    np.testing.assert_allclose(bf16.tokens, in_tasks.tokens, rtol=2**-8, atol=1e-6)
    assert not np.array_equal(bf16.tokens, in_tasks.tokens)


def test_a_killed_driver_leaves_no_duplicates_and_a_rerun_completes(tmp_path: Path) -> None:
    config = synthetic_with_corrupt_clips(tmp_path / "data", n_clips=40)
    uri = str(tmp_path / "store")
    driver = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.extract.drivers",
            "killed",
            "--dataset",
            config.model_dump_json(),
            "--store",
            uri,
            "--address",
            ray.get_runtime_context().gcs_address,
            "--kill-after",
            "12",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert driver.returncode == -9, driver.stderr[-3000:]
    store = TokenStore(uri)
    [emb] = store.embedding_sets()
    committed = emb.count()
    assert 8 <= committed < 38  # killed mid-run, after some commits

    summary = extract(
        config,
        "eat",
        store=store,
        random_weights=True,
        preset="tiny",
        options=ExtractOptions(batch_size=4, write_every=4),
    )
    assert summary.embedding_set == emb.name and summary.already_stored == committed
    ids = stored_ids(store, emb.name)
    assert len(ids) == len(set(ids)) == 38  # every good clip exactly once
    assert set(ids).isdisjoint(CORRUPT)
    assert sorted(f["clip_id"] for f in store.failures(emb.name)) == list(CORRUPT)


def own_encoder_actor_pids() -> list[int]:
    """Processes of this test session's encoder actors: descendants of this process (never
    another session's Ray) whose title Ray set to the actor's class."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    found = []
    for pid in parents:
        try:
            title = (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "MapBatches(EncodeStage)" in title and descends(pid):
            found.append(pid)
    return found


def test_a_killed_encoder_worker_is_replaced_and_every_clip_lands_once(tmp_path: Path) -> None:
    config = synthetic_with_corrupt_clips(tmp_path / "data", n_clips=96)
    store = TokenStore(str(tmp_path / "store"))
    killed: list[int] = []
    progress: list[int] = []

    def kill_the_encoder(done: int, total: int) -> None:
        progress.append(done)
        if len(progress) == 1:  # the first fragment is in; 90 clips are still to be encoded
            killed.extend(own_encoder_actor_pids())
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    summary = extract(
        config,
        "eat",
        store=store,
        random_weights=True,
        preset="tiny",
        options=ExtractOptions(batch_size=4, write_every=4),
        progress=kill_the_encoder,
    )
    assert len(killed) == 1, progress  # Ray restarted the actor and retried its batches
    assert summary.written == 94, summary
    assert sorted(f["clip_id"] for f in summary.failures) == list(CORRUPT)
    ids = stored_ids(store, summary.embedding_set)
    assert len(ids) == len(set(ids)) == 94


def test_extract_on_a_two_node_ray_cluster(tmp_path: Path) -> None:
    config = synthetic_with_corrupt_clips(tmp_path / "data", n_clips=24)
    uri = str(tmp_path / "store")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.extract.drivers",
            "cluster",
            "--dataset",
            config.model_dump_json(),
            "--store",
            uri,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**env, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(result["cluster_nodes"]) == 2
    assert set(result["encoded_on"]) == set(result["cluster_nodes"])  # work on both nodes
    assert sum(result["encoded_on"].values()) == result["written"] == 22
    assert result["failed"] == list(CORRUPT)
    [emb] = TokenStore(uri).embedding_sets()
    ids = stored_ids(TokenStore(uri), emb.name)
    assert len(ids) == len(set(ids)) == 22
