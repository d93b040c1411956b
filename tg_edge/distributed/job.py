"""The driver of a Ray dataset job: plan the blocks, run them through a pool of Translator actors, keep the shards.

Ray Data reads the pending blocks (one row each) on the driver's node and hands them to an actor
pool (:class:`~tg_edge.distributed.replica.TranslatorReplica`), whose actors Ray restarts when they die
(``max_restarts``), re-running their blocks (``max_task_retries``). The driver writes each finished
block as a shard, once, whatever order blocks finish in and however often a retried one arrives;
when every block is in, the shards become the output in block order.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from .. import errors
from ..errors import InputError, TgEdgeError
from ..fileio import check_output, is_stream
from ..jobs import Flagged, JobOptions, check_job
from ..languages import AUTO, Language, detect_source, is_auto
from ..languages.profiles import accepted_language
from ..load_options import LoadOptions
from .cluster import RayOptions, plan_replicas, require_ray
from .datasets import Block, JsonlDataset, ParquetDataset, Settings, dataset_for, flags_from_json
from .report import BlockDone, DatasetReport
from .shards import ShardStore

log = logging.getLogger("tg_edge.distributed")


def translate_dataset(
    input: str | Path,
    output: str | Path,
    options: JobOptions,
    *,
    load: LoadOptions | None = None,
    cluster: RayOptions | None = None,
    on_block: Callable[[BlockDone], None] | None = None,
    stderr: TextIO | None = None,
) -> DatasetReport:
    """Translate a JSON Lines or Parquet dataset on Ray, exactly once per record, into ``output`` in input order.

    ``options`` are a file job's (languages, ``fields``, ``resume``, ``skip_bad``, ``chunk_records`` per
    block, ...); ``load`` how each actor loads its Translator (``load.model``: a GGUF path or a model name
    each node resolves, or pulls; the threads come from ``cluster``); ``cluster`` where Ray runs and how many
    Translator actors it holds. ``on_block`` sees every block as its shard is written. Uses the Ray this
    process is already connected to, if any.
    """
    ray = require_ray()
    cluster = cluster or RayOptions()
    load = load or LoadOptions()
    source_path, out = Path(input), Path(output)
    if not source_path.is_file():
        raise InputError(f"cannot read {source_path}: no such file")
    check_job(options, [(source_path, out)], dataset=True)
    check_output(out, [source_path])
    if is_stream(out):  # its shards and journal live beside the output: a device or pipe has no such place
        raise InputError(f"{out} is a device or pipe, and a dataset is written to a file: give -o FILE")
    dataset = dataset_for(source_path, options.fields or "", options.format)
    if isinstance(dataset, ParquetDataset):
        dataset.check()
    started = time.perf_counter()
    for language in (options.target, options.source):  # an unknown language fails here, before Ray starts
        if not is_auto(language):
            _code(language)
    blocks = dataset.plan(options.chunk_records, options.chunk_chars)
    local = cluster.address is None and not ray.is_initialized()
    if local:  # this machine is every node: a missing model fails now, not in each actor
        from ..models import resolve_model

        load = replace(load, model=str(resolve_model(load.model)))
    store = ShardStore(
        out,
        fingerprint=_fingerprint(dataset, source_path, options, load.model),
        blocks=len(blocks),
        suffix=dataset.shard_suffix,
    )
    done = store.open(resume=options.resume)
    report = DatasetReport(blocks=len(blocks))
    report.resumed = sum(block.count for block in blocks if block.index in done)
    report.records = sum(block.count for block in blocks)
    pending = [block for block in blocks if block.index not in done]
    if pending:
        settings = Settings(
            fields=options.fields or "",
            source=_source(dataset, blocks, options),
            target=_code(options.target),
            options=replace(options.translation, strict=False) if options.translation else None,
            skip_bad=options.skip_bad,
            chunk_segments=options.chunk_segments,
            chunk_chars=options.chunk_chars,
            name=str(source_path),
        )
        with _ray_session(ray, cluster.address):
            _run(
                ray,
                dataset,
                pending,
                store,
                report,
                settings,
                load,
                cluster,
                options,
                on_block,
                stderr or sys.stderr,
            )
    store.finish(dataset.assemble)
    report.written.append(out)
    report.seconds = time.perf_counter() - started
    report.check_strict(options.translation is not None and options.translation.strict)
    return report


def _run(
    ray,
    dataset,
    pending: list[Block],
    store: ShardStore,
    report: DatasetReport,
    settings: Settings,
    load: LoadOptions,
    cluster: RayOptions,
    options: JobOptions,
    on_block: Callable[[BlockDone], None] | None,
    stderr: TextIO,
) -> None:
    from ray.data import ActorPoolStrategy, DataContext

    from .replica import TranslatorReplica
    from .source import BlockSource

    nodes = [int(node["Resources"].get("CPU", 0)) for node in ray.nodes() if node.get("Alive")]
    replicas, threads = plan_replicas(ray.cluster_resources(), cluster, blocks=len(pending), node_cpus=nodes)
    report.replica_count = replicas
    log.info(
        "translating %d blocks on %d replicas (%d threads%s each)",
        len(pending),
        replicas,
        threads,
        f", {cluster.gpus_per_replica:g} GPU" if cluster.gpus_per_replica else "",
    )
    context = DataContext.get_current()
    shown, ray_log = context.enable_progress_bars, logging.getLogger("ray.data")
    level = ray_log.level
    context.enable_progress_bars = False  # the job's own bar counts records
    ray_log.setLevel(logging.ERROR)  # Ray Data's execution notes would interleave with it
    try:
        source = BlockSource(dataset, pending)
        # Each read task's rows are split into one Ray block per row (per dataset block): an actor task then
        # holds one block, and the pool shares them out one by one.
        data = ray.data.read_datasource(
            source, num_cpus=0, override_num_blocks=source.row_slots()
        ).map_batches(
            TranslatorReplica,
            batch_size=1,
            batch_format="pyarrow",
            fn_constructor_kwargs={
                "load": replace(load, threads=threads),
                "settings": settings,
                "dataset": dataset,
                "cache_size": options.cache_size,
            },
            compute=ActorPoolStrategy(size=replicas, max_tasks_in_flight_per_actor=2),
            num_cpus=threads,
            num_gpus=cluster.gpus_per_replica or None,
        )
        # closing(): an interrupted job stops Ray Data's execution (and frees the actors) at once
        with _bar(report, options, settings.name, stderr) as bar, closing(_batches(ray, data)) as batches:
            for batch in batches:
                for row in batch.to_pylist():
                    if row["error"] is not None:
                        raise getattr(errors, row["kind"] or "", TgEdgeError)(row["error"])
                    if store.put(row["block"], row["payload"]):
                        _count(report, row, settings.name)
                        bar.update(row["records"])
                        if on_block is not None:
                            on_block(BlockDone(row["block"], row["records"], row["replica"]))
    finally:
        context.enable_progress_bars = shown
        ray_log.setLevel(level)


def _batches(ray, data) -> Generator[Any, None, None]:  # pyarrow RecordBatches
    """The pipeline's output batches; a failure inside Ray becomes tg-edge's own error."""
    try:
        yield from data.iter_batches(batch_size=None, batch_format="pyarrow", prefetch_batches=0)
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, TgEdgeError):
            raise cause from None
        raise TgEdgeError(
            f"the Ray job failed: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}; "
            "finished blocks are kept: run again with --resume"
        ) from exc


def _count(report: DatasetReport, row: dict[str, Any], name: str) -> None:  # a row of Ray's output
    report.segments += row["segments"]
    report.translated += row["translated"]
    report.cached += row["segments"] - row["translated"]
    report.replicas[row["replica"]] = report.replicas.get(row["replica"], 0) + 1
    for line, flag in flags_from_json(row["flags"]):
        report.flagged.append(Flagged(name, line, flag))
    report.skipped.extend(row["skipped"])


@contextmanager
def _ray_session(ray, address: str | None) -> Iterator[None]:
    """Ray for this job: the one this process is connected to, else a local one (``address`` None) or the
    cluster at ``address``, shut down afterwards. Workers get this process's tg-edge code."""
    if ray.is_initialized():
        yield
        return
    import tg_edge

    runtime_env = {"py_modules": [str(Path(tg_edge.__file__).parent)]}
    # A new local cluster gets token authentication, Ray's default, and Ray warns that it did: a line that reads
    # like a failure on every run. The choice is the safe one, so the notice is left out (errors still show).
    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = notice.level
    notice.setLevel(logging.ERROR)
    try:
        if (
            address is None
        ):  # "local": a new Ray on this machine, even where `ray start` runs one (--ray auto)
            ray.init(
                address="local",
                include_dashboard=False,
                logging_level=logging.WARNING,
                runtime_env=runtime_env,
            )
        else:
            ray.init(address=address, logging_level=logging.WARNING, runtime_env=runtime_env)
    finally:
        notice.setLevel(level)
    try:
        yield
    finally:
        ray.shutdown()


def _source(dataset: JsonlDataset | ParquetDataset, blocks: list[Block], options: JobOptions) -> str:
    """The source language's code; ``auto`` is detected once, on the driver, from the first blocks' texts
    (as a file job detects it from its first chunk), so every block is translated from the same language."""
    if not is_auto(options.source):
        return _code(options.source)
    texts: list[str] = []
    settings = Settings(fields=options.fields or "", source="auto", target="")
    for payload in dataset.read(blocks[:4]):
        texts.extend(dataset.texts(payload, settings))
    if not texts:
        return AUTO  # nothing to detect from in the first blocks: each block's own text tells, if it has any
    return detect_source(texts).language.code


def _code(language: Language | str) -> str:
    """A language's code, checked here (an unknown one fails before Ray starts, naming close matches)."""
    return accepted_language(language).code


def _fingerprint(
    dataset: JsonlDataset | ParquetDataset, path: Path, options: JobOptions, model: str | None
) -> str:
    stat = path.stat()
    source = "auto" if is_auto(options.source) else _code(options.source)
    settings = [
        source,
        _code(options.target),
        options.fields or "",
        str(model),
        dataset.name,
        str(path.resolve()),
        str(stat.st_size),
        str(stat.st_mtime_ns),
        str(options.chunk_records),
        str(options.chunk_chars),
    ]
    return hashlib.sha256("\0".join(settings).encode()).hexdigest()


@contextmanager
def _bar(report: DatasetReport, options: JobOptions, name: str, stderr: TextIO):
    from tqdm import tqdm

    disable = None if options.progress is None else not options.progress
    with tqdm(
        total=report.records,
        initial=report.resumed,
        desc=Path(name).name,
        unit="rec",
        file=stderr,
        disable=disable,
        dynamic_ncols=True,
        smoothing=0.1,
    ) as bar:
        yield bar
