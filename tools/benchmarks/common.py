"""What every benchmark reports: a measured value against a baseline measured in the same run.

Benchmarks never assert on wall time; they print ratios (ours / baseline) so that a claim ("the
pipeline reaches 0.85 of the bare encoder's throughput") is checked on the machine at hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    name: str
    value: float
    baseline: float
    unit: str
    goal: str = ""
    """How the ratio should compare, e.g. ">= 0.85"; empty when the number is informational."""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")

    def meets_goal(self) -> bool | None:
        if not self.goal:
            return None
        op, target = self.goal.split()
        return self.ratio >= float(target) if op == ">=" else self.ratio <= float(target)


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """Fastest of `repeats` runs in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
