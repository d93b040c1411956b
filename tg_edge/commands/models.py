"""``tg-edge models``: list, download and remove models."""

from __future__ import annotations

import json
from collections.abc import Sequence

import click

from ..cli_params import verbose_option


@click.group()
def models() -> None:
    """List, download and remove models."""


@models.command("list")
@verbose_option
@click.option("json_", "--json", is_flag=True, help="Print JSON instead of tables.")
def models_list(json_: bool) -> None:
    """Installed model files (name, quant, prompt profile, size) and the catalog of known models, with the
    quants of each that fit this machine and how fast its default quant would decode here (`tg-edge doctor`
    tells how)."""
    from ..machine import machine
    from ..models import CATALOG, installed_models
    from ..models.fits import catalog_fits, default_context, fit_marks, fitting_quants, speed_here, speeds
    from ..speed import as_json

    installed = installed_models()
    here = machine()
    fits = catalog_fits(
        here.budget, default_context(gpu=bool(here.gpus)), installed=installed, facts=speed_here(here)
    )
    marks, fitting, speed = fit_marks(fits), fitting_quants(fits), speeds(fits)
    if json_:
        click.echo(
            json.dumps(
                {
                    "installed": [
                        {
                            "name": m.name,
                            "path": str(m.path),
                            "size": m.size,
                            "quant": m.quant,
                            "profile": m.profile,
                            "repo": m.repo,
                            "revision": m.revision,
                        }
                        for m in installed
                    ],
                    "catalog": [
                        {
                            "name": e.name,
                            "repo": e.repo,
                            "profile": e.profile,
                            "default_quant": e.default_quant,
                            "quants": list(e.quants),
                            "size_gb": e.size_gb,
                            "description": e.description,
                            "fits": fitting.get(e.name, []),
                            "speed": {quant: as_json(s) for quant, s in speed.get(e.name, {}).items()},
                        }
                        for e in CATALOG
                    ],
                },
                indent=2,
            )
        )
        return
    click.echo("Installed (use with --model NAME):")
    if installed:
        _table(
            [("NAME", "QUANT", "PROFILE", "SIZE", "PATH")]
            + [(m.name, m.quant, m.profile, _size(m.size), str(m.path)) for m in installed]
        )
    else:
        click.echo("  (none: `tg-edge models pull NAME` downloads one)")
    click.echo(
        "\nCatalog (tg-edge models pull NAME[:QUANT]; FITS HERE: the quants this machine runs; SPEED HERE: the "
        "default quant's estimated decode speed):"
    )
    _table(
        [("NAME", "PROFILE", "SIZE", "QUANTS", "FITS HERE", "SPEED HERE", "REPOSITORY", "DESCRIPTION")]
        + [
            (
                e.name,
                e.profile,
                f"{e.size_gb:g} GB",
                ",".join(e.quants),
                marks.get(e.name, "?"),
                speed[e.name][e.default_quant].describe()
                if e.default_quant in speed.get(e.name, {})
                else "-",
                e.repo,
                e.description,
            )
            for e in CATALOG
        ]
    )


@models.command("pull")
@verbose_option
@click.argument("spec", metavar="NAME_OR_REPO[:QUANT]")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--projector/--no-projector",
    default=True,
    show_default=True,
    help="Also fetch the repository's vision projector (mmproj GGUF, for --image), where it has one.",
)
def models_pull(spec: str, quiet: bool, projector: bool) -> None:
    """Download a model into the Hugging Face cache and verify its checksum.

    NAME is a catalog name (`tg-edge models list`), a family (`translategemma`: the largest of its
    models that fits this machine) or a hub repository OWNER/NAME; QUANT picks the file (Q4_K_M by
    default). The vision projector comes along into the same folder. Prints the file's path on stdout.
    """
    from ..models import pull_model

    pulled = pull_model(
        spec, progress=not quiet, report=lambda message: click.echo(message, err=True), projector=projector
    )
    click.echo(
        f"Pulled {pulled.name} ({_size(pulled.size)}, {pulled.quant}, {pulled.profile} profile, "
        f"sha256 verified); translate with --model {pulled.name}",
        err=True,
    )
    click.echo(str(pulled.path))


@models.command("rm")
@verbose_option
@click.argument("spec", metavar="NAME[:QUANT]")
def models_rm(spec: str) -> None:
    """Delete an installed model (every quant of it, unless one is named)."""
    from ..errors import ModelError
    from ..models import remove_models

    removed = remove_models(spec)
    if not removed:
        raise ModelError(f"no installed model matches {spec!r} (`tg-edge models list` shows them)")
    for model in removed:
        click.echo(f"Removed {model.name} ({_size(model.size)}): {model.path}", err=True)


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo(
            "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _size(size: int) -> str:
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.0f} MB"
