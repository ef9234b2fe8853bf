"""Test-wide setup: an isolated BENCH_HOME, Ray on loopback only, and one shared local Ray."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Ray binds the machine's non-loopback address by default; keep every test on 127.0.0.1.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(autouse=True)
def bench_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Generated data and the default store go to a per-session temporary folder."""
    home = tmp_path_factory.getbasetemp() / "bench-home"
    monkeypatch.setenv("BENCH_HOME", str(home))
    monkeypatch.delenv("BENCH_STORE", raising=False)
    return home


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    """A real local Ray runtime (2 CPUs, small object store), shared by the tests that need it."""
    import ray

    from bench_core import ensure_ray

    ensure_ray(num_cpus=2, object_store_memory=512 * 1024 * 1024)
    yield
    ray.shutdown()
