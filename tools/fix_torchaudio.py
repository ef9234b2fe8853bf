"""Make torchaudio importable beside a CPU-only torch.

torchaudio 2.11.0 wheels carry compiled extensions built against CUDA; with the CPU torch build
`import torchaudio` fails while loading them. bench only needs the pure-Python parts
(`compliance.kaldi.fbank`, `functional.resample`), which work once the extension libraries are gone.
On a CUDA torch nothing is touched.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path


def main() -> int:
    import torch

    if torch.version.cuda is not None:
        print("fix_torchaudio: CUDA torch, leaving torchaudio as installed")
        return 0
    spec = importlib.util.find_spec("torchaudio")
    if spec is None or spec.origin is None:
        print("fix_torchaudio: torchaudio is not installed")
        return 1
    removed = sorted(Path(spec.origin).parent.glob("lib/*.so"))
    for lib in removed:
        lib.unlink()
    probe = subprocess.run(
        [sys.executable, "-c", "import torchaudio.compliance.kaldi, torchaudio.functional"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        print(probe.stderr, file=sys.stderr)
        return probe.returncode
    print(f"fix_torchaudio: removed {len(removed)} CUDA extension libraries; torchaudio imports")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
