"""Writers of tiny datasets in their publishers' official layouts (file names, CSV headers, folders)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

CATEGORIES = ["dog", "rooster", "rain"]


def make_esc50(root: Path, missing: str | None = None) -> Path:
    """A tiny ESC-50 in the official layout: meta/esc50.csv + audio/<fold>-<src>-<take>-<target>.wav."""
    (root / "meta").mkdir(parents=True)
    (root / "audio").mkdir()
    rows = []
    for fold in range(1, 6):
        for target, category in enumerate(CATEGORIES):
            name = f"{fold}-{100 + target}-A-{target}.wav"
            rows.append([name, fold, target, category, "False", str(100 + target), "A"])
            if name != missing:
                sf.write(root / "audio" / name, np.zeros(44100 * 5, dtype=np.float32), 44100)
    with (root / "meta" / "esc50.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "fold", "target", "category", "esc10", "src_file", "take"])
        writer.writerows(rows)
    return root


def tone(seconds: float, sr: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.1 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def encoded(wave: np.ndarray, sr: int, fmt: str = "WAV") -> bytes:
    """An audio file's bytes, as embedded in a Hugging Face `Audio` column."""
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format=fmt)
    return buffer.getvalue()


def corrupt(path: Path) -> None:
    """A file with a .wav name that no decoder accepts."""
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")


# --- AudioSet --------------------------------------------------------------------------------

AUDIOSET_CLASSES = [
    ("/m/09x0r", "Speech"),
    ("/m/05zppz", "Male speech, man speaking"),
    ("/m/0jbk", "Animal"),
]
SEGMENT_HEADER = (
    "# Segments csv created Sun Mar  5 10:54:31 2017\n"
    "# num_ytids={n}, num_segs={n}, num_unique_labels=3, num_positive_labels={n}\n"
    "# YTID, start_seconds, end_seconds, positive_labels\n"
)


def write_segments(path: Path, rows: list[tuple[str, float, list[str]]]) -> None:
    """An official segments CSV: three comment lines, `YTID, start, end, "mid,mid"`."""
    lines = [
        f'{ytid}, {start:.3f}, {start + 10:.3f}, "{",".join(mids)}"\n' for ytid, start, mids in rows
    ]
    path.write_text(SEGMENT_HEADER.format(n=len(rows)) + "".join(lines))


def make_audioset(root: Path) -> Path:
    """Balanced/unbalanced/eval CSVs, class_labels_indices.csv and clips in three naming variants.

    Clip `--missing0A` has no file; `unknownLab1` carries a mid outside the class list.
    """
    (root / "audio" / "balanced").mkdir(parents=True)
    (root / "audio" / "eval").mkdir()
    with (root / "class_labels_indices.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(["index", "mid", "display_name"])
        for i, (mid, name) in enumerate(AUDIOSET_CLASSES):
            writer.writerow([i, mid, name])
    balanced = [
        (f"bal{i:03d}_-xYZ"[:11], 30.0, ["/m/09x0r"] if i % 2 else ["/m/0jbk", "/m/09x0r"])
        for i in range(40)
    ]
    balanced += [("--missing0A", 0.0, ["/m/09x0r"]), ("unknownLab1", 0.0, ["/m/xxxxx"])]
    unbalanced = [("unbal-0000A", 10.0, ["/m/05zppz"])]
    evaluation = [("-eval_0000A", 0.0, ["/m/0jbk"]), ("Yevalclip01", 5.0, ["/m/05zppz"])]
    write_segments(root / "balanced_train_segments.csv", balanced)
    write_segments(root / "unbalanced_train_segments.csv", unbalanced)
    write_segments(root / "eval_segments.csv", evaluation)
    wave = tone(0.2, 16000)
    for i, (ytid, start, _) in enumerate([*balanced[:40], balanced[41], *unbalanced]):
        name = [f"{ytid}.wav", f"Y{ytid}.flac", f"{ytid}_{start:.3f}_{start + 10:.3f}.wav"][i % 3]
        sf.write(root / "audio" / "balanced" / name, wave, 16000)
    sf.write(root / "audio" / "eval" / "Y-eval_0000A.wav", wave, 16000)
    sf.write(root / "audio" / "eval" / "Yevalclip01_5000_15000.wav", wave, 16000)
    return root


# --- FSD50K ----------------------------------------------------------------------------------

FSD_VOCABULARY = ["Bark", "Dog", "Domestic_animals_and_pets", "Guitar", "Music"]


def make_fsd50k(root: Path, bad: bool = False) -> Path:
    """FSD50K.{dev,eval}_audio/<fname>.wav and FSD50K.ground_truth/{vocabulary,dev,eval}.csv.

    With `bad`: dev clip 103 is corrupt, 104 is missing, 105 carries a label outside the vocabulary.
    """
    truth = root / "FSD50K.ground_truth"
    for folder in (truth, root / "FSD50K.dev_audio", root / "FSD50K.eval_audio"):
        folder.mkdir(parents=True)
    with (truth / "vocabulary.csv").open("w", newline="") as handle:  # no header
        csv.writer(handle).writerows([i, name, f"/m/0{i}"] for i, name in enumerate(FSD_VOCABULARY))
    dog = ["Bark", "Dog", "Domestic_animals_and_pets"]
    dev = [
        (101, dog, "train"),
        (102, ["Guitar", "Music"], "train"),
        (103, ["Music"], "train"),
        (104, dog, "val"),
        (105, ["Guitar", "Accordion"] if bad else ["Guitar"], "val"),
        (106, ["Music"], "val"),
    ]
    evaluation = [(201, dog), (202, ["Guitar", "Music"])]
    with (truth / "dev.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["fname", "labels", "mids", "split"])
        for fname, labels, split in dev:
            mids = ",".join(
                f"/m/0{FSD_VOCABULARY.index(n)}" if n in FSD_VOCABULARY else "/m/x" for n in labels
            )
            writer.writerow([fname, ",".join(labels), mids, split])
    with (truth / "eval.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["fname", "labels", "mids"])
        for fname, labels in evaluation:
            writer.writerow(
                [
                    fname,
                    ",".join(labels),
                    ",".join(f"/m/0{FSD_VOCABULARY.index(n)}" for n in labels),
                ]
            )
    wave = tone(0.3, 44100)
    for fname, _, _ in dev:
        if not (bad and fname == 104):
            sf.write(root / "FSD50K.dev_audio" / f"{fname}.wav", wave, 44100)
    if bad:
        corrupt(root / "FSD50K.dev_audio" / "103.wav")
    for fname, _ in evaluation:
        sf.write(root / "FSD50K.eval_audio" / f"{fname}.wav", wave, 44100)
    return root


# --- Speech Commands v0.02 -------------------------------------------------------------------


def make_speechcommands(root: Path) -> Path:
    """<word>/<speaker>_nohash_<n>.wav, _background_noise_/*.wav, validation/testing lists."""
    words = ["yes", "no", "marvin", "tree"]
    wave = tone(0.5, 16000)
    files = []
    for word in words:
        (root / word).mkdir(parents=True)
        for speaker in ("0a7c2a8d", "0b09edd3", "0c40e715"):
            relative = f"{word}/{speaker}_nohash_0.wav"
            sf.write(root / relative, wave, 16000)
            files.append(relative)
    (root / "_background_noise_").mkdir()
    sf.write(root / "_background_noise_" / "white_noise.wav", tone(10.4, 16000, 1000.0), 16000)
    (root / "_background_noise_" / "README.md").write_text("noise files\n")
    (root / "validation_list.txt").write_text(
        "yes/0b09edd3_nohash_0.wav\nmarvin/0b09edd3_nohash_0.wav\n"
    )
    (root / "testing_list.txt").write_text(
        "yes/0c40e715_nohash_0.wav\ntree/0c40e715_nohash_0.wav\nno/ffffffff_nohash_0.wav\n"
    )
    (root / "LICENSE").write_text("CC-BY-4.0\n")
    return root


# --- URBAN-SED -------------------------------------------------------------------------------


def make_urbansed(root: Path) -> Path:
    """audio/{train,validate,test}/<name>.wav + annotations/<split>/<name>.txt (and .jams)."""
    events = {
        "train": {
            "soundscape_train_uniform0": [
                (0.5, 1.7, "gun_shot"),
                (1.2, 2.3, "jackhammer"),
                (3.0, 4.1, "gun_shot"),
            ],
            "soundscape_train_bimodal1": [(9.1, 10.0, "dog_bark")],
            "soundscape_train_unusual2": [(1.0, 2.0, "laser_blast")],
        },
        "validate": {"soundscape_validate_uniform0": [(2.0, 3.0, "siren")]},
        "test": {
            "soundscape_test_uniform0": [],
            "soundscape_test_uniform1": [(0.0, 9.9, "street_music")],
        },
    }
    wave = tone(0.2, 44100)
    for split, scapes in events.items():
        (root / "audio" / split).mkdir(parents=True)
        (root / "annotations" / split).mkdir(parents=True)
        for name, rows in scapes.items():
            sf.write(root / "audio" / split / f"{name}.wav", wave, 44100)
            lines = "".join(f"{on}\t{off}\t{label}\n" for on, off, label in rows)
            (root / "annotations" / split / f"{name}.txt").write_text(lines)
            (root / "annotations" / split / f"{name}.jams").write_text("{}")
    return root


# --- Hugging Face tables (DESED / SPASS copies, BirdSet) -------------------------------------


def hf_schema_metadata(features: dict) -> dict[bytes, bytes]:
    """The `huggingface` schema metadata `datasets` writes into every Parquet/Arrow table."""
    return {b"huggingface": json.dumps({"info": {"features": features}}).encode()}


AUDIO_FEATURE = {"sampling_rate": None, "decode": True, "_type": "Audio"}
AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def class_label(names: list[str]) -> dict:
    return {"names": names, "_type": "ClassLabel"}


def sequence_of(feature: dict) -> dict:
    return {"feature": feature, "_type": "Sequence"}


DESED_CLASSES = [
    "Alarm_bell_ringing",
    "Blender",
    "Cat",
    "Dishes",
    "Dog",
    "Electric_shaver_toothbrush",
    "Frying",
    "Running_water",
    "Speech",
    "Vacuum_cleaner",
]


def make_desed_arrow(root: Path) -> Path:
    """A `save_to_disk` folder: <split>/data-00000-of-00001.arrow (IPC stream) + dataset_info.json
    + state.json; audio embedded as {bytes, path}, labels a Sequence(ClassLabel)."""
    features = {"audio": AUDIO_FEATURE, "labels": sequence_of(class_label(DESED_CLASSES))}
    splits = {"train": [[0, 2], [4], []], "validation": [[8]], "test": [[1, 9], [3]]}
    for split, label_lists in splits.items():
        (root / split).mkdir(parents=True)
        audio = [
            {
                "bytes": encoded(tone(0.3, 16000, 300 + 100 * i), 16000),
                "path": f"{split}_{i:03d}.wav",
            }
            for i in range(len(label_lists))
        ]
        table = pa.table(
            {
                "audio": pa.array(audio, AUDIO_TYPE),
                "labels": pa.array(label_lists, pa.list_(pa.int64())),
            }
        )
        with pa.ipc.new_stream(root / split / "data-00000-of-00001.arrow", table.schema) as writer:
            writer.write_table(table)
        (root / split / "dataset_info.json").write_text(json.dumps({"features": features}))
        (root / split / "state.json").write_text(
            json.dumps({"_data_files": [{"filename": "data-00000-of-00001.arrow"}]})
        )
    return root


def make_spass_parquet(root: Path) -> Path:
    """Hub-style `data/<split>-00000-of-00001.parquet`, audio as paths to files under audio/ (no
    bytes), labels as lists of class names."""
    (root / "data").mkdir(parents=True)
    (root / "audio").mkdir()
    splits = {
        "train": [["car", "bird"], ["speech"]],
        "validation": [["bird"]],
        "test": [["car"], []],
    }
    for split, label_lists in splits.items():
        audio = []
        for i in range(len(label_lists)):
            name = f"{split}_{i}.wav"
            sf.write(root / "audio" / name, tone(0.3, 16000), 16000)
            audio.append({"bytes": None, "path": name})
        table = pa.table(
            {
                "audio": pa.array(audio, AUDIO_TYPE),
                "labels": pa.array(label_lists, pa.list_(pa.string())),
            }
        ).replace_schema_metadata(
            hf_schema_metadata(
                {
                    "audio": AUDIO_FEATURE,
                    "labels": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "List"},
                }
            )
        )
        pq.write_table(table, root / "data" / f"{split}-00000-of-00001.parquet")
    return root


BIRD_CLASSES = ["amerob", "daejun", "foxspa"]


def make_birdset(root: Path, subset: str = "HSN", recordings: int = 9) -> Path:
    """One subset as the Hub's Parquet files: <SUBSET>/train/0000.parquet (focal recordings with
    detected events) and <SUBSET>/test_5s/0000.parquet (5 s soundscape segments), OGG audio
    embedded as {bytes, path}, ClassLabel names in the schema metadata.

    Recording i is of class i % 3 and has 3 events: two in cluster 0 (at 1 s and 4 s) and one in
    cluster 1, except that recording 0 has no events and recording 1 only noise (-1) events.
    """
    folder = root / subset
    (folder / "train").mkdir(parents=True)
    (folder / "test_5s").mkdir()
    sr = 32000
    label = class_label(BIRD_CLASSES)
    features = {
        "audio": {"sampling_rate": sr, "mono": True, "decode": False, "_type": "Audio"},
        "filepath": {"dtype": "string", "_type": "Value"},
        "start_time": {"dtype": "float64", "_type": "Value"},
        "end_time": {"dtype": "float64", "_type": "Value"},
        "ebird_code": label,
        "ebird_code_multilabel": sequence_of(label),
        "detected_events": sequence_of(sequence_of({"dtype": "float64", "_type": "Value"})),
        "event_cluster": sequence_of({"dtype": "int64", "_type": "Value"}),
    }
    rows = []
    for i in range(recordings):
        events, clusters = [[1.0, 1.5], [4.0, 4.4], [7.0, 7.2]], [0, 0, 1]
        if i == 0:
            events, clusters = [], []
        elif i == 1:
            events, clusters = [[2.0, 2.5], [3.0, 3.5]], [-1, -1]
        path = f"/cache/extracted/{subset}_train_shard_0001/XC{1000 + i}.ogg"
        rows.append(
            {
                "audio": {"bytes": encoded(tone(8.0, sr, 500 + 100 * i), sr, "OGG"), "path": path},
                "filepath": path,
                "start_time": None,
                "end_time": None,
                "ebird_code": i % 3,
                "ebird_code_multilabel": [i % 3],
                "detected_events": events,
                "event_cluster": clusters,
            }
        )
    schema = pa.schema(
        [
            ("audio", AUDIO_TYPE),
            ("filepath", pa.string()),
            ("start_time", pa.float64()),
            ("end_time", pa.float64()),
            ("ebird_code", pa.int64()),
            ("ebird_code_multilabel", pa.list_(pa.int64())),
            ("detected_events", pa.list_(pa.list_(pa.float64()))),
            ("event_cluster", pa.list_(pa.int64())),
        ],
        metadata=hf_schema_metadata(features),
    )
    pq.write_table(
        pa.Table.from_pylist(rows, schema), folder / "train" / "0000.parquet", row_group_size=4
    )
    test = []
    for k, labels in enumerate([[0], [0, 2], [], [1], [2]]):
        path = f"/cache/extracted/{subset}_test5s_shard_0001/{subset}_001_20150708_061805_{5 * k:03d}_{5 * k + 5:03d}.ogg"
        test.append(
            {
                "audio": {"bytes": encoded(tone(5.0, sr, 2000 + 100 * k), sr, "OGG"), "path": path},
                "filepath": path,
                "start_time": 5.0 * k,
                "end_time": 5.0 * k + 5,
                "ebird_code": None,
                "ebird_code_multilabel": labels,
                "detected_events": None,
                "event_cluster": None,
            }
        )
    pq.write_table(
        pa.Table.from_pylist(test, schema), folder / "test_5s" / "0000.parquet", row_group_size=2
    )
    return root


# --- generic manifest ------------------------------------------------------------------------


def make_manifest(root: Path, fmt: str) -> Path:
    """manifest.<fmt> beside audio/: a missing file, an unknown split and a segment row included."""
    (root / "audio").mkdir(parents=True)
    for name in ("a", "b", "c", "long"):
        sf.write(root / "audio" / f"{name}.wav", tone(2.0 if name == "long" else 0.2, 16000), 16000)
    rows = [
        {"path": "audio/a.wav", "labels": ["dog"], "split": "train", "fold": 1},
        {"path": "audio/b.wav", "labels": ["dog", "cat"], "split": "valid", "fold": 2},
        {"path": "audio/c.wav", "labels": [], "split": "test", "fold": 3},
        {
            "path": "audio/long.wav",
            "labels": ["cat"],
            "split": "train",
            "fold": 1,
            "start": 0.5,
            "duration": 1.0,
            "clip_id": "long-seg",
        },
        {"path": "audio/gone.wav", "labels": ["cat"], "split": "train", "fold": 1},
        {
            "path": "audio/a.wav",
            "labels": ["cat"],
            "split": "holdout",
            "fold": 1,
            "clip_id": "a-other",
        },
    ]
    for row in rows:
        row.setdefault("start", None)
        row.setdefault("duration", None)
        row.setdefault("clip_id", None)
    if fmt == "csv":
        with (root / "manifest.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        **row,
                        "labels": ";".join(row["labels"]),
                        **{
                            k: "" if row[k] is None else row[k]
                            for k in ("start", "duration", "clip_id")
                        },
                    }
                )
    elif fmt == "jsonl":
        (root / "manifest.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        pq.write_table(pa.Table.from_pylist(rows), root / "manifest.parquet")
    return root
