"""The live view of a running search: a rich table of its trials with their best metric so far.

It is the progress listener `tune_pooling` calls from its Tune callback, and it lives only in the
driver process: Tune pickles its callbacks, so the callback holds a name and this object stays out
of every pickle. One board serves a whole command (all poolings of `bench tune --pooling all`, a
whole `bench run` grid): it always shows the search that reported last.
"""

from __future__ import annotations

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from bench_cli.console import console
from bench_probes import SearchProgress, TrialView

MAX_ROWS = 12
STATUS_STYLE = {"RUNNING": "bold cyan", "TERMINATED": "green", "ERROR": "red", "PAUSED": "yellow"}


def _score(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def _ordered(trials: tuple[TrialView, ...]) -> list[TrialView]:
    """Running trials first, then the best finished ones; pending ones last."""
    rank = {"RUNNING": 0, "TERMINATED": 1, "ERROR": 2, "PAUSED": 1, "PENDING": 3}
    return sorted(trials, key=lambda t: (rank.get(t.status, 3), -(t.best or -1.0)))


def progress_table(progress: SearchProgress) -> Table:
    best = progress.best
    best_text = (
        f"best {_score(best.best)} (lr {best.lr:.1e}, wd {best.weight_decay:.1e})" if best else ""
    )
    table = Table(
        title=f"[bold]{progress.pooling}[/] on {progress.embedding_set}: "
        f"{progress.finished}/{progress.total} trials done  {best_text}",
        title_justify="left",
    )
    for column in ("trial", "lr", "wd", "epoch", "best valid", "status"):
        table.add_column(column, justify="left" if column in ("trial", "status") else "right")
    ordered = _ordered(progress.trials)
    for trial in ordered[:MAX_ROWS]:
        table.add_row(
            trial.trial_id,
            f"{trial.lr:.2e}",
            f"{trial.weight_decay:.1e}",
            str(trial.epoch),
            _score(trial.best),
            Text(trial.status.lower(), style=STATUS_STYLE.get(trial.status, "dim")),
        )
    if len(ordered) > MAX_ROWS:
        table.caption = f"{len(ordered) - MAX_ROWS} more trials"
    return table


class SearchBoard:
    """A rich Live region fed by `SearchProgress` snapshots. Transient: when the command ends the
    region disappears and the outcome lines printed above it remain."""

    def __init__(self) -> None:
        self._live = Live(Group(), console=console, refresh_per_second=4, transient=True)
        self._started = False

    def __call__(self, progress: SearchProgress) -> None:
        if not self._started:
            self._live.start()
            self._started = True
        self._live.update(progress_table(progress))

    def __enter__(self) -> SearchBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._live.stop()
