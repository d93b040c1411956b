"""``tg-edge translate --ray``: one JSONL or Parquet dataset on Ray (:mod:`tg_edge.distributed`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import print_summary, usage_errors

if TYPE_CHECKING:
    from ..jobs import JobOptions
    from ..load_options import LoadOptions


def translate_dataset(
    inputs: tuple[Path, ...],
    output_path: str | None,
    options: JobOptions,
    load: LoadOptions,
    *,
    address: str,
    replicas: int | None,
    gpus_per_replica: float,
) -> None:
    """The dataset translated exactly once per record; the run's counts and a file job's summary on stderr."""
    from ..distributed import RayOptions, require_ray
    from ..distributed import translate_dataset as translate_on_ray
    from ..errors import TranslationIncomplete
    from ..jobs import check_job

    require_ray()  # before any other check: without the extra, --ray says how to install it
    if len(inputs) != 1 or output_path is None or inputs[0].is_dir() or output_path.endswith(("/", "\\")):
        raise click.UsageError("--ray translates one dataset file: give -i FILE and -o FILE")
    if options.format not in (None, "jsonl"):
        raise click.UsageError("--ray translates JSONL or Parquet datasets (--format jsonl, or by extension)")
    with usage_errors():
        check_job(options, [(inputs[0], Path(output_path))], dataset=True)
    cluster = RayOptions(None if address == "local" else address, replicas, gpus_per_replica, load.threads)
    try:
        report = translate_on_ray(inputs[0], output_path, options, load=load, cluster=cluster)
    except KeyboardInterrupt:
        click.echo(
            "Interrupted. Finished blocks are kept: run the same command with --resume to go on.", err=True
        )
        sys.exit(130)
    except TranslationIncomplete as exc:  # --strict: the dataset is written all the same
        print_summary(exc.report)  # type: ignore[arg-type]  # a dataset job's error carries its report
        raise
    per_actor = ", ".join(f"{name} {count}" for name, count in sorted(report.replicas.items()))
    click.echo(
        f"{report.records} records in {report.blocks} blocks ({report.resumed} resumed) on "
        f"{report.replica_count} replicas in {report.seconds:.1f} s"
        + (f"; blocks per actor: {per_actor}" if per_actor else "")
        + ".",
        err=True,
    )
    print_summary(report)
