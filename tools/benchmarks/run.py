"""`make bench`: run every tools/benchmarks/bench_*.py (or the ones named) and print their ratios.

Each module exposes `run() -> list[Ratio]`. Usage: python tools/benchmarks/run.py [name ...]
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))

from common import Ratio


def main(names: list[str]) -> int:
    folder = Path(__file__).parent
    modules = sorted(p.stem for p in folder.glob("bench_*.py"))
    if names:
        unknown = set(names) - {m.removeprefix("bench_") for m in modules}
        if unknown:
            print(f"unknown benchmarks: {', '.join(sorted(unknown))}; known: {', '.join(modules)}")
            return 2
        modules = [m for m in modules if m.removeprefix("bench_") in names]
    results: list[Ratio] = []
    console = Console()
    for module in modules:
        console.print(f"[bold]running {module}[/]")
        results.extend(importlib.import_module(module).run())
    table = Table(
        "benchmark", "ours", "baseline", "ratio", "goal", title="bench benchmarks (same-run ratios)"
    )
    for r in results:
        verdict = r.meets_goal()
        mark = "" if verdict is None else (" [green]met[/]" if verdict else " [red]missed[/]")
        table.add_row(
            r.name,
            f"{r.value:.4g} {r.unit}",
            f"{r.baseline:.4g} {r.unit}",
            f"{r.ratio:.3f}",
            f"{r.goal}{mark}",
        )
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
