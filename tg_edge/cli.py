"""The ``tg-edge`` command line: a thin layer over the Python API. The commands live in :mod:`tg_edge.commands`,
one module each; this is the group that gathers them and turns tg-edge's errors into one line and an exit code."""

from __future__ import annotations

import json

import click

from . import __version__
from .cli_params import verbose_option
from .commands.bench import bench
from .commands.models import models
from .commands.serve import serve
from .commands.translate import translate
from .errors import TgEdgeError
from .languages import supported_languages


class _TgEdgeGroup(click.Group):
    """Turns tg-edge's own errors into one clean line on stderr and the error's exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TgEdgeError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except OSError as exc:  # a file or stream failing mid-way that no check could foresee (a full disk)
            place = f" ({exc.filename})" if exc.filename else ""
            click.echo(f"Error: {exc.strerror or exc}{place}", err=True)
            ctx.exit(1)


@click.group(cls=_TgEdgeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="tg-edge")
@verbose_option
def main() -> None:
    """Offline machine translation with translation LLMs (TranslateGemma and others) through llama.cpp."""


for _command in (translate, serve, bench, models):
    main.add_command(_command)


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False
)
@click.pass_context
def convert(ctx: click.Context) -> None:
    """Convert a Hugging Face checkpoint to GGUF and quantize it (needs the `convert` extra)."""
    try:
        from .convert.cli import main as convert_main
    except ImportError as exc:
        raise TgEdgeError(
            f"conversion needs the convert extra ({exc.name} is missing): "
            "pip install torch==2.13.0 'tg-edge[convert]'"
        ) from None
    convert_main(args=ctx.args, prog_name="tg-edge convert")


@main.command()
@verbose_option
@click.argument("query", required=False)
@click.option("json_", "--json", is_flag=True, help="Print JSON instead of a table.")
def languages(query: str | None, json_: bool) -> None:
    """List TranslateGemma's language codes, or show what QUERY (a code or a name) resolves to.

    Models with the chat or fewshot prompt profile also accept any other BCP-47 / ISO 639 language
    with a known name (bar: Bavarian, gsw: Swiss German).
    """
    from .languages.profiles import accepted_language

    langs = [accepted_language(query)] if query else supported_languages()
    if json_:
        click.echo(
            json.dumps(
                [{"code": lang.code, "name": lang.name, "table": lang.table} for lang in langs],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    width = max(len(lang.code) for lang in langs)
    for lang in langs:
        click.echo(f"{lang.code:<{width}}  {lang.name}" + (f"  ({lang.table})" if query else ""))
    if not query:
        click.echo(
            "Models with the chat or fewshot prompt profile accept any other BCP-47 language too "
            "(`tg-edge languages bar` shows one).",
            err=True,
        )


@main.command()
@verbose_option
@click.option("json_", "--json", is_flag=True, help="Print JSON instead of text.")
@click.option(
    "n_ctx",
    "--ctx",
    type=click.IntRange(min=256),
    default=4096,
    show_default=True,
    help="Context size the models are fitted with.",
)
def doctor(json_: bool, n_ctx: int) -> None:
    """Check this machine: the llama.cpp build (backends, CPU features, GPU offload), the CPU threads tg-edge
    uses, RAM and GPU memory, the model store, and which catalog model fits at which quant, and how (every
    layer on the GPU, partly, CPU only), from the file sizes, the KV cache and llama.cpp's compute buffers."""
    from .doctor import diagnose, render

    report = diagnose(n_ctx=n_ctx)
    click.echo(json.dumps(report, indent=2) if json_ else render(report), nl=json_)
