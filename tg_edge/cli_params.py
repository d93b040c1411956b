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
                "--threads", type=click.IntRange(min=1), help="CPU threads [default: all usable CPUs]."
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
