"""Labels stored in Hugging Face tables: class lists and per-row label indices."""

from __future__ import annotations

from typing import Any

from bench_audio.tables import AudioTable
from bench_audio.types import LabelIndex
from bench_core import ConfigError


def column_values(table: AudioTable, column: str) -> list[Any]:
    """One column as Python values (a metadata column: never call this on the audio)."""
    return [value for batch in table.read([column]) for value in batch.column(0).to_pylist()]


def label_rows(table: AudioTable, column: str, classes: LabelIndex) -> list[tuple[int, ...] | str]:
    """Every row's labels as class indices, or the reason they are unusable.

    Accepted encodings, as `datasets` writes them: a class index (`ClassLabel`) or a list of them
    (`Sequence(ClassLabel)`), a class name or a list of names, and a multi-hot list of floats or
    booleans with one entry per class. A null single label means no label.
    """
    out: list[tuple[int, ...] | str] = []
    for value in column_values(table, column):
        values = [] if value is None else value if isinstance(value, list) else [value]
        try:
            if values and all(isinstance(v, str) for v in values):
                out.append(classes(values))
            elif values and all(isinstance(v, bool | float) for v in values):
                if len(values) != len(classes.names):
                    raise ValueError(
                        f"multi-hot row of length {len(values)}, not {len(classes.names)}"
                    )
                out.append(tuple(i for i, v in enumerate(values) if v))
            else:
                indices = sorted({int(v) for v in values})
                if indices and not 0 <= indices[0] <= indices[-1] < len(classes.names):
                    raise ValueError(
                        f"label index out of range 0..{len(classes.names) - 1}: {values}"
                    )
                out.append(tuple(indices))
        except (TypeError, ValueError) as error:  # UnknownLabelError is a ValueError
            out.append(f"{error} in column '{column}' of {table.path}")
    return out


def class_index(sources: list[tuple[AudioTable, str]], classes: list[str] | None) -> LabelIndex:
    """Class names from the `ClassLabel` metadata of the first (table, label column) that declares
    them, else the `classes` option, else the sorted set of string labels in all of them.

    An option that disagrees with the metadata is an error: integer labels mean the metadata's order.
    """
    for table, column in sources:
        if column not in table.columns:
            raise ConfigError(f"{table.path} has no label column '{column}'")
        names = table.class_names(column)
        if names:
            if classes and list(names) != list(classes):
                raise ConfigError(
                    f"the `classes` option disagrees with the ClassLabel names of '{column}' in "
                    f"{table.path}: remove the option or fix its order"
                )
            return LabelIndex(names)
    if classes:
        return LabelIndex(classes)
    found: set[str] = set()
    for table, column in sources:
        for value in column_values(table, column):
            values = value if isinstance(value, list) else [] if value is None else [value]
            if not all(isinstance(v, str) for v in values):
                raise ConfigError(
                    f"labels in {table.path} are not names and its metadata has no ClassLabel "
                    "names: list the classes in the dataset's `classes` option"
                )
            found.update(values)
    return LabelIndex(sorted(found))
