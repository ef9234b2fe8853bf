"""Code version recorded in every stored artefact, so results stay traceable to the code."""

from __future__ import annotations

import functools
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


@functools.cache
def code_version() -> str:
    """`<package version>+g<commit>` when run from a git checkout, else the package version."""
    try:
        base = version("bench-core")
    except PackageNotFoundError:  # running from source without installation
        base = "0+unknown"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short=10", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return base
    return f"{base}+g{commit}" if commit else base
