"""The cluster definitions in services/ray stay loadable and in step with the pinned Ray."""

from pathlib import Path

import ray
import yaml

SERVICES = Path(__file__).resolve().parents[2] / "services" / "ray"


def test_cluster_definitions_parse_and_pin_our_ray() -> None:
    launcher = yaml.safe_load((SERVICES / "cluster.yaml").read_text())
    assert launcher["head_node_type"] in launcher["available_node_types"]
    assert any("RAY_AUTH_MODE=token" in c for c in launcher["head_start_ray_commands"])
    assert any("RAY_AUTH_MODE=token" in c for c in launcher["worker_start_ray_commands"])

    kuberay = yaml.safe_load((SERVICES / "raycluster.yaml").read_text())
    assert kuberay["kind"] == "RayCluster" and kuberay["spec"]["rayVersion"] == ray.__version__
    assert kuberay["spec"]["authOptions"] == {"mode": "token"}
    for group in [kuberay["spec"]["headGroupSpec"], *kuberay["spec"]["workerGroupSpecs"]]:
        env = {e["name"] for e in group["template"]["spec"]["containers"][0]["env"]}
        assert "BENCH_STORE" in env  # every pod reaches the same store
