"""`bench check-backbone` through the command line."""

from typer.testing import CliRunner

from bench_cli.app import app

runner = CliRunner(env={"COLUMNS": "200"})


def test_check_backbone_prints_a_passing_table() -> None:
    args = ["check-backbone", "dasheng", "--random-weights", "--preset", "tiny"]
    result = runner.invoke(app, [*args, "--batch-size", "1", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    for row in ("shape: several windows", "padding invariance", "determinism", "clips/s"):
        assert row in result.output
    assert "FAIL" not in result.output


def test_check_backbone_without_weights_names_what_to_provide(monkeypatch) -> None:
    monkeypatch.delenv("BENCH_BEATS_CHECKPOINT", raising=False)
    result = runner.invoke(app, ["check-backbone", "beats"])
    assert result.exit_code != 0
    assert "BENCH_BEATS_CHECKPOINT" in str(result.exception)
