"""The `bench` command line: every command calls the same Python API a notebook would."""

from __future__ import annotations

import warnings

import typer

from bench_cli.commands import ls, query, store
from bench_cli.commands.check import check_backbone_command
from bench_cli.commands.demo import demo_command
from bench_cli.commands.extract import extract_command
from bench_cli.commands.import_ import import_command
from bench_cli.commands.report import report_command
from bench_cli.commands.run import run_command
from bench_cli.commands.tune import train_command, tune_command
from bench_cli.console import err_console
from bench_core import BenchError

app = typer.Typer(
    name="bench",
    help="Embedding store and probe trainer for frozen audio encoders (Unmute the Patch Tokens).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
app.command("extract")(extract_command)
app.command("import")(import_command)
app.command("tune")(tune_command)
app.command("train")(train_command)
app.command("report")(report_command)
app.command("run")(run_command)
app.command("demo")(demo_command)
app.command("check-backbone")(check_backbone_command)
app.add_typer(ls.app, name="ls")
app.add_typer(query.app, name="query")
app.add_typer(store.app, name="store")


def main() -> None:
    """Entry point: user errors are printed as one clear message, without a traceback."""
    # Ray starts its worker processes with fork+exec; lance warns on every fork that it is not
    # fork-safe, which does not apply to exec'd workers and would bury the progress display
    warnings.filterwarnings("ignore", message=r"lance(db)? .*fork")
    try:
        app()
    except BenchError as error:
        err_console.print(f"[bold red]error:[/] {error}")
        raise SystemExit(2) from None
