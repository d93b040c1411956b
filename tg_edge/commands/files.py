"""``tg-edge translate -i FILES`` (or stdin with --format): a file job (:mod:`tg_edge.jobs`), a summary on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..fileio import write_stdout
from .common import loaded_translator, output_file, print_summary, read_input, usage_errors

if TYPE_CHECKING:
    from ..jobs import JobOptions
    from ..load_options import LoadOptions


def translate_files(
    inputs: tuple[Path, ...], output_path: str | None, options: JobOptions, load: LoadOptions
) -> None:
    """Files in their formats (none: stdin in ``options.format``), checked by :func:`~tg_edge.jobs.check_job`
    before the model loads."""
    from ..jobs import FileJob, check_job, plan_job

    planned = plan_job(list(inputs), output_path) if inputs else None
    stdin_out = None if inputs else output_file(output_path)
    with usage_errors():
        check_job(options, planned.pairs if planned is not None else [(None, stdin_out)])
    stdin_text = None if inputs else read_input(None, None)
    with loaded_translator(load) as translator:
        job = FileJob(translator, options)
        try:
            if planned is not None:
                job.run(planned.pairs, passed_over=planned.passed_over)
            else:
                rendered = job.translate_text(stdin_text or "", "<stdin>", stdin_out)  # no inputs: stdin
                if output_path is None:
                    write_stdout(rendered)
                job.check_strict()
        except KeyboardInterrupt:
            click.echo(job.report.kept_note(), err=True)
            sys.exit(130)
        finally:
            print_summary(job.report)
