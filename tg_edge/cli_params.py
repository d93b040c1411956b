"""Click options and parameter types shared by several commands: verbosity, how a model loads, terms."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .load_options import LoadOptions
from .prompts import PROFILES

F = TypeVar("F", bound=Callable[..., Any])  # a click command function


def _configure_logging(verbose: int) -> None:
    """Log on stderr: warnings by default, -v info, -vv debug (with llama.cpp's own log)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    logger = logging.getLogger("tg_edge")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: int) -> None:
    # Before or after the subcommand's name, -v counts the same; the larger count wins.
    root = ctx.find_root()
    root.meta["tg_edge.verbose"] = max(root.meta.get("tg_edge.verbose", 0), value)
    _configure_logging(root.meta["tg_edge.verbose"])


def verbose_option(command: F) -> F:
    """``-v/--verbose`` on a command: the group's option, accepted after the subcommand's name too."""
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbosity,
        help="More log output on stderr (-vv for llama.cpp's own log).",
    )(command)


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
GPU_LAYERS_OPTION = click.option("gpu_layers", "--gpu-layers", type=GPU_LAYERS, help=GPU_LAYERS_HELP)


MODEL = click.option(
    "model",
    "-m",
    "--model",
    envvar="TG_EDGE_MODEL",
    help="GGUF file or model name [env TG_EDGE_MODEL; default: the demo model].",
)
PROMPT_PROFILE = click.option(
    "prompt_profile",
    "--prompt-profile",
    type=click.Choice(PROFILES),
    help="Force a prompt profile instead of detecting it from the GGUF.",
)
THREADS = click.option(
    "--threads",
    type=Threads(),
    help="CPU threads, or auto [default: auto: the CPUs this process may use (affinity and cgroup "
    "CPU quota; `tg-edge doctor` shows them), fewer while other processes take cores].",
)
CTX = click.option(
    "n_ctx",
    "--ctx",
    type=click.IntRange(min=256),
    default=4096,
    show_default=True,
    help="Context size in tokens.",
)
PARALLEL = click.option(
    "--parallel",
    type=click.IntRange(min=1, max=255),
    help="Segments decoded at once as parallel sequences [default: 16 on CPU, 64 on GPU, within --ctx].",
)
KV_TYPE = click.option(
    "kv_type",
    "--kv-type",
    type=click.Choice(["f16", "q8_0"]),
    default="f16",
    show_default=True,
    help="The KV cache's element type: q8_0 takes half the memory (for long documents).",
)
MMPROJ = click.option(
    "mmproj",
    "--mmproj",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The vision projector GGUF for images [default: the mmproj GGUF beside the model].",
)


LOAD_OPTIONS = {
    "model": MODEL,
    "prompt_profile": PROMPT_PROFILE,
    "threads": THREADS,
    "gpu_layers": GPU_LAYERS_OPTION,
    "n_ctx": CTX,
    "parallel": PARALLEL,
    "kv_type": KV_TYPE,
    "mmproj": MMPROJ,
}
"""The options of :class:`~tg_edge.load_options.LoadOptions`, by field name, in the order help shows them."""


def load_options(*fields: str) -> Callable[[F], F]:
    """How a command loads its model, alike on every command: the options of ``fields`` (default: all of
    :data:`LOAD_OPTIONS`: -m/--model, --prompt-profile, --threads, --gpu-layers, --ctx, --parallel, --kv-type,
    --mmproj), handed to the command as one :class:`~tg_edge.load_options.LoadOptions` named ``load``."""
    names = fields or tuple(LOAD_OPTIONS)

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def with_load(*args: Any, **kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name in names}
            return command(*args, load=LoadOptions(**given), **kwargs)

        for name in reversed(names):
            with_load = LOAD_OPTIONS[name](with_load)
        return with_load  # type: ignore[return-value]  # the command, its load options gathered

    return decorate


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
