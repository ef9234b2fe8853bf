"""Connecting to Ray the same way everywhere: an existing session, a cluster, or a local runtime.

`address` (or $RAY_ADDRESS) selects a cluster, e.g. `ray://head:10001`; with neither, a local Ray
starts with the given resources. Ray is imported lazily so packages without Ray never pay for it.
"""

from __future__ import annotations

import logging
import os
from typing import Any


def ensure_ray(
    address: str | None = None,
    num_cpus: int | None = None,
    object_store_memory: int | None = None,
) -> dict[str, Any]:
    """Initialise Ray once per process; returns the cluster's resources."""
    import ray

    if not ray.is_initialized():
        address = address or os.environ.get("RAY_ADDRESS")
        common = {"logging_level": logging.WARNING, "log_to_driver": False}
        if address:
            ray.init(address=address, **common)
        else:
            # a local runtime serves this process only: keep it on 127.0.0.1 (with this set to 0,
            # Ray uses the loopback address instead of the machine's network address)
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            ray.init(
                num_cpus=num_cpus,
                object_store_memory=object_store_memory,
                include_dashboard=False,
                **common,
            )
    import ray.data

    # bench draws its own progress bars; Ray Data's would interleave with them
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return dict(ray.cluster_resources())
