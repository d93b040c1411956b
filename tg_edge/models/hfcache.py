"""The Hugging Face cache, through huggingface_hub's own helpers: where it is, its GGUF files, deleting them.

Pulled models live in the standard HF cache (``HF_HUB_CACHE``, ``HF_HOME``), so files other tools
downloaded are found too and nothing is stored twice. huggingface_hub reads those variables (and
``HF_HUB_OFFLINE``) once, when it is first imported; tg-edge follows it rather than reading them again.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .spec import is_projector, quant_of_filename

log = logging.getLogger("tg_edge.models")


@dataclass(frozen=True)
class PulledFile:
    """A GGUF model file in the HF cache: one snapshot entry of one revision of a hub repository."""

    repo: str
    revision: str
    path: Path
    size: int
    quant: str
    """The quant its file name states, ``"unknown"`` when it states none."""


def hub_cache_dir() -> Path:
    """The Hugging Face cache directory (``huggingface_hub.constants.HF_HUB_CACHE``)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE).resolve()


def offline_mode() -> bool:
    """Whether huggingface_hub is in offline mode (``HF_HUB_OFFLINE`` set to 1, true, yes or on)."""
    from huggingface_hub import constants

    return constants.is_offline_mode()


def pulled_files() -> list[PulledFile]:
    """Every GGUF model file (no vision projectors) of the model repositories in the HF cache."""
    cache = _scan()
    if cache is None:
        return []
    out = []
    for repo in sorted(cache.repos, key=lambda r: r.repo_path):
        if repo.repo_type != "model" or "/" not in repo.repo_id:  # `--model` names only OWNER/NAME repos
            continue
        for revision in sorted(repo.revisions, key=lambda r: r.commit_hash):
            for file in sorted(revision.files, key=lambda f: f.file_path):
                if file.file_name.lower().endswith(".gguf") and not is_projector(file.file_name):
                    quant = quant_of_filename(file.file_name) or "unknown"
                    out.append(
                        PulledFile(
                            repo.repo_id, revision.commit_hash, file.file_path, file.size_on_disk, quant
                        )
                    )
    return out


def delete_cached(paths: list[Path]) -> None:
    """Delete files of the HF cache (snapshot entries) with huggingface_hub's delete strategies.

    A blob goes only when no other cached file links it; a revision left empty goes too, with its
    refs, and a repository left without revisions goes whole, so the cache stays consistent.
    """
    wanted = {_entry_key(path) for path in paths}
    cache = _scan()
    if cache is None or not wanted:
        return
    doomed = {
        file
        for repo in cache.repos
        for revision in repo.revisions
        for file in revision.files
        if _entry_key(file.file_path) in wanted
    }
    touched = {
        revision.commit_hash
        for repo in cache.repos
        for revision in repo.revisions
        if not doomed.isdisjoint(revision.files)
    }
    cache.delete_files(*doomed).execute()
    cache = _scan()
    if cache is None:
        return
    emptied = [
        revision.commit_hash
        for repo in cache.repos
        for revision in repo.revisions
        if revision.commit_hash in touched and not revision.files
    ]
    if emptied:
        cache.delete_revisions(*emptied).execute()


def _scan():
    """huggingface_hub's scan of the cache, or ``None`` when there is no cache yet."""
    cache_dir = hub_cache_dir()
    if not cache_dir.is_dir():
        return None
    from huggingface_hub import scan_cache_dir

    info = scan_cache_dir(cache_dir)
    for problem in info.warnings:
        # Only model repositories concern tg-edge; other odd entries (an old version.txt) are not news.
        level = logging.WARNING if f"{os.sep}models--" in str(problem) else logging.DEBUG
        log.log(level, "skipping a damaged entry of the Hugging Face cache: %s", problem)
    return info


def _entry_key(path: Path) -> Path:
    """A snapshot entry's path with its folder resolved but the entry itself (a symlink) not followed."""
    return Path(path).parent.resolve() / Path(path).name
