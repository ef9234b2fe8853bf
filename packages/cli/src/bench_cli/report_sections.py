"""The content of `bench report` as format-neutral sections, rendered as rich tables or Markdown.

Building the numbers once and rendering them twice keeps the terminal and the Markdown report
identical cell for cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from bench_store import ResultSummary, group_means, rank_changes, win_matrix

_METRIC_LABELS = {"map": "mAP", "accuracy": "accuracy"}


def metric_label(metric: str) -> str:
    """How a metric is written for people ("map" is the stored key of macro mAP)."""
    return _METRIC_LABELS.get(metric, metric)


RANK_BEFORE, RANK_AFTER = "linear", "protobin"


@dataclass(frozen=True)
class Cell:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""


def _percent(value: float) -> str:
    return f"{100 * value:.2f}"


def dataset_sections(summaries: Sequence[ResultSummary]) -> list[Section]:
    """One table per dataset: rows backbones, columns poolings, mean ± sd over seeds; the best
    pooling of each backbone in bold."""
    sections = []
    for dataset in sorted({s.dataset for s in summaries}):
        rows = [s for s in summaries if s.dataset == dataset]
        poolings = sorted({s.pooling for s in rows})
        table_rows = []
        for backbone in sorted({s.backbone for s in rows}):
            cells = {s.pooling: s for s in rows if s.backbone == backbone}
            best = max(cells.values(), key=lambda s: s.mean).pooling
            table_rows.append(
                [Cell(backbone)]
                + [
                    Cell(f"{_percent(c.mean)} ± {_percent(c.sd)}", p == best)
                    if (c := cells.get(p))
                    else Cell("-")
                    for p in poolings
                ]
            )
        sections.append(
            Section(
                f"{dataset} — test {metric_label(rows[0].metric)} (%), mean ± sd over seeds",
                ["backbone", *poolings],
                table_rows,
            )
        )
    return sections


def group_sections(
    summaries: Sequence[ResultSummary], groups: Mapping[str, Sequence[str]]
) -> list[Section]:
    """Per dataset group, the mean over its datasets; "(k/n)" marks a mean over only k of the
    group's n datasets."""
    means = group_means(summaries, groups)
    sections = []
    for group in dict.fromkeys(m.group for m in means):
        rows = [m for m in means if m.group == group]
        poolings = sorted({m.pooling for m in rows})
        table_rows = []
        for backbone in sorted({m.backbone for m in rows}):
            cells = {m.pooling: m for m in rows if m.backbone == backbone}
            best = max(cells.values(), key=lambda m: m.mean).pooling
            table_rows.append(
                [Cell(backbone)]
                + [
                    Cell(
                        _percent(c.mean)
                        + ("" if c.datasets == c.group_size else f" ({c.datasets}/{c.group_size})"),
                        p == best,
                    )
                    if (c := cells.get(p))
                    else Cell("-")
                    for p in poolings
                ]
            )
        sections.append(
            Section(
                f"{group} — mean test {metric_label(rows[0].metric)} (%) over "
                + (f"{size} datasets" if (size := rows[0].group_size) > 1 else "1 dataset"),
                ["backbone", *poolings],
                table_rows,
            )
        )
    return sections


def win_section(summaries: Sequence[ResultSummary]) -> Section | None:
    matrix = win_matrix(summaries)
    if len(matrix.poolings) < 2:
        return None
    n = len(matrix.poolings)
    rows = [
        [Cell(matrix.poolings[i])]
        + [
            Cell("-")
            if i == j
            else Cell(str(matrix.wins[i][j]), matrix.wins[i][j] > matrix.wins[j][i])
            for j in range(n)
        ]
        for i in range(n)
    ]
    pairs = len({(s.dataset, s.backbone) for s in summaries})
    return Section(
        f"wins — on how many of {pairs} (dataset, backbone) pairs the row pooling beats the column",
        ["pooling", *matrix.poolings],
        rows,
        caption="bold: the row wins more often than it loses against the column",
    )


def rank_section(summaries: Sequence[ResultSummary]) -> Section | None:
    changes = rank_changes(summaries, RANK_BEFORE, RANK_AFTER)
    if not changes:
        return None
    datasets = sorted({c.dataset for c in changes})
    rows = []
    for backbone in sorted({c.backbone for c in changes}):
        by_dataset = {c.dataset: c for c in changes if c.backbone == backbone}
        rows.append(
            [Cell(backbone)]
            + [
                Cell(f"{c.before} → {c.after} ({c.change:+d})", c.change != 0)
                if (c := by_dataset.get(d))
                else Cell("-")
                for d in datasets
            ]
        )
    return Section(
        f"backbone ranks — {RANK_BEFORE} → {RANK_AFTER} (1 = best backbone on the dataset)",
        ["backbone", *datasets],
        rows,
        caption="bold: the ranking changes with the probe",
    )


def report_sections(
    summaries: Sequence[ResultSummary], groups: Mapping[str, Sequence[str]]
) -> list[Section]:
    extra = [s for s in (win_section(summaries), rank_section(summaries)) if s is not None]
    return [*dataset_sections(summaries), *group_sections(summaries, groups), *extra]


def to_rich(section: Section) -> Table:
    table = Table(title=section.title, caption=section.caption or None)
    for i, column in enumerate(section.columns):
        table.add_column(
            column, justify="left" if i == 0 else "right", style="bold" if i == 0 else None
        )
    for row in section.rows:
        table.add_row(*(Text(c.text, style="bold green" if c.bold else "") for c in row))
    return table


def to_markdown(section: Section) -> str:
    def escape(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"### {section.title}", ""]
    lines.append("| " + " | ".join(escape(c) for c in section.columns) + " |")
    lines.append("|" + "|".join([" --- "] + [" ---: "] * (len(section.columns) - 1)) + "|")
    for row in section.rows:
        cells = [f"**{escape(c.text)}**" if c.bold else escape(c.text) for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    if section.caption:
        lines += ["", f"*{section.caption}*"]
    return "\n".join(lines) + "\n"
