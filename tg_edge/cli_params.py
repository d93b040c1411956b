"""Click parameter types shared by several commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])  # a click command function


class GpuLayers(click.ParamType):
    """``--gpu-layers``: ``auto`` (as many layers as fit the GPU's free memory), -1 (all) or a count."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        if isinstance(value, int) or value == "auto":
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        try:
            number = int(text)
        except ValueError:
            self.fail(f"{value!r} is neither a number of layers nor auto", param, ctx)
        if number < -1:
            self.fail(f"{number} layers: give a count, -1 for all, or auto", param, ctx)
        return number


class Threads(click.ParamType):
    """``--threads``: a count, or ``auto`` (``None``: the CPUs this process may use, see tg_edge.machine)."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | None:
        if value is None or isinstance(value, int) and value >= 1:
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return None
        try:
            number = int(text)
        except ValueError:
            self.fail(f"{value!r} is neither a number of threads nor auto", param, ctx)
        if number < 1:
            self.fail(f"{number} threads: give 1 or more, or auto", param, ctx)
        return number


GPU_LAYERS = GpuLayers()
GPU_LAYERS_HELP = (
    "Layers to offload to the GPU: a count, -1 for all, or auto for as many as fit its free memory "
    "[default: auto with a GPU backend, else 0]."
)


def engine_options(command: F) -> F:
    """``--threads``, ``--gpu-layers`` and ``--ctx``: how a command loads its model, alike on every command."""
    for option in reversed(
        (
            click.option(
                "--threads",
                type=Threads(),
                help="CPU threads, or auto [default: auto: the CPUs this process may use (affinity and cgroup "
                "CPU quota; `tg-edge doctor` shows them), fewer while other processes take cores].",
            ),
            click.option("gpu_layers", "--gpu-layers", type=GPU_LAYERS, help=GPU_LAYERS_HELP),
            click.option(
                "n_ctx",
                "--ctx",
                type=click.IntRange(min=256),
                default=4096,
                show_default=True,
                help="Context size in tokens.",
            ),
        )
    ):
        command = option(command)
    return command


PARALLEL = click.option(
    "--parallel",
    type=click.IntRange(min=1, max=255),
    help="Segments decoded at once as parallel sequences [default: 16 on CPU, 64 on GPU, within --ctx].",
)
"""``--parallel``, for the commands that decode documents."""

MMPROJ = click.option(
    "mmproj",
    "--mmproj",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The vision projector GGUF for images [default: the mmproj GGUF beside the model].",
)
"""``--mmproj``, for the commands that translate images."""


def terms_options(command: F) -> F:
    """``--glossary``, ``--keep`` and ``--keep-file``: the terms a translation must use or keep."""
    for option in reversed(
        (
            click.option(
                "glossary_files",
                "--glossary",
                multiple=True,
                type=click.Path(dir_okay=False, path_type=Path),
                metavar="FILE",
                help="TSV or CSV of source<TAB>target terms the translation must use (repeatable; a header "
                "line of two language codes limits a file to that pair). See docs/terminology.md.",
            ),
            click.option(
                "keep_terms",
                "--keep",
                multiple=True,
                metavar="TERM",
                help="A term never translated, kept verbatim (repeatable).",
            ),
            click.option(
                "keep_files",
                "--keep-file",
                multiple=True,
                type=click.Path(dir_okay=False, path_type=Path),
                metavar="FILE",
                help="A file of terms never translated, one per line (repeatable).",
            ),
        )
    ):
        command = option(command)
    return command
