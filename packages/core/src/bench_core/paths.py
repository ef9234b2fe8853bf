"""Default locations: one home for generated data and the default store, overridable by env."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "BENCH_HOME"
STORE_ENV = "BENCH_STORE"


def bench_home() -> Path:
    """$BENCH_HOME, else ~/.cache/bench: generated datasets and the default store live here."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".cache" / "bench")


def default_store_uri() -> str:
    """$BENCH_STORE (a path or an object-store URI such as s3://bucket/bench), else <home>/store."""
    return os.environ.get(STORE_ENV) or str(bench_home() / "store")
