"""What is installed: the GGUF files ``--model`` can name (pulled into the HF cache, or in tg-edge's home), removal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .. import gguf_keys
from ..errors import ModelError
from .catalog import CATALOG, catalog_entry, catalog_entry_for_repo
from .demo import DEMO_ALIASES, DEMO_DESCRIPTION, DEMO_MODEL, demo_file_name, demo_installed
from .hfcache import delete_cached, pulled_files
from .home import own_models_dir
from .spec import is_projector, pulled_name, quant_of_filename, same_repo, split_quant

log = logging.getLogger("tg_edge.models")


@dataclass(frozen=True)
class ModelInfo:
    """A model tg-edge can name: its short name and what it is."""

    name: str
    description: str
    installed: bool


@dataclass(frozen=True)
class InstalledModel:
    """A GGUF file on this machine that ``--model`` can name."""

    name: str
    """What ``--model`` takes: a catalog name or hub repository id with ``:QUANT``, or the demo name."""
    path: Path
    size: int
    quant: str
    """The quant type in the file's GGUF header (``general.file_type``)."""
    profile: str
    """The prompt profile the file's metadata selects."""
    repo: str | None = None
    revision: str | None = None


def available_models() -> list[ModelInfo]:
    """The short names that :func:`~tg_edge.models.resolve_model` accepts: the demo model and the catalog."""
    pulled = [f.repo for f in pulled_files()]
    return [
        ModelInfo(DEMO_MODEL, DEMO_DESCRIPTION, demo_installed()),
        *(ModelInfo(e.name, e.description, any(same_repo(e.repo, r) for r in pulled)) for e in CATALOG),
    ]


def installed_models() -> list[InstalledModel]:
    """Every GGUF file ``--model`` can name: pulled into the HF cache, or kept in tg-edge's own directory.

    Quant and prompt profile come from each file's GGUF header; a file whose header cannot be read
    (cut short, not GGUF) is left out with a warning.
    """
    out: list[InstalledModel] = []
    for pulled in pulled_files():
        entry = catalog_entry_for_repo(pulled.repo)
        described = describe(pulled.path)
        if described is not None:
            name = pulled_name(entry.name if entry else pulled.repo, pulled.quant)
            out.append(
                InstalledModel(name, pulled.path, pulled.size, *described, pulled.repo, pulled.revision)
            )
    own = own_models_dir()
    for path in sorted(own.glob("*.gguf")) if own.is_dir() else []:
        described = describe(path)
        if described is not None:
            name = DEMO_MODEL if demo_installed() and path.name == demo_file_name() else str(path)
            out.append(InstalledModel(name, path, path.stat().st_size, *described))
    return out


def find_pulled(repo: str, quant: str | None = None, *, default_quant: str | None = None) -> Path | None:
    """The pulled GGUF file of hub repository ``repo`` in quant ``quant``, or ``None``.

    Without a quant: ``default_quant`` if pulled, else the only quant pulled; several quants and
    none named is an error that lists them.
    """
    files = [f for f in pulled_files() if same_repo(f.repo, repo)]
    if quant is not None:
        chosen = [f for f in files if f.quant.upper() == quant.upper()]
    else:
        by_default = [f for f in files if default_quant and f.quant.upper() == default_quant.upper()]
        quants = sorted({f.quant for f in files})
        if not by_default and len(quants) > 1:
            raise ModelError(
                f"several quants of {repo} are pulled ({', '.join(quants)}): name one, e.g. {repo}:{quants[0]}"
            )
        chosen = by_default or files
    if not chosen:
        return None
    return max(chosen, key=lambda f: f.path.lstat().st_mtime).path  # the newest revision's


def remove_models(spec: str) -> list[InstalledModel]:
    """Delete the installed files ``spec`` (``NAME[:QUANT]``, a repo id, or the demo name) names; returns them."""
    base, quant = split_quant(spec)
    if base in DEMO_ALIASES:
        doomed = [m for m in installed_models() if m.name == DEMO_MODEL]
        for model in doomed:
            model.path.unlink(missing_ok=True)
        return doomed
    entry = catalog_entry(base)
    repo = entry.repo if entry is not None else base
    doomed = [
        m
        for m in installed_models()
        if m.repo is not None
        and same_repo(m.repo, repo)
        and (quant is None or (quant_of_filename(m.path.name) or "") == quant)
    ]
    delete_cached([m.path for m in doomed])
    # A vision projector goes with the last model of its folder (pull fetched it for them).
    kept = {m.path.parent for m in installed_models()}
    orphans = [
        p
        for folder in {m.path.parent for m in doomed} - kept
        if folder.is_dir()
        for p in folder.iterdir()
        if is_projector(p.name)
    ]
    delete_cached(orphans)
    return doomed


def describe(path: Path) -> tuple[str, str] | None:
    """Quant type and prompt profile of a GGUF file, from its header; ``None`` (logged) when unreadable."""
    from ..gguf_header import quant_name, read_header
    from ..prompts import detect_profile

    try:
        header = read_header(path)
    except ModelError as exc:
        log.warning("skipping %s: %s", path, exc)
        return None
    strings = {key: value for key, value in header.metadata.items() if isinstance(value, str)}
    return quant_name(header.metadata.get(gguf_keys.FILE_TYPE), path), detect_profile(strings)
