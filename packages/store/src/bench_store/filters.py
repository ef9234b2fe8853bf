"""Lance SQL filters built from user input: values are quoted or validated, never pasted raw."""

from __future__ import annotations

from collections.abc import Iterable

from bench_core import BenchError


def sql_string(value: str) -> str:
    """`value` as a quoted SQL string literal (quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


def split_filter(split: str) -> str:
    """Rows of one split; refuses names that are not plain identifiers."""
    if not split.replace("_", "").replace("-", "").isalnum():
        raise BenchError(f"invalid split name {split!r}")
    return f"split = '{split}'"


def ids_filter(clip_ids: Iterable[str]) -> str:
    """Rows whose clip_id is one of `clip_ids`."""
    return f"clip_id IN ({', '.join(sql_string(i) for i in clip_ids)})"


def labels_filter(label_indices: Iterable[int]) -> str:
    """Rows carrying any of the given class indices."""
    return " OR ".join(f"array_has(labels, {int(i)})" for i in label_indices)
