from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from bench_audio import AudioDecodeError, Clip, Mix, decode_clip
from bench_audio.tables import AudioTable
from tests.audio.layouts import AUDIO_TYPE, encoded, tone


def _rows(n: int) -> list[dict]:
    rows = [
        {"bytes": encoded(np.full(800, 0.1 * (i + 1), np.float32), 8000), "path": f"{i}.wav"}
        for i in range(n)
    ]
    rows[2] = {"bytes": None, "path": "2.wav"}
    return rows


def test_parquet_rows_decode_one_row_group_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"audio": pa.array(_rows(5), AUDIO_TYPE)}), path, row_group_size=2)
    table = AudioTable(path)
    assert table.audio_present().tolist() == [True, True, False, True, True]
    assert table.audio_paths() == [f"{i}.wav" for i in range(5)]
    for row in (4, 0, 3):
        wave = decode_clip(Clip("r", "test", (), path=str(path), row=row), 8000)
        assert len(wave) == 800 and wave[400] == pytest.approx(0.1 * (row + 1), abs=1e-3)
    with pytest.raises(AudioDecodeError, match="no audio bytes"):
        decode_clip(Clip("r", "test", (), path=str(path), row=2), 8000)
    with pytest.raises(AudioDecodeError, match="outside"):
        decode_clip(Clip("r", "test", (), path=str(path), row=9), 8000)


def test_arrow_stream_rows_decode_from_the_memory_map(tmp_path: Path) -> None:
    path = tmp_path / "data-00000-of-00001.arrow"
    table = pa.table({"audio": pa.array(_rows(4), AUDIO_TYPE)})
    with pa.ipc.new_stream(path, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=3):
            writer.write_batch(batch)
    assert AudioTable(path).audio_present().tolist() == [True, True, False, True]
    wave = decode_clip(Clip("r", "test", (), path=str(path), row=3, start=0.05), 16000)
    assert len(wave) == 800 and wave[400] == pytest.approx(0.4, abs=1e-3)  # 0.05 s, 8k -> 16k


def test_mixture_is_the_weighted_sum_cut_to_the_clip(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.full(16000, 0.5, np.float32), 16000)
    sf.write(tmp_path / "b.wav", np.full(8000, -0.4, np.float32), 16000)
    sf.write(tmp_path / "c.wav", np.full(32000, 0.2, np.float32), 16000)
    part_b = Mix(Clip("b", "train", (), path=str(tmp_path / "b.wav")), 0.25)
    part_c = Mix(Clip("c", "train", (), path=str(tmp_path / "c.wav")), 0.25)
    clip = Clip("m", "train", (0,), path=str(tmp_path / "a.wav"), mix=(part_b, part_c))
    wave = decode_clip(clip, 16000)
    assert len(wave) == 16000  # the clip's own length
    assert wave[100] == pytest.approx(0.5 * 0.5 - 0.25 * 0.4 + 0.25 * 0.2, abs=1e-4)
    assert wave[12000] == pytest.approx(0.5 * 0.5 + 0.25 * 0.2, abs=1e-4)  # b has ended
    broken = Clip(
        "m",
        "train",
        (0,),
        path=str(tmp_path / "a.wav"),
        mix=(Mix(Clip("x", "train", (), path=str(tmp_path / "x.wav")), 0.3),),
    )
    with pytest.raises(AudioDecodeError, match="mixture part"):
        decode_clip(broken, 16000)


def test_ogg_bytes_segment(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    audio = [{"bytes": encoded(tone(8.0, 32000), 32000, "OGG"), "path": "x.ogg"}]
    pq.write_table(pa.table({"audio": pa.array(audio, AUDIO_TYPE)}), path)
    wave = decode_clip(
        Clip("w", "train", (), path=str(path), row=0, start=2.0, duration=5.0), 16000
    )
    assert len(wave) == 80000
