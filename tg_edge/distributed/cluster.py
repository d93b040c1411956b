"""Where a dataset job runs: Ray's address, how many Translator actors, and what each one holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType

from ..errors import TgEdgeError

RAY_INSTALL = "pip install 'tg-edge[ray]'"


class RayMissing(TgEdgeError):
    """``--ray`` without Ray installed."""

    exit_code = 2


@dataclass(frozen=True)
class RayOptions:
    """The Ray cluster of a dataset job and its pool of Translator actors (replicas)."""

    address: str | None = None
    """A running cluster (``auto``, ``ray://HOST:10001``, ``HOST:6379``); ``None`` starts a local Ray."""
    replicas: int | None = None
    """Translator actors; ``None``: as many as the cluster's CPUs (or GPUs) allow."""
    gpus_per_replica: float = 0.0
    threads: int | None = None
    """CPU threads of each replica's llama.cpp (and the CPUs Ray reserves for it); ``None``: chosen from the cluster."""


def require_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or :class:`RayMissing` saying how to install it."""
    try:
        import pyarrow  # noqa: F401
        import ray
        import ray.data
    except ImportError as exc:
        raise RayMissing(
            f"--ray needs Ray Data and pyarrow ({exc.name or 'ray'} is missing): {RAY_INSTALL}"
        ) from None
    return ray


def plan_replicas(
    resources: Mapping[str, float],
    options: RayOptions,
    *,
    blocks: int | None = None,
    node_cpus: Sequence[int] | None = None,
) -> tuple[int, int]:
    """(replicas, threads each) for a cluster with ``resources`` (``ray.cluster_resources()``) and nodes of
    ``node_cpus`` CPUs each (one node holding them all when not given).

    On GPUs: one replica per ``gpus_per_replica``, a few CPU threads each. On CPUs: replicas of up to 4 threads
    (never more than a node has) filling the nodes, or the given number of replicas sharing them. Never more
    replicas than ``blocks`` (an idle actor still loads its model). Refuses a pool the cluster cannot hold.
    """
    cpus = int(resources.get("CPU", 0))
    gpus = float(resources.get("GPU", 0))
    nodes = [int(n) for n in node_cpus or [cpus] if n > 0] or [0]
    if options.gpus_per_replica:
        if gpus < options.gpus_per_replica:
            raise TgEdgeError(
                f"--gpus-per-replica {options.gpus_per_replica:g}: the Ray cluster has {gpus:g} GPUs"
            )
        replicas = options.replicas or max(1, int(gpus // options.gpus_per_replica))
        if replicas * options.gpus_per_replica > gpus:
            raise TgEdgeError(
                f"{replicas} replicas × {options.gpus_per_replica:g} GPUs do not fit in the Ray "
                f"cluster's {gpus:g} GPUs: lower --replicas or --gpus-per-replica"
            )
        return replicas, options.threads or max(1, min(4, cpus // replicas))
    if options.replicas:
        replicas = options.replicas
        # the most threads each that still places every replica on some node
        fitting = [
            t
            for t in range(min(max(nodes), cpus // replicas), 0, -1)
            if sum(n // t for n in nodes) >= replicas
        ]
        threads = options.threads or (fitting[0] if fitting else 1)
    else:
        threads = options.threads or max(1, min(4, max(nodes)))
        replicas = max(1, sum(n // threads for n in nodes))
        if blocks is not None:
            replicas = min(replicas, max(1, blocks))
    if replicas > sum(n // threads for n in nodes):
        where = f"{cpus} CPUs" if len(nodes) == 1 else f"nodes of {', '.join(map(str, nodes))} CPUs"
        raise TgEdgeError(
            f"{replicas} replicas × {threads} threads do not fit in the Ray cluster's {where}: "
            "lower --replicas or --threads"
        )
    return replicas, threads
