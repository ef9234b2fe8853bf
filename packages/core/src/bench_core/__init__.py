"""Shared foundation of the bench workspace: typed YAML configs and user-facing errors."""

from bench_core.config import Config, config_dir, list_configs, load_config, load_named_config
from bench_core.errors import BenchError, ConfigError, MissingResourceError
from bench_core.paths import bench_home, default_store_uri
from bench_core.ray_runtime import ensure_ray
from bench_core.version import code_version

__all__ = [
    "BenchError",
    "Config",
    "ConfigError",
    "MissingResourceError",
    "bench_home",
    "code_version",
    "config_dir",
    "default_store_uri",
    "ensure_ray",
    "list_configs",
    "load_config",
    "load_named_config",
]
