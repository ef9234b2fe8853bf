"""`bench query`, `bench store` and `bench extract --dry-run` on real stores, in-process."""

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from bench_cli.app import app
from bench_cli.console import open_store
from bench_core import BenchError
from bench_store import TokenStore
from tests.audio.layouts import make_esc50
from tests.store.toy import IDENTITY, INFO, clip

runner = CliRunner(env={"COLUMNS": "240"})


def bench(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_query_and_optimize_commands(tmp_path: Path) -> None:
    uri = str(tmp_path / "db")
    emb = TokenStore(uri).create_or_open_set(IDENTITY, INFO)
    for i in range(0, 12, 4):
        emb.append([clip(j, split="test" if j % 2 else "train") for j in range(i, i + 4)])
    TokenStore(uri).record_failures(
        emb.name,
        [{"clip_id": "bad", "stage": "decode", "reason": "cannot decode: junk", "created_at": 0.0}],
    )

    listing = bench("query", "sets", "--store", uri)
    assert emb.name in listing and emb.identity_hash[:12] in listing
    assert bench("ls", "sets", "--store", uri) == listing
    [described] = json.loads(bench("query", "sets", "--store", uri, "--json"))
    assert described["identity"] == IDENTITY and described["clips"] == 12

    clips = bench("query", "clips", emb.name, "--split", "test", "--label", "b", "--store", uri)
    assert "c1 " in clips and "c7 " in clips and "c0 " not in clips and "c4 " not in clips
    assert "c5 " in bench("query", "clips", emb.name, "--id", "c5", "--store", uri)

    near = bench("query", "neighbours", emb.name, "c3", "-k", "4", "--store", uri)
    rows = [line.split()[1] for line in near.splitlines() if line.startswith("│ c")]
    assert len(rows) == 4 and "c3" not in rows

    out = tmp_path / "test.parquet"
    assert "6 clips" in bench(
        "query", "export", emb.name, str(out), "--split", "test", "--store", uri
    )
    assert pq.read_table(out).num_rows == 6

    assert "cannot decode: junk" in bench("query", "failures", "--store", uri)

    optimized = bench("store", "optimize", "--store", uri)
    assert "3 -> 1" in optimized
    assert TokenStore(uri).open_set(emb.name).count() == 12


def test_storage_options_reach_the_object_store_client(tmp_path: Path) -> None:
    with pytest.raises(typer.BadParameter, match="expected KEY=VALUE"):
        open_store(str(tmp_path), ["no-equals-sign"])
    local = open_store(str(tmp_path / "db"), ["timeout=30s"])
    emb = local.create_or_open_set(IDENTITY, INFO)
    assert local.storage_options == {"timeout": "30s"}
    assert emb.fragment_writer().storage_options == {"timeout": "30s"}  # what Ray workers get
    assert emb.append([clip(0)]) == 1  # written and committed with the options
    # no S3 here: an endpoint on a closed loopback port shows the options reach the S3 client
    s3 = [
        "aws_endpoint=http://127.0.0.1:9",
        "aws_access_key_id=test",
        "aws_secret_access_key=test",
        "aws_region=us-east-1",
        "allow_http=true",
        "client_max_retries=0",
    ]
    result = runner.invoke(
        app,
        ["query", "sets", "--store", "s3://bucket/bench", *(f"--storage-option={o}" for o in s3)],
    )
    assert isinstance(result.exception, BenchError)
    assert re.search(
        r"cannot open store s3://bucket/bench: .*127\.0\.0\.1:9", str(result.exception)
    )


def test_extract_dry_run_measures_and_writes_nothing(tmp_path: Path) -> None:
    uri = str(tmp_path / "db")
    root = make_esc50(tmp_path / "ESC-50")
    output = bench(
        *("extract", "--dataset", "esc50", "--data-root", str(root), "--backbone", "eat"),
        *("--random-weights", "--preset", "tiny", "--dry-run", "--store", uri),
    )
    assert "to extract" in output and "15" in output and "estimated time" in output
    assert "kB" in output and "ms/clip" in output
    assert TokenStore(uri).embedding_sets() == []
