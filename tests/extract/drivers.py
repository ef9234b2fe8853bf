"""Extraction drivers that tests run as separate processes (python -m tests.extract.drivers ...).

`killed`: joins the test's Ray session, extracts, and SIGKILLs itself once `--kill-after` clips
have reached it (some committed, more in flight): a driver dying mid-run, with no cleanup.

`cluster`: starts its own two-node Ray cluster (head + one worker node, each with its own raylet,
all on 127.0.0.1), extracts through it with one encoder actor per node, prints a JSON summary and
shuts the cluster down. It runs in its own process because a process holds one Ray session, and
the test process already holds the shared one.
"""

from __future__ import annotations

import argparse
import json
import os
import signal

from bench_audio import DatasetConfig
from bench_extract import ExtractOptions, extract
from bench_store import TokenStore


def killed(args: argparse.Namespace) -> None:
    import ray

    ray.init(address=args.address, log_to_driver=False)

    def progress(done: int, total: int) -> None:
        if done >= args.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    extract(
        DatasetConfig.model_validate_json(args.dataset),
        "eat",
        store=TokenStore(args.store),
        random_weights=True,
        preset="tiny",
        options=ExtractOptions(batch_size=4, write_every=4, commit_seconds=0),
        address=args.address,
        progress=progress,
    )
    raise SystemExit("finished before it was killed")


def cluster(args: argparse.Namespace) -> None:
    import ray
    from ray.cluster_utils import Cluster

    nodes = Cluster(
        initialize_head=True,
        head_node_args={
            "num_cpus": 3,
            "object_store_memory": 256 << 20,
            "include_dashboard": False,
        },
    )
    try:
        nodes.add_node(num_cpus=3, object_store_memory=256 << 20)
        nodes.wait_for_nodes()
        ray.init(address=nodes.address, log_to_driver=False)
        summary = extract(
            DatasetConfig.model_validate_json(args.dataset),
            "eat",
            store=TokenStore(args.store),
            random_weights=True,
            preset="tiny",
            # 2 of a node's 3 CPUs per actor: one encoder actor on each node, a CPU each for tasks
            options=ExtractOptions(
                batch_size=4, num_actors=2, cpus_per_actor=2, write_every=8, commit_seconds=0
            ),
            address=nodes.address,
        )
        alive = [node["NodeID"] for node in ray.nodes() if node["Alive"]]
        print(
            json.dumps(
                {
                    "cluster_nodes": alive,
                    "encoded_on": summary.nodes,
                    "written": summary.written,
                    "failed": sorted(f["clip_id"] for f in summary.failures),
                }
            )
        )
    finally:
        ray.shutdown()
        nodes.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["killed", "cluster"])
    parser.add_argument("--dataset", required=True, help="DatasetConfig as JSON")
    parser.add_argument("--store", required=True)
    parser.add_argument("--address")
    parser.add_argument("--kill-after", type=int, default=0)
    args = parser.parse_args()
    {"killed": killed, "cluster": cluster}[args.mode](args)


if __name__ == "__main__":
    main()
