"""PNG figures of the final results: per dataset, a backbone x pooling heatmap of the mean test
score and grouped bars with the seed standard deviation as error bars.

Figures are drawn on matplotlib `Figure` objects with the Agg canvas, never through pyplot: no
global figure state, no GUI backend, safe in a headless CLI or a worker process. Every figure has
the same pixel size (`FIGURE_PIXELS`), whatever the number of backbones and poolings.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench_cli.report_sections import metric_label
from bench_store import ResultSummary

FIGURE_INCHES = (10.0, 5.0)
DPI = 100
FIGURE_PIXELS = (round(FIGURE_INCHES[0] * DPI), round(FIGURE_INCHES[1] * DPI))


def _grid(rows: Sequence[ResultSummary]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(backbones, poolings, means, sds) in percent; NaN where a cell has no result."""
    backbones = sorted({s.backbone for s in rows})
    poolings = sorted({s.pooling for s in rows})
    means = np.full((len(backbones), len(poolings)), np.nan)
    sds = np.full_like(means, np.nan)
    for s in rows:
        i, j = backbones.index(s.backbone), poolings.index(s.pooling)
        means[i, j], sds[i, j] = 100 * s.mean, 100 * s.sd
    return backbones, poolings, means, sds


def _figure() -> Figure:
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, format="png")
    return path


def heatmap(rows: Sequence[ResultSummary], path: Path) -> Path:
    """Backbones down, poolings across, mean test score (%) in every cell."""
    backbones, poolings, means, _ = _grid(rows)
    figure = _figure()
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(means), cmap="viridis", aspect="auto")
    axes.set_xticks(range(len(poolings)), poolings, rotation=45, ha="right")
    axes.set_yticks(range(len(backbones)), backbones)
    finite = means[np.isfinite(means)]
    middle = float(finite.mean()) if finite.size else 0.0
    for i, j in np.ndindex(means.shape):
        if math.isfinite(means[i, j]):
            axes.text(
                j,
                i,
                f"{means[i, j]:.1f}",
                ha="center",
                va="center",
                fontsize=8,
                color="black" if means[i, j] > middle else "white",
            )
    figure.colorbar(image, ax=axes, label=f"test {metric_label(rows[0].metric)} (%)")
    axes.set_title(
        f"{rows[0].dataset}: test {metric_label(rows[0].metric)} (%), backbone x pooling"
    )
    return _save(figure, path)


def bars(rows: Sequence[ResultSummary], path: Path) -> Path:
    """One group of bars per backbone, one bar per pooling, error bars = sd over seeds."""
    backbones, poolings, means, sds = _grid(rows)
    figure = _figure()
    axes = figure.add_subplot()
    width = 0.8 / len(poolings)
    positions = np.arange(len(backbones))
    colours = colormaps["tab20" if len(poolings) > 10 else "tab10"].colors
    for j, pooling in enumerate(poolings):
        axes.bar(
            positions + (j - (len(poolings) - 1) / 2) * width,
            np.nan_to_num(means[:, j]),
            width,
            yerr=np.nan_to_num(sds[:, j]),
            capsize=2,
            color=colours[j % len(colours)],
            label=pooling,
        )
    top = np.nanmax(means + sds)
    axes.set_ylim(0, 1.3 * top if np.isfinite(top) and top > 0 else 1)  # room for the legend
    axes.set_xticks(positions, backbones)
    axes.set_ylabel(f"test {metric_label(rows[0].metric)} (%)")
    axes.set_title(f"{rows[0].dataset}: mean ± sd over seeds")
    axes.legend(ncols=min(len(poolings), 6), fontsize=8, loc="upper left")
    axes.grid(axis="y", alpha=0.3)
    return _save(figure, path)


def write_plots(summaries: Sequence[ResultSummary], directory: Path) -> list[Path]:
    """`<dataset>_heatmap.png` and `<dataset>_bars.png` for every dataset; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for dataset in sorted({s.dataset for s in summaries}):
        rows = [s for s in summaries if s.dataset == dataset]
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", dataset)
        paths.append(heatmap(rows, directory / f"{stem}_heatmap.png"))
        paths.append(bars(rows, directory / f"{stem}_bars.png"))
    return paths
