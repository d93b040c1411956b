"""Translating datasets on a Ray cluster (the optional ``ray`` extra): Ray Data blocks → Translator actors →
shards written once each → the output in input order. Nothing here imports Ray until a job runs.

    from tg_edge.distributed import RayOptions, translate_dataset
    from tg_edge.jobs import JobOptions
    from tg_edge.load_options import LoadOptions

    translate_dataset("data.parquet", "out.parquet", JobOptions(source="en", target="ar", fields="instruction,output"),
                      load=LoadOptions(model="translategemma-4b"), cluster=RayOptions(address="auto"))
"""

from .cluster import RAY_INSTALL, RayMissing, RayOptions, plan_replicas, require_ray
from .job import translate_dataset
from .report import BlockDone, DatasetReport

__all__ = [
    "RAY_INSTALL",
    "BlockDone",
    "DatasetReport",
    "RayMissing",
    "RayOptions",
    "plan_replicas",
    "require_ray",
    "translate_dataset",
]
