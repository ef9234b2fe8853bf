from pathlib import Path

import pytest

from bench_audio import DatasetConfig, load_dataset_config
from bench_core import ConfigError, list_configs, load_config
from bench_encoders import BackboneConfig
from bench_probes import PoolingConfig, SearchConfig, load_search_config


def test_every_shipped_config_validates() -> None:
    models = {
        "datasets": DatasetConfig,
        "backbones": BackboneConfig,
        "poolings": PoolingConfig,
        "search": SearchConfig,
    }
    from bench_core import load_named_config

    for kind, model in models.items():
        names = list_configs(kind)
        assert names, f"no {kind} configs shipped"
        for name in names:
            assert load_named_config(kind, name, model).name == name


def test_unknown_key_is_rejected_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nreader: esc50\nclip_secs: 5\n")
    with pytest.raises(ConfigError, match="clip_secs"):
        load_config(path, DatasetConfig)


def test_wrong_type_names_field_and_file(tmp_path: Path) -> None:
    path = tmp_path / "search.yaml"
    path.write_text(
        "name: s\nlr: {low: 1e-3, high: 1e-1}\nweight_decay: {low: 1e-5, high: 1e-4}\ntrials: many\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(path, SearchConfig)
    assert "trials" in str(error.value) and "search.yaml" in str(error.value)


def test_inverted_range_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "search.yaml"
    path.write_text("name: s\nlr: {low: 1e-1, high: 1e-3}\nweight_decay: {low: 1e-5, high: 1e-4}\n")
    with pytest.raises(ConfigError, match="must be below"):
        load_config(path, SearchConfig)


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path, DatasetConfig)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml", DatasetConfig)


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(ConfigError) as error:
        load_dataset_config("esc5O")
    assert "esc50" in str(error.value)


def test_search_default_is_the_papers_protocol() -> None:
    search = load_search_config("default")
    assert (search.trials, search.startup_trials, search.epochs, search.batch_size) == (
        50,
        25,
        30,
        128,
    )
    assert (search.weight_decay.low, search.weight_decay.high) == (1e-5, 5e-4)
    assert search.lr.high >= 3e-2  # prototype heads need 1e-2..3e-2
